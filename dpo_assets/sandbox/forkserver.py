"""A warm fork server that runs untrusted candidates in isolated, resource-limited children.

Design
------
:class:`ForkServerSandbox` (an :class:`~dpo_assets.sandbox.executor.Executor`) starts one
server process, ``python -m dpo_assets.sandbox.forkserver``, with a scrubbed minimal
environment (host secrets never reach it), in its own session. The server preloads numpy,
Hypothesis, pytest, coverage, the common standard library and every task harness, runs one
pytest suite to load what pytest imports lazily, then freezes the GC. Client and server talk
over a pipe pair with length-prefixed JSON frames; requests are serialised by a lock.

Once, at start-up, the server (as root) enters a new, empty network namespace (no interface
up: no socket reaches anything, abstract unix sockets included) and a private mount
namespace: size-limited tmpfs over ``/tmp``, ``/var/tmp`` and ``/dev/shm`` (emptied after
every run), an empty tmpfs over ``/run`` (hides local services' unix sockets), ``/proc``
remounted ``hidepid=2``. Children inherit them; a namespace per child would add ~10-25 ms
of kernel tear-down to every request.

Per request the server makes a scratch directory (owned by the sandbox uid, with a
``dev/null`` node) and forks a child that:

1. ``setsid()`` (its own process group), moves the result pipe to a random high fd;
2. ``chdir``s to the scratch directory, redirects stdin from ``/dev/null`` and
   stdout/stderr to pipes the server drains (keeping ``Limits.output_bytes`` of each), closes
   every other descriptor;
3. as root: ``chroot``s into the scratch directory (the jail: the candidate sees only
   ``/solution.py``, ``/tmp`` and ``/dev/null``, not the repository, its reference
   solutions, ``/etc`` or ``/proc``);
4. sets RLIMIT_CORE=0, RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NPROC, RLIMIT_NOFILE;
5. as root: drops to the sandbox uid/gid with no groups (a random unused uid per server,
   so servers cannot signal each other's sandboxes or share RLIMIT_NPROC; after every
   import: nothing of the interpreter or site-packages is reachable any more); sets no-new-privs and a
   parent-death signal; clears ``os.environ``; points ``tempfile`` at ``<scratch>/tmp``;
   seeds ``random``/``numpy.random`` with 0 (reproducible verdicts);
6. writes ``solution.py``, imports it (unless ``load=False``) and runs
   :func:`dpo_assets.sandbox.runtime.run_calls`, streaming each encoded record as a frame
   as soon as it exists, so results of calls finished before a crash are kept.

The server enforces the wall clock (then ``killpg(SIGKILL)``), classifies the end
(CPU limit, memory, exit, signal) and, whatever happened, kills the child's process group
and every remaining descendant (the server is a child subreaper, so double-forked or
``setsid`` escapees come back to it) and removes the scratch directory.

Verdicts and the result channel
-------------------------------
The verdict never comes from the exit status or from printed text: a run is OK only when
the server received one record frame per call over the dedicated result pipe, each frame
carrying the per-request random nonce. The nonce lives only in local variables (the
server's request handler and the child's emit closure); frames are serialised with a C JSON
encoder captured at import, so monkeypatching ``json`` cannot observe it.

Residual threat: code running in the child's interpreter can in principle find the result
descriptor (``/proc/self/fd``, trying fds) and the nonce (frame and closure introspection,
``gc``, reading its own memory) and forge frames. It needs introspection that the AST layer
of the gate forbids (``sys._getframe``, ``gc``, ``inspect``, ``ctypes``, dunder access to
frames/closures), so the sandbox relies on that layer for this one.

Without root there are no namespaces, no jail and no uid change (each failure is recorded
in :attr:`ForkServerSandbox.isolation` and logged): the child keeps the server's uid, so it
can read that uid's files and other processes' ``/proc/<pid>/environ``, signal the server
(the client then reports CRASHED and restarts it) and use the network. Run it as root.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import dataclasses
import gc
import hashlib
import hmac
import importlib
import json
import json.encoder
import logging
import os
import queue
import random
import resource
import secrets
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from dpo_assets.sandbox import isolation, runtime
from dpo_assets.sandbox.concurrency import default_jobs
from dpo_assets.sandbox.executor import call_payload, observation_from_record
from dpo_assets.sandbox.limits import DEFAULT_LIMITS, Limits
from dpo_assets.sandbox.outcome import Call, Outcome, Status
from dpo_assets.sandbox.wire import WireError, decode, encode

log = logging.getLogger(__name__)

SERVER_MODULE = "dpo_assets.sandbox.forkserver"
PROBE_HARNESS = "dpo_assets.sandbox.generic_harness"
SOLUTION_FILE = "solution.py"
MAX_FRAME_BYTES = 64 * 1024**2
STARTUP_TIMEOUT = 120.0
REPLY_GRACE = 30.0  # beyond the wall limit before the client gives up on the server
BATCH_CACHE_SIZE = 256  # call batches a server keeps decoded (a few per task and layer)
END_GRACE = 1.0  # after the last record, how long to wait for the end frame (output flush)

PRELOAD_MODULES = (
    "numpy", "numpy.fft", "numpy.linalg", "numpy.random", "numpy.polynomial", "numpy.testing",
    "numpy.ma", "hypothesis", "hypothesis.strategies", "hypothesis.extra.numpy", "coverage",
    "pytest", "asyncio", "json", "re", "math", "cmath", "random", "statistics", "itertools",
    "functools", "collections", "collections.abc", "heapq", "bisect", "fractions", "decimal",
    "dataclasses", "typing", "enum", "abc", "copy", "operator", "string", "textwrap",
    "contextlib", "time", "array", "struct", "datetime", "_strptime", "locale", "calendar",
    "numbers", "weakref", "types", "inspect", "traceback", "warnings", "io", "threading",
    "queue", "concurrent.futures", "concurrent.futures.thread", "hashlib", "hmac", "base64",
    "binascii", "secrets", "uuid", "pprint", "reprlib", "unicodedata", "zlib", "csv",
    "difflib", "pathlib", "tempfile", "signal", "errno", "codecs", "graphlib", "contextvars",
    "keyword", "shlex", "fnmatch", "glob", "logging", "encodings.latin_1", "encodings.ascii",
    "encodings.utf_16", "encodings.utf_32", "encodings.utf_8_sig", "encodings.cp1252",
    "encodings.unicode_escape", "encodings.raw_unicode_escape", "encodings.idna",
    "dpo_assets.sandbox.generic_harness", "dpo_assets.sandbox.pytest_job",
)  # fmt: skip

# --------------------------------------------------------------------------- framing

_HEADER = struct.Struct(">I")
# Captured at import, before any candidate runs: a candidate that patches ``json`` or
# ``os`` cannot see or alter what goes on the result channel.
_os_write = os.write
_os_exit = os._exit
_join = "".join


def _no_default(obj: object) -> NoReturn:
    raise TypeError(f"not JSON data: {type(obj).__name__}")


_c_encoder = json.encoder.c_make_encoder
_frame_encoder = (
    _c_encoder(None, _no_default, json.encoder.c_encode_basestring_ascii, None, ":", ",", False, False, False)
    if _c_encoder is not None
    else None
)
_py_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _dump_text(obj: Any) -> str:
    """Compact ASCII JSON text (NaN and infinities refused)."""
    return _join(_frame_encoder(obj, 0)) if _frame_encoder is not None else _py_encoder.encode(obj)


def dump_frame(obj: Any) -> bytes:
    """Length-prefixed compact JSON."""
    data = _dump_text(obj).encode("ascii")
    return _HEADER.pack(len(data)) + data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[_os_write(fd, view) :]


def write_frame(fd: int, obj: Any) -> None:
    _write_all(fd, dump_frame(obj))


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    while size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selectors_wait(fd, remaining):
                raise TimeoutError("no reply from the fork server in time")
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("fork server closed the channel")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def selectors_wait(fd: int, timeout: float) -> bool:
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        return bool(sel.select(timeout))


def read_frame(fd: int, deadline: float | None = None, max_bytes: int | None = None) -> Any:
    """Read one frame; EOFError at a clean end of stream, TimeoutError past ``deadline``."""
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    if max_bytes is not None and size > max_bytes:
        raise ValueError(f"frame of {size} bytes exceeds {max_bytes}")
    return json.loads(_read_exact(fd, size, deadline))


class FrameError(ValueError):
    """The result channel carried something that is not a valid frame."""


class FrameBuffer:
    """Incremental decoder for frames arriving in arbitrary chunks."""

    def __init__(self, max_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_bytes

    def feed(self, chunk: bytes) -> list[Any]:
        self._buffer += chunk
        frames = []
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if size > self._max:
                raise FrameError(f"frame of {size} bytes exceeds {self._max}")
            end = _HEADER.size + size
            if len(self._buffer) < end:
                break
            payload = bytes(self._buffer[_HEADER.size : end])
            del self._buffer[:end]
            try:
                frames.append(json.loads(payload))
            except ValueError as exc:
                raise FrameError(f"malformed frame: {exc}") from None
        return frames

    @property
    def pending(self) -> int:
        return len(self._buffer)


# --------------------------------------------------------------------------- sandbox child


def _high_fd(fd: int) -> int:
    """Move ``fd`` to a random unused descriptor number above 100."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    top = max(min(soft, 1024), 200)
    rng = random.SystemRandom()
    for _ in range(64):
        target = rng.randrange(100, top)
        try:
            os.fstat(target)
        except OSError:
            os.dup2(fd, target, inheritable=False)
            os.close(fd)
            return target
    return fd


def _child(
    nonce: str,
    result_fd: int,
    out_fd: int,
    err_fd: int,
    scratch: str,
    source: str,
    harness: types.ModuleType,
    calls: list[dict[str, Any]],
    limits: Limits,
    load: bool,
    uid: int | None,
    jail: bool,
) -> NoReturn:
    """Body of the forked sandbox process; never returns."""
    code = 70
    try:
        os.setsid()
        fd = _high_fd(result_fd)

        def send(kind: str, body: Any) -> None:
            _write_all(fd, dump_frame({"n": nonce, "k": kind, "b": body}))

        try:
            view = _isolate(scratch, uid, jail, limits, out_fd, err_fd, fd)
            path = os.path.join(view, SOLUTION_FILE)
            with open(path, "x", encoding="utf-8") as fh:
                fh.write(source)
            send("ready", None)
        except BaseException as exc:
            send("setup_error", runtime.describe_exception(exc))
            raise

        def emit(record: dict[str, Any]) -> None:
            try:
                if "value" in record:  # shipped as JSON text: the server passes it on unparsed
                    data = dump_frame({"n": nonce, "k": "raw", "b": _dump_text(record)})
                else:  # an exception: the server reads it (MemoryError is a verdict of its own)
                    data = dump_frame({"n": nonce, "k": "record", "b": record})
                if len(data) > MAX_FRAME_BYTES:
                    raise WireError("result too large to transfer")
            except BaseException as exc:  # MemoryError included: reported as the call's
                fallback = runtime.describe_exception(exc)
                fallback["error_message"] = "result could not be transferred: " + fallback["error_message"]
                fallback["seconds"] = float(record.get("seconds", 0.0))
                data = dump_frame({"n": nonce, "k": "record", "b": fallback})
            _write_all(fd, data)

        code = 0
        module: types.ModuleType | None = None
        if load:
            runtime.hide_test_frameworks()
            try:
                module = runtime.load_candidate(source, path)
            except BaseException as exc:
                send("import_error", runtime.describe_exception(exc))
                _os_exit(0)
        runtime.run_calls(module, harness, calls, emit)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        send("end", None)
    except BaseException:
        try:
            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:
            pass
        code = code or 70
    finally:
        _os_exit(code)


def _isolate(
    scratch: str, uid: int | None, jail: bool, limits: Limits, out_fd: int, err_fd: int, keep_fd: int
) -> str:
    """Steps 2-5 of the module docstring, in the child, before any candidate code.

    Returns the scratch directory as the sandbox sees it (``/`` inside the jail).
    """
    privileged = uid is not None
    os.chdir(scratch)
    nproc = limits.max_processes
    if not privileged:  # RLIMIT_NPROC counts every process of this uid
        nproc += isolation.count_user_processes(os.getuid())
    isolation.redirect_stdio(out_fd, err_fd)
    isolation.close_fds_except([keep_fd])
    if jail:
        os.chroot(".")
        os.chdir("/")
        scratch = "/"
    isolation.apply_limits(limits, nproc)
    if privileged:
        isolation.drop_privileges(uid, uid)
    isolation.harden_process()
    os.environ.clear()
    tmp = os.path.join(scratch, "tmp")
    os.mkdir(tmp, 0o700)
    tempfile.tempdir = tmp
    random.seed(0)
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed(0)
    return scratch


# --------------------------------------------------------------------------- server


@dataclasses.dataclass
class _Run:
    """What the server observed of one child."""

    records: list[dict[str, Any] | str] = dataclasses.field(default_factory=list)
    ready: bool = False
    import_error: dict[str, Any] | None = None
    setup_error: dict[str, Any] | None = None
    tampered: str | None = None
    ended: bool = False
    timed_out: bool = False
    call_timed_out: bool = False  # the per-call budget ran out (``timed_out`` is set too)
    status: int | None = None  # wait status
    rusage: Any = None
    stdout: bytearray = dataclasses.field(default_factory=bytearray)
    stderr: bytearray = dataclasses.field(default_factory=bytearray)

    @property
    def finished(self) -> bool:
        return self.ended or self.tampered is not None or self.import_error is not None or (
            self.setup_error is not None
        )


class _Server:
    """The server side: one request at a time, one forked child per request."""

    def __init__(self, uid: int | None, private_tmp: bool = False, jail: bool = False) -> None:
        self.uid = uid  # None: no privilege drop
        self.private_tmp = private_tmp  # tmp directories are this server's own tmpfs
        self.base = tempfile.mkdtemp(prefix="dpo-sandbox-", dir="/tmp")
        os.chmod(self.base, 0o711)
        self.jail = jail and uid is not None  # chroot into the scratch directory
        if self.jail:
            try:
                isolation.make_dev_null(self.base)
            except OSError:  # no device nodes here: a jail without /dev/null breaks pytest
                self.jail = False
            shutil.rmtree(os.path.join(self.base, "dev"), ignore_errors=True)
        self._count = 0
        self._harnesses: dict[str, types.ModuleType] = {}
        # Decoded, validated call batches by the client's key: a task's material is the same
        # for every candidate, so it crosses the pipe and is decoded once per server.
        self._batches: collections.OrderedDict[str, list[dict[str, Any]]] = collections.OrderedDict()

    def close(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        try:
            limits = Limits(**request["limits"])
            harness = self._harness(str(request["harness"]))
            calls = self._calls(request, harness)
            load = bool(request.get("load", True))
            return self.execute(str(request["source"]), harness, calls, limits, load)
        except Exception:
            detail = "fork server error: " + traceback.format_exc(limit=4)[-1500:]
            return _reply(Status.CRASHED, detail=detail, seconds=time.monotonic() - started)

    def _calls(self, request: dict[str, Any], harness: types.ModuleType) -> list[dict[str, Any]]:
        """The request's calls: decoded from ``calls``, or the batch cached under ``calls_key``."""
        key = request.get("calls_key")
        if "calls" not in request:
            if key not in self._batches:
                raise KeyError(f"unknown call batch {key!r}")
            self._batches.move_to_end(key)
            return self._batches[key]
        calls = [{"driver": str(c["driver"]), "kwargs": decode(c["kwargs"])} for c in request["calls"]]
        for call in calls:
            if not callable(getattr(harness, call["driver"], None)):
                raise AttributeError(f"harness {harness.__name__} has no driver {call['driver']!r}")
        if key is not None:
            self._batches[str(key)] = calls
            while len(self._batches) > BATCH_CACHE_SIZE:
                self._batches.popitem(last=False)
        return calls

    def _harness(self, name: str) -> types.ModuleType:
        module = self._harnesses.get(name)
        if module is None:  # trusted code, imported once here so every child inherits it
            module = self._harnesses[name] = importlib.import_module(name)
        return module

    def _scratch(self) -> str:
        self._count += 1
        path = os.path.join(self.base, f"run-{self._count}")
        os.mkdir(path, 0o700)
        if self.uid is not None:
            os.chown(path, self.uid, self.uid)
        if self.jail:
            isolation.make_dev_null(path)
        return path

    def execute(
        self, source: str, harness: types.ModuleType, calls: list[dict[str, Any]], limits: Limits, load: bool
    ) -> dict[str, Any]:
        started = time.monotonic()
        scratch = self._scratch()
        nonce = secrets.token_hex(16)
        fds: list[int] = []
        try:
            for _ in range(3):
                fds.extend(os.pipe())
            result_r, result_w, out_r, out_w, err_r, err_w = fds
            sys.stdout.flush()
            sys.stderr.flush()
            runtime.test_framework_modules()  # computed here once, not in every child
            pid = os.fork()
            if pid == 0:
                _child(
                    nonce, result_w, out_w, err_w, scratch, source, harness, calls, limits, load, self.uid,
                    self.jail,
                )
            for fd in (result_w, out_w, err_w):
                os.close(fd)
                fds.remove(fd)
            run = _Run()
            frames = FrameBuffer()
            try:
                self._supervise(pid, nonce, result_r, out_r, err_r, frames, len(calls), limits, started, run)
            finally:
                self._finish(pid, run)
                self._drain(result_r, out_r, err_r, frames, nonce, len(calls), limits, run)
            return _classify(run, len(calls), limits, time.monotonic() - started)
        finally:
            for fd in fds:
                os.close(fd)
            shutil.rmtree(scratch, ignore_errors=True)
            if self.private_tmp:  # never the host's /tmp
                isolation.clean_private_tmp(keep=self.base)

    def _supervise(
        self, pid: int, nonce: str, result_r: int, out_r: int, err_r: int, frames: FrameBuffer,
        n_calls: int, limits: Limits, started: float, run: _Run,
    ) -> None:
        deadline = started + limits.wall_seconds
        call_started: float | None = None  # when the current call's clock started
        calls_seen = 0
        with selectors.DefaultSelector() as sel:
            try:
                pidfd: int | None = os.pidfd_open(pid)
                sel.register(pidfd, selectors.EVENT_READ, "exit")
            except (AttributeError, OSError):
                pidfd = None
            try:
                sel.register(result_r, selectors.EVENT_READ, "result")
                sel.register(out_r, selectors.EVENT_READ, "stdout")
                sel.register(err_r, selectors.EVENT_READ, "stderr")
                end_by: float | None = None
                while not run.finished:
                    now = time.monotonic()
                    limit = deadline if end_by is None else min(deadline, end_by)
                    call_deadline = (
                        call_started + limits.call_seconds
                        if call_started is not None and limits.call_seconds is not None and end_by is None
                        else None
                    )
                    if call_deadline is not None and now >= call_deadline:
                        run.timed_out = run.call_timed_out = True
                        return
                    if call_deadline is not None:
                        limit = min(limit, call_deadline)
                    if now >= limit:
                        run.timed_out = end_by is None or now >= deadline
                        return
                    wait = limit - now if pidfd is not None else min(limit - now, 0.02)
                    for key, _ in sel.select(wait):
                        if key.data == "exit":
                            return
                        if not self._read(key.fd, key.data, frames, nonce, n_calls, limits, run):
                            sel.unregister(key.fd)
                    if pidfd is None:  # pragma: no cover - only without pidfd support
                        reaped, status, rusage = os.wait4(pid, os.WNOHANG)
                        if reaped == pid:
                            run.status, run.rusage = status, rusage
                            return
                    if run.ready and (call_started is None or len(run.records) != calls_seen):
                        calls_seen, call_started = len(run.records), time.monotonic()
                    if end_by is None and len(run.records) >= n_calls:
                        end_by = time.monotonic() + END_GRACE
            finally:
                if pidfd is not None:
                    os.close(pidfd)

    def _read(
        self, fd: int, stream: str, frames: FrameBuffer, nonce: str, n_calls: int, limits: Limits, run: _Run
    ) -> bool:
        """Consume what is readable on ``fd``; False at end of stream (or nothing to read)."""
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return False
        if not chunk:
            return False
        if stream == "result":
            try:
                for frame in frames.feed(chunk):
                    _accept(frame, nonce, n_calls, run)
            except FrameError as exc:
                run.tampered = str(exc)
        else:
            buffer = run.stdout if stream == "stdout" else run.stderr
            room = limits.output_bytes - len(buffer)
            if room > 0:
                buffer += chunk[:room]
        return True

    def _finish(self, pid: int, run: _Run) -> None:
        """Kill the child's group and every other descendant; reap the child."""
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(pid, signal.SIGKILL)
        if run.status is None:
            _, run.status, run.rusage = os.wait4(pid, 0)
        isolation.kill_descendants()

    def _drain(
        self, result_r: int, out_r: int, err_r: int, frames: FrameBuffer, nonce: str, n_calls: int,
        limits: Limits, run: _Run,
    ) -> None:
        """Read what the (now dead) sandbox left in the pipes."""
        streams = {out_r: "stdout", err_r: "stderr"}
        if not run.finished:  # nothing after a final frame counts
            streams[result_r] = "result"
        for fd in streams:
            os.set_blocking(fd, False)
        deadline = time.monotonic() + 1.0
        while streams and time.monotonic() < deadline:
            for fd, stream in list(streams.items()):
                if not self._read(fd, stream, frames, nonce, n_calls, limits, run):
                    del streams[fd]


def _accept(frame: Any, nonce: str, n_calls: int, run: _Run) -> None:
    """Validate one frame from the child and record it."""
    if run.tampered is not None:
        return
    tag = frame.get("n") if type(frame) is dict else None
    if type(tag) is not str or not hmac.compare_digest(tag.encode("utf-8", "surrogatepass"), nonce.encode()):
        run.tampered = "a frame without the request nonce"
        return
    kind, body = frame.get("k"), frame.get("b")
    if run.ended or run.import_error is not None:
        run.tampered = "a frame after the final one"
    elif kind in ("record", "raw") and type(body) is (dict if kind == "record" else str) and (
        len(run.records) < n_calls
    ):
        run.records.append(body)  # a raw record stays JSON text until the client decodes it
    elif kind == "ready" and not run.ready:
        run.ready = True
    elif kind == "import_error" and type(body) is dict and not run.records:
        run.import_error = body
    elif kind == "setup_error" and type(body) is dict:
        run.setup_error = body
    elif kind == "end" and len(run.records) == n_calls:
        run.ended = True
    else:
        run.tampered = f"an unexpected {kind!r} frame"


_MEMORY_MARKERS = ("MemoryError", "Cannot allocate memory", "out of memory", "bad_alloc")


def _classify(run: _Run, n_calls: int, limits: Limits, seconds: float) -> dict[str, Any]:
    """Turn what the server saw into a reply (status, records, detail)."""
    stdout = run.stdout.decode("utf-8", "replace")
    stderr = run.stderr.decode("utf-8", "replace")
    exit_code = os.waitstatus_to_exitcode(run.status) if run.status is not None else None

    def reply(status: Status, records: Sequence[dict[str, Any] | str] = (), detail: str = "") -> dict:
        return _reply(status, list(records), detail, stdout, stderr, seconds, exit_code)

    if run.tampered is not None:
        return reply(Status.CRASHED, detail=f"result channel rejected: {run.tampered}")
    if run.setup_error is not None:
        err = run.setup_error
        detail = f"sandbox setup failed: {err.get('error_type')}: {err.get('error_message')}"
        return reply(Status.CRASHED, detail=detail)
    if not run.ready:  # no candidate code ran yet: the machinery failed
        return reply(Status.CRASHED, detail=f"sandbox died during setup (wait status {run.status})")
    records = run.records
    for i, record in enumerate(records):
        if type(record) is dict and "builtins.MemoryError" in record.get("error_mro", ()):
            return reply(Status.MEMORY, records[:i], f"MemoryError in call {i + 1} of {n_calls}")
    if run.import_error is not None:
        err = run.import_error
        status = Status.MEMORY if "builtins.MemoryError" in err.get("error_mro", ()) else Status.IMPORT_ERROR
        etype = str(err.get("error_type", "")).removeprefix("builtins.")
        return reply(status, detail=f"{etype}: {err.get('error_message', '')}"[:2000])
    if len(records) == n_calls:
        return reply(Status.OK, records)
    where = f"after {len(records)} of {n_calls} calls"
    if run.call_timed_out:
        call = f"call {len(records) + 1} of {n_calls}"
        detail = f"{call} ran past the per-call limit of {limits.call_seconds:g}s"
        return reply(Status.TIMEOUT, records, detail)
    if run.timed_out:
        return reply(Status.TIMEOUT, records, f"wall-clock limit of {limits.wall_seconds:g}s reached {where}")
    status = run.status if run.status is not None else 0
    signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    cpu = (run.rusage.ru_utime + run.rusage.ru_stime) if run.rusage is not None else 0.0
    if signum == signal.SIGXCPU or (signum == signal.SIGKILL and cpu >= limits.cpu_seconds - 0.05):
        return reply(Status.TIMEOUT, records, f"CPU limit of {limits.cpu_seconds}s reached {where}")
    rss = run.rusage.ru_maxrss * 1024 if run.rusage is not None else 0
    abnormal = signum is not None or exit_code != 0
    if abnormal and (rss >= 0.8 * limits.memory_bytes or any(m in stderr for m in _MEMORY_MARKERS)):
        return reply(Status.MEMORY, records, f"ran out of memory (limit {limits.memory_bytes} bytes) {where}")
    if signum is not None:
        return reply(Status.EXITED, records, f"killed by {signal.Signals(signum).name} {where}")
    return reply(Status.EXITED, records, f"exited with status {exit_code} {where}")


def _reply(
    status: Status,
    records: list[dict[str, Any] | str] | None = None,
    detail: str = "",
    stdout: str = "",
    stderr: str = "",
    seconds: float = 0.0,
    exit_code: int | None = None,
) -> dict[str, Any]:
    return {
        "status": status.value, "records": records or [], "detail": detail, "stdout": stdout,
        "stderr": stderr, "seconds": seconds, "exit_code": exit_code,
    }  # fmt: skip


def preload() -> list[str]:
    """Import everything a sandbox may need; returns a line per failure."""
    failures: list[str] = []
    for name in PRELOAD_MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:
            failures.append(f"import {name}: {exc!r}")
    try:
        from dpo_assets.tasks.catalog import load_catalog

        tasks = list(load_catalog().values())
    except Exception as exc:
        failures.append(f"task catalog: {exc!r}")
        tasks = []
    for task in tasks:
        try:
            importlib.import_module(task.harness)
        except Exception as exc:
            failures.append(f"harness {task.harness}: {exc!r}")
    failures.extend(_warm_up_pytest())
    if threading.active_count() > 1:  # fork() would copy their locks, not the threads
        failures.append(f"{threading.active_count() - 1} stray thread(s) after preloading")
    runtime.snapshot_exception_classes()  # everything preloaded is trusted, candidates are not
    gc.collect()
    gc.freeze()  # children then never touch (copy) the preloaded objects' pages for GC
    return failures


def _warm_up_pytest() -> list[str]:
    from dpo_assets.sandbox import pytest_job

    saved_path = list(sys.path)
    before = set(sys.modules)
    directory = tempfile.mkdtemp(prefix="dpo-sandbox-warmup-", dir="/tmp")
    try:
        report = pytest_job.warm_up(directory)
        if report["exit_code"] != 1 or report["coverage"] != 100.0:
            return [f"pytest warm-up: unexpected report {report!r}"[:2000]]
        return []
    except Exception as exc:
        return [f"pytest warm-up: {exc!r}"]
    finally:
        sys.path[:] = saved_path
        for name in set(sys.modules) - before:
            file = getattr(sys.modules[name], "__file__", None) or ""
            if name in ("solution", "test_suite") or file.startswith(directory):
                del sys.modules[name]
        sys.path_importer_cache.pop(directory, None)
        shutil.rmtree(directory, ignore_errors=True)


def _isolate_server() -> tuple[list[str], bool]:
    """Namespaces for the server and so for every child it forks (created once: a network or
    mount namespace per child would cost ~10 ms each to tear down). Returns notes on what
    could not be isolated and whether the tmp directories are private."""
    notes: list[str] = []
    private_tmp = False
    try:
        isolation.private_mounts()
        private_tmp = True
    except OSError as exc:
        notes.append(f"filesystem not isolated (no private mount namespace): {exc}")
    try:
        isolation.isolate_network()
    except OSError as exc:
        notes.append(f"network not isolated: {exc}")
    return notes, private_tmp


def serve() -> None:
    """Entry point of the server process (``python -m dpo_assets.sandbox.forkserver``)."""
    request_fd, reply_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # stray prints must never corrupt the protocol
    os.close(null)
    config = read_frame(request_fd)
    privileged = bool(config.get("drop_privileges", True)) and os.geteuid() == 0
    uid: int | None = None
    if privileged:
        uid = int(config["uid"]) if config.get("uid") is not None else isolation.pick_free_uid()
    if uid == 0:
        raise SystemExit("refusing to run sandboxes as uid 0")
    with contextlib.suppress(OSError):
        isolation.become_subreaper()
    notes, private_tmp = _isolate_server()
    if uid is None:
        notes.append("sandboxes keep the server's uid (not root, or drop_privileges=False)")
    failures = preload()
    server = _Server(uid, private_tmp, bool(config.get("jail", True)))
    if not server.jail:
        notes.append("no chroot jail: the sandbox sees the whole filesystem (read access by permissions)")
    try:
        probe = server.execute("", server._harness(PROBE_HARNESS), [], Limits(wall_seconds=30.0), False)
        write_frame(reply_fd, {
            "ready": probe["status"] == Status.OK.value, "pid": os.getpid(), "uid": uid,
            "root": os.geteuid() == 0, "notes": notes, "preload_failures": failures,
            "probe": probe["detail"] + probe["stderr"][-2000:],
        })  # fmt: skip
        while True:
            try:
                request = read_frame(request_fd)
            except EOFError:
                break
            write_frame(reply_fd, server.handle(request))
    except (BrokenPipeError, EOFError):
        pass
    finally:
        server.close()


# --------------------------------------------------------------------------- client


def server_env() -> dict[str, str]:
    """The whole environment of the server process: nothing of the host's is passed on."""
    import dpo_assets

    root = str(Path(dpo_assets.__file__).resolve().parent.parent)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/nonexistent",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONPATH": root,
        "PYTHONSAFEPATH": "1",
        "PYTHONNOUSERSITE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


class SandboxStartError(RuntimeError):
    """The fork server could not be started."""


def _stop_server(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ForkServerSandbox:
    """Executor backed by one warm fork server (started lazily, restarted if it died).

    ``uid`` is the unprivileged user sandboxes run as when the server runs as root. It must be
    dedicated to one server (RLIMIT_NPROC counts all its processes, and a sandbox may signal
    any of them); by default each server start picks a random unused uid from
    :data:`~dpo_assets.sandbox.isolation.SANDBOX_UIDS` (see :attr:`sandbox_uid`).
    ``drop_privileges=False`` keeps the server's uid;
    ``jail=False`` skips the chroot into the scratch directory (both weaken isolation).
    """

    def __init__(self, uid: int | None = None, *, drop_privileges: bool = True, jail: bool = True) -> None:
        self.uid = uid
        self.drop_privileges = drop_privileges
        self.jail = jail
        self.isolation: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize | None = None
        self.starts = 0
        self._batch_keys = _BatchKeys()
        # Batch keys the running server holds, in its LRU order (requests are serialized, so
        # this mirrors the server's cache exactly).
        self._sent: collections.OrderedDict[str, None] = collections.OrderedDict()

    # -- lifecycle
    def start(self) -> None:
        with self._lock:
            self._ensure_started()

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._discard()
        proc = subprocess.Popen(
            [sys.executable, "-m", SERVER_MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=server_env(),
            cwd="/",
            start_new_session=True,
            close_fds=True,
            bufsize=0,
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            config = {"uid": self.uid, "drop_privileges": self.drop_privileges, "jail": self.jail}
            write_frame(proc.stdin.fileno(), config)
            ready = read_frame(proc.stdout.fileno(), time.monotonic() + STARTUP_TIMEOUT)
        except (OSError, EOFError, TimeoutError, ValueError) as exc:
            proc.kill()
            _stop_server(proc)
            raise SandboxStartError(f"fork server did not start: {exc!r}") from exc
        if not ready.get("ready"):
            proc.kill()
            _stop_server(proc)
            raise SandboxStartError(f"fork server probe failed: {ready.get('probe')}")
        if ready.get("preload_failures"):
            log.warning("fork server preload failures: %s", ready["preload_failures"])
        if ready.get("notes"):
            log.warning("sandbox isolation is reduced: %s", "; ".join(ready["notes"]))
        self.isolation = {k: ready.get(k) for k in ("pid", "uid", "root", "notes", "preload_failures")}
        self._proc = proc
        self._finalizer = weakref.finalize(self, _stop_server, proc)
        self.starts += 1
        return proc

    def _remember(self, key: str) -> None:
        self._sent[key] = None
        self._sent.move_to_end(key)
        while len(self._sent) > BATCH_CACHE_SIZE:
            self._sent.popitem(last=False)

    def _discard(self) -> None:
        self._sent.clear()
        proc, self._proc = self._proc, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            _stop_server(proc)

    def close(self) -> None:
        """Stop the server (it removes its scratch directories)."""
        with self._lock:
            proc, self._proc = self._proc, None
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None
            if proc is not None:
                _stop_server(proc)

    def __enter__(self) -> ForkServerSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def sandbox_uid(self) -> int | None:
        """The uid sandboxes of the running server use (None: no privilege drop)."""
        return self.isolation.get("uid")

    @property
    def server_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    # -- Executor
    def run(
        self,
        source: str,
        harness: str,
        calls: Sequence[Call],
        limits: Limits | None = None,
        *,
        load: bool = True,
    ) -> Outcome:
        """Run ``calls`` against ``source`` in a fresh sandbox child (see the module docstring).

        Failures of the machinery come back as ``Status.CRASHED``; only a server that cannot
        start at all raises :class:`SandboxStartError`.
        """
        limits = limits or DEFAULT_LIMITS
        key, payload = self._batch_keys.get(harness, calls)
        request: dict[str, Any] = {
            "source": source,
            "harness": harness,
            "calls_key": key,
            "limits": dataclasses.asdict(limits),
            "load": load,
        }
        with self._lock:
            for attempt in (1, 2):
                proc = self._ensure_started()
                assert proc.stdin is not None and proc.stdout is not None
                if key in self._sent:
                    request.pop("calls", None)
                else:
                    request["calls"] = payload
                try:
                    write_frame(proc.stdin.fileno(), request)
                    self._remember(key)
                except OSError:  # died while idle: restart transparently, once
                    self._discard()
                    if attempt == 2:
                        return Outcome(Status.CRASHED, detail="fork server unavailable")
                    continue
                try:
                    deadline = time.monotonic() + limits.wall_seconds + REPLY_GRACE
                    reply = read_frame(proc.stdout.fileno(), deadline)
                except (OSError, EOFError, TimeoutError, ValueError) as exc:
                    self._discard()
                    return Outcome(Status.CRASHED, detail=f"fork server failed during the run: {exc!r}")
                if attempt == 1 and "unknown call batch" in str(reply.get("detail", "")):
                    self._sent.clear()  # out of step with the server's cache: send the batch again
                    continue
                break
        return _outcome(reply)


class _BatchKeys:
    """Encoded call batches and their keys, cached per ``calls`` object.

    The engines pass the same sequence object for every candidate of a task and layer, so a
    batch is encoded once per client and (see ``_Server._calls``) decoded once per server.
    Entries hold the sequence itself, so an ``id`` is never reused while it is cached; any
    other sequence is encoded afresh and keyed by its content."""

    def __init__(self, size: int = BATCH_CACHE_SIZE) -> None:
        self.size = size
        self._cache: collections.OrderedDict[int, tuple[Sequence[Call], str, str, list]] = (
            collections.OrderedDict()
        )

    def get(self, harness: str, calls: Sequence[Call]) -> tuple[str, list[dict[str, Any]]]:
        hit = self._cache.get(id(calls))
        if hit is not None and hit[0] is calls and hit[1] == harness:
            self._cache.move_to_end(id(calls))
            return hit[2], hit[3]
        payload = [{"driver": c["driver"], "kwargs": encode(c["kwargs"])} for c in call_payload(calls)]
        text = json.dumps([harness, payload], sort_keys=True, separators=(",", ":"))
        key = hashlib.sha256(text.encode()).hexdigest()[:32]
        if isinstance(calls, tuple):  # immutable: safe to remember by identity
            self._cache[id(calls)] = (calls, harness, key, payload)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return key, payload


def _record(item: Any) -> dict[str, Any]:
    """A reply's record: an exception record as sent, a value record from its JSON text."""
    record = json.loads(item) if type(item) is str else item
    if type(record) is not dict:
        raise ValueError("a record is not an object")
    return record


def _outcome(reply: dict[str, Any]) -> Outcome:
    try:
        return Outcome(
            Status(reply["status"]),
            tuple(observation_from_record(_record(r)) for r in reply["records"]),
            detail=str(reply.get("detail", "")),
            stdout=str(reply.get("stdout", "")),
            stderr=str(reply.get("stderr", "")),
            seconds=float(reply.get("seconds", 0.0)),
            exit_code=reply.get("exit_code"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        return Outcome(Status.CRASHED, detail=f"malformed reply from the fork server: {exc!r}")


class SandboxPool:
    """``size`` fork servers behind one Executor, for concurrent callers.

    Each server runs its sandboxes under its own uid (distinct uids keep concurrent sandboxes
    from signalling each other and from sharing RLIMIT_NPROC); ``uids`` fixes them, one per
    slot. Servers start lazily; a sequential caller keeps reusing the first slot.
    """

    def __init__(
        self,
        size: int = 2,
        *,
        uids: Sequence[int] | None = None,
        drop_privileges: bool = True,
        jail: bool = True,
    ) -> None:
        if size < 1:
            raise ValueError("pool size must be at least 1")
        if uids is not None and len(set(uids)) != size:
            raise ValueError("give one distinct uid per pool slot")
        self.members = [
            ForkServerSandbox(uids[i] if uids else None, drop_privileges=drop_privileges, jail=jail)
            for i in range(size)
        ]
        self._idle: queue.LifoQueue[ForkServerSandbox] = queue.LifoQueue()
        for member in reversed(self.members):
            self._idle.put(member)

    def run(
        self,
        source: str,
        harness: str,
        calls: Sequence[Call],
        limits: Limits | None = None,
        *,
        load: bool = True,
    ) -> Outcome:
        member = self._idle.get()
        try:
            return member.run(source, harness, calls, limits, load=load)
        finally:
            self._idle.put(member)

    def close(self) -> None:
        for member in self.members:
            member.close()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_shared: SandboxPool | None = None
_shared_lock = threading.Lock()


def get_sandbox(size: int | None = None) -> SandboxPool:
    """The process-wide sandbox (a lazily started pool, closed at exit).

    ``size`` applies on first use only; the default is :func:`default_jobs` (CPUs + 2).
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SandboxPool(size or default_jobs())
            atexit.register(_shared.close)
        return _shared


if __name__ == "__main__":
    serve()
