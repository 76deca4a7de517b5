"""A throwaway PostgreSQL server for tests: initdb into a temp folder, start on 127.0.0.1, stop.

PostgreSQL refuses to run as root, so under euid 0 the server (and initdb) run as ``nobody``
in a folder of their own under the system temp dir (pytest's ``tmp_path`` is root-only).
"""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2

SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
SUPERUSER = "postgres"
START_TIMEOUT_S = 30
START_ATTEMPTS = 3  # a free port can be taken between probing it and the server binding it


def find_bindir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres: from PATH, ``pg_config --bindir``
    or ``/usr/lib/postgresql/*/bin`` (newest first); None when there is none."""
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
        candidates.append(Path(on_path).parent)
    if shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    versioned.sort(
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0, reverse=True
    )
    candidates.extend(Path(p) for p in versioned)
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in SERVER_BINARIES):
            return folder
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _drop_privileges() -> tuple[Callable[[], None] | None, int | None, int | None]:
    """(preexec_fn, uid, gid) to run the server as ``nobody`` when we are root, else Nones."""
    if os.geteuid() != 0:
        return None, None, None
    user = pwd.getpwnam("nobody")

    def demote() -> None:
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return demote, user.pw_uid, user.pw_gid


@dataclass(frozen=True)
class PostgresServer:
    """A running server: where it lives and how to reach it."""

    bindir: Path
    root: Path
    port: int

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy/libpq URL for ``database`` over TCP (trust auth, no password)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create ``name`` and return its URL."""
        conn = psycopg2.connect(self.url())
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"


def _run(cmd: list[str], cwd: Path, demote: Callable[[], None] | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd, cwd=cwd, preexec_fn=demote, capture_output=True, text=True, timeout=START_TIMEOUT_S + 30
    )


def _initdb(bindir: Path, root: Path, demote: Callable[[], None] | None) -> None:
    cmd = [str(bindir / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER, "--auth=trust"]
    cmd += ["--no-sync", "--no-locale", "-E", "UTF8"]
    done = _run(cmd, root, demote)
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _start(server: PostgresServer, demote: Callable[[], None] | None) -> bool:
    """pg_ctl start, waiting until the server accepts connections; False if it did not come up."""
    options = (
        f"-p {server.port} -k {server.socket_dir} -c listen_addresses=127.0.0.1"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
    )
    cmd = [str(server.bindir / "pg_ctl"), "-D", str(server.datadir), "-l", str(server.logfile)]
    cmd += ["-w", "-t", str(START_TIMEOUT_S), "-o", options, "start"]
    return _run(cmd, server.root, demote).returncode == 0


def _stop(server: PostgresServer, demote: Callable[[], None] | None) -> None:
    """pg_ctl stop -m fast; if that fails, SIGKILL the postmaster this server wrote down."""
    cmd = [str(server.bindir / "pg_ctl"), "-D", str(server.datadir), "-m", "fast", "-w", "stop"]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        if _run(cmd, server.root, demote).returncode == 0:
            return
    pidfile = server.datadir / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        os.kill(int(pidfile.read_text().splitlines()[0]), signal.SIGKILL)


@contextlib.contextmanager
def postgres_server(bindir: Path) -> Iterator[PostgresServer]:
    """Run a fresh server from ``bindir`` for the duration of the block; always stop and delete it."""
    demote, uid, gid = _drop_privileges()
    root = Path(tempfile.mkdtemp(prefix="dpo-pg-"))
    server: PostgresServer | None = None
    try:
        (root / "sock").mkdir()
        if uid is not None and gid is not None:
            for path in (root, root / "sock"):
                os.chown(path, uid, gid)
        _initdb(bindir, root, demote)
        for _ in range(START_ATTEMPTS):
            server = PostgresServer(bindir=bindir, root=root, port=free_port())
            if _start(server, demote):
                break
            _stop(server, demote)
        else:
            log = server.log_tail() if server else ""
            raise RuntimeError(f"PostgreSQL did not start after {START_ATTEMPTS} attempts:\n{log}")
        yield server
    finally:
        if server is not None:
            _stop(server, demote)
        shutil.rmtree(root, ignore_errors=True)
