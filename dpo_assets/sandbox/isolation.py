"""Linux isolation primitives for the fork server (namespaces, rlimits, credentials, reaping).

Everything here is called either by the fork server (namespaces at start-up, clean-up after
each run) or in a freshly forked sandbox child *before* candidate code runs. Functions that
need privileges raise :class:`OSError` when unavailable; callers decide whether that is fatal
or only recorded.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import resource
import shutil
import signal
import stat
import time
from collections.abc import Iterable

from dpo_assets.sandbox.limits import Limits

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REC = 0x4000
MS_PRIVATE = 0x40000

# World-writable directories that get a private, size-limited tmpfs in the sandbox.
PRIVATE_TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
# Directories replaced by an empty read-only-for-others tmpfs (hides their unix sockets).
HIDDEN_DIRS = ("/run",)
PRIVATE_TMP_BYTES = 256 * 1024**2  # shared by successive runs of one server
OPEN_FILES = 256  # RLIMIT_NOFILE inside the sandbox
# Unprivileged uids (and gids) for sandboxes: far from login users (1000+), system users
# (< 1000, 65534) and typical subordinate-id ranges (100000+, 65536 at a time); one per
# server so servers cannot signal each other's sandboxes or share RLIMIT_NPROC.
SANDBOX_UIDS = range(0x7F000000, 0x7FFF0000)

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    ret = _libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data))
    _check(ret, f"mount {target}")


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), 0, 0, 0), f"prctl({option})")


def isolate_network() -> None:
    """A new, empty network namespace (loopback down): no socket reaches anything."""
    unshare(CLONE_NEWNET)


def private_mounts(tmp_bytes: int = PRIVATE_TMP_BYTES) -> None:
    """A private mount namespace: a fresh size-limited tmpfs over each world-writable
    directory, an empty one over ``/run``, and ``/proc`` remounted with ``hidepid=2``
    (other users' processes, their command lines and environments become invisible).

    Files written outside the scratch directory then either fail (permissions, once the
    uid is dropped) or land in a tmpfs the host never sees (see :func:`clean_private_tmp`).
    """
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    for path in HIDDEN_DIRS:  # e.g. unix sockets of local services (PostgreSQL, D-Bus)
        if os.path.isdir(path) and not os.path.islink(path):
            mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=755")
    for path in PRIVATE_TMP_DIRS:
        if os.path.isdir(path) and not os.path.islink(path):
            # /tmp allows device nodes: only root can make one, and the jail needs /dev/null
            flags = MS_NOSUID if path == "/tmp" else MS_NOSUID | MS_NODEV
            mount("tmpfs", path, "tmpfs", flags, f"size={tmp_bytes},mode=1777")
    with contextlib.suppress(OSError):  # best effort
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")


def clean_private_tmp(keep: str) -> None:
    """Remove whatever a sandbox left in the private tmp directories (except ``keep``)."""
    for path in PRIVATE_TMP_DIRS:
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            if entry.path == keep:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def make_dev_null(root: str) -> None:
    """Create ``<root>/dev/null`` (a character device: needs root and a filesystem with devices)."""
    dev = os.path.join(root, "dev")
    os.mkdir(dev, 0o755)
    null = os.path.join(dev, "null")
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.chmod(null, 0o666)


def pick_free_uid(uids: range = SANDBOX_UIDS) -> int:
    """A random uid from ``uids`` that owns no process now (one per fork server)."""
    rng = random.SystemRandom()
    for _ in range(100):
        uid = rng.choice(uids)
        if count_user_processes(uid) == 0:
            return uid
    raise OSError("no free sandbox uid found")


def user_processes(uid: int) -> list[int]:
    """Pids whose real uid is ``uid`` (what RLIMIT_NPROC counts). Read from ``status``:
    the ``/proc/<pid>`` owner is root for non-dumpable processes such as sandboxes."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Uid:"):
                        if int(line.split()[1]) == uid:
                            pids.append(int(entry.name))
                        break
        except (OSError, ValueError, IndexError):
            continue
    return pids


def count_user_processes(uid: int) -> int:
    """How many processes ``uid`` owns now."""
    return len(user_processes(uid))


def apply_limits(limits: Limits, nproc: int) -> None:
    """Set the sandbox rlimits (CPU gets one second of grace before SIGKILL)."""
    cpu = max(1, int(limits.cpu_seconds))
    for which, value in (
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes)),
        (resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes)),
        (resource.RLIMIT_NPROC, (nproc, nproc)),
        (resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES)),
    ):
        resource.setrlimit(which, value)


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` for good (real, effective and saved ids), no groups."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:  # pragma: no cover - defensive
        raise OSError("privileges were not dropped")


def harden_process() -> None:
    """No privilege gain through execve; die with the fork server."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def redirect_stdio(stdout_fd: int, stderr_fd: int) -> None:
    """stdin from /dev/null; stdout/stderr to the given descriptors (which are closed)."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(stdout_fd, 1)
    os.dup2(stderr_fd, 2)
    for fd in {null, stdout_fd, stderr_fd} - {0, 1, 2}:
        os.close(fd)


def close_fds_except(keep: Iterable[int]) -> None:
    """Close every descriptor above 2 except ``keep``."""
    low = 3
    for fd in sorted(set(keep)):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, resource.getrlimit(resource.RLIMIT_NOFILE)[1])


def become_subreaper() -> None:
    """Orphaned descendants are re-parented to this process, so none can escape a sweep."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def _parent_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def descendants(pid: int) -> set[int]:
    """All live descendants of ``pid`` (zombies included) from a scan of ``/proc``."""
    tree = _parent_map()
    found: set[int] = set()
    stack = list(tree.get(pid, ()))
    while stack:
        child = stack.pop()
        if child not in found:
            found.add(child)
            stack.extend(tree.get(child, ()))
    return found


def _reap_all() -> bool:
    """Reap exited children; True when no child is left at all."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            return False


def kill_descendants(timeout: float = 5.0) -> int:
    """Kill every descendant of this process and reap it; returns how many were signalled.

    Cheap when nothing is left (one ``waitpid``). Otherwise the descendants are stopped
    (a stopped process cannot fork) until the set is stable, then killed; with this process
    a child subreaper, orphans come back to it and are found on the next scan.
    """
    if _reap_all():
        return 0
    me = os.getpid()
    signalled: set[int] = set()
    deadline = time.monotonic() + timeout
    while not _reap_all() and time.monotonic() < deadline:
        stopped: set[int] = set()
        while True:
            fresh = descendants(me) - stopped
            if not fresh:
                break
            for pid in fresh:
                _signal(pid, signal.SIGSTOP)
            stopped |= fresh
        for pid in stopped:
            _signal(pid, signal.SIGKILL)
        signalled |= stopped
        if not stopped:
            time.sleep(0.001)
    return len(signalled)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
