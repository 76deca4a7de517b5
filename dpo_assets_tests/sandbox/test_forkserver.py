"""Containment tests for the fork-server sandbox: every hostile candidate gets a clear
outcome, and the host process, the server and the host's files are unharmed."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.sandbox.forkserver import ForkServerSandbox, SandboxPool
from dpo_assets.sandbox.isolation import user_processes as uid_processes
from dpo_assets.sandbox.limits import Limits
from dpo_assets.sandbox.outcome import Call, Outcome, Status
from dpo_assets.sandbox.wire import Foreign

IS_ROOT = os.geteuid() == 0
root_only = [pytest.mark.root, pytest.mark.skipif(not IS_ROOT, reason="needs root")]
HARNESS = "dpo_assets.sandbox.generic_harness"
QUICK = Limits(wall_seconds=5.0, cpu_seconds=5, memory_bytes=1024**3)
REPO = Path(__file__).resolve().parents[2]


def call(function: str = "f", *args: object, **kwargs: object) -> Call:
    return Call("call", {"function": function, "args": list(args), "kwargs": kwargs})


def run(sandbox: ForkServerSandbox, source: str, *calls: Call, limits: Limits = QUICK) -> Outcome:
    return sandbox.run(textwrap.dedent(source), HARNESS, list(calls) or [call()], limits)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ForkServerSandbox]:
    with ForkServerSandbox() as sb:
        yield sb


@pytest.fixture(autouse=True)
def _host_unharmed(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test the host can still fork and its repository is untouched."""
    before = sorted(p.name for p in REPO.iterdir())
    yield
    assert subprocess.run(["true"], check=False).returncode == 0
    assert sorted(p.name for p in REPO.iterdir()) == before


def test_values_and_exceptions_round_trip(sandbox: ForkServerSandbox) -> None:
    source = """
        import numpy as np
        def f(x):
            return {"x": x, "t": (1, 2.5), "a": np.arange(3)}
        def g():
            raise KeyError("nope")
    """
    out = run(sandbox, source, call("f", 7), call("g"))
    assert out.status is Status.OK, out.describe()
    assert out.observations[0].value["x"] == 7
    assert out.observations[0].value["t"] == (1, 2.5)
    assert out.observations[0].value["a"].tolist() == [0, 1, 2]
    assert out.observations[1].error_type == "builtins.KeyError"
    assert sandbox.isolation["notes"] == [] or not IS_ROOT


def test_stdout_is_captured_and_truncated(sandbox: ForkServerSandbox) -> None:
    source = """
        import sys
        def f():
            print("x" * 100_000)
            sys.stderr.write("warn\\n")
            return 1
    """
    limits = Limits(wall_seconds=5.0, output_bytes=1000)
    out = run(sandbox, source, limits=limits)
    assert out.status is Status.OK
    assert out.stdout == "x" * 1000
    assert out.stderr == "warn\n"


def test_infinite_loop_hits_wall_clock(sandbox: ForkServerSandbox) -> None:
    source = """
        import time
        def ok():
            return "first"
        def f():
            while True:
                time.sleep(0.05)
    """
    started = time.monotonic()
    out = run(sandbox, source, call("ok"), call("f"), limits=Limits(wall_seconds=1.0, cpu_seconds=30))
    assert time.monotonic() - started < 5
    assert out.status is Status.TIMEOUT and "wall-clock" in out.detail
    assert [o.value for o in out.observations] == ["first"]  # kept from before the hang


def test_per_call_limit_stops_one_slow_call_early(sandbox: ForkServerSandbox) -> None:
    source = """
        import time
        def nap(seconds):
            time.sleep(seconds)
            return seconds
    """
    # Each call's clock starts when the previous one reported: three 0.3 s calls pass a
    # 0.6 s per-call limit although together they take longer.
    limits = Limits(wall_seconds=20.0, cpu_seconds=20, call_seconds=0.6)
    out = run(sandbox, source, call("nap", 0.3), call("nap", 0.3), call("nap", 0.3), limits=limits)
    assert out.ok and [o.value for o in out.observations] == [0.3, 0.3, 0.3], out.describe()

    started = time.monotonic()
    out = run(sandbox, source, call("nap", 0.0), call("nap", 30.0), call("nap", 0.0), limits=limits)
    assert time.monotonic() - started < 5  # not the 20 s batch budget
    assert out.status is Status.TIMEOUT, out.describe()
    assert out.detail == "call 2 of 3 ran past the per-call limit of 0.6s"
    assert [o.value for o in out.observations] == [0.0]


def test_busy_loop_hits_cpu_limit(sandbox: ForkServerSandbox) -> None:
    limits = Limits(wall_seconds=20.0, cpu_seconds=1)
    out = run(sandbox, "def f():\n    while True:\n        pass\n", limits=limits)
    assert out.status is Status.TIMEOUT and "CPU" in out.detail, out.describe()
    assert out.seconds < 10


@pytest.mark.parametrize(
    "body",
    [
        "return bytearray(4 * 1024**3)",
        "import numpy as np\n    return np.ones(10**10)",
        "x = []\n    while True:\n        x.append(bytearray(10**8))",
    ],
    ids=["bytearray", "numpy", "growth"],
)
def test_memory_bomb(sandbox: ForkServerSandbox, body: str) -> None:
    source = f"def ok():\n    return 1\ndef f():\n    {body}\n"
    limits = Limits(wall_seconds=20.0, cpu_seconds=20, memory_bytes=512 * 1024**2)
    out = run(sandbox, source, call("ok"), call("f"), call("ok"), limits=limits)
    assert out.status is Status.MEMORY, out.describe()
    assert [o.value for o in out.observations] == [1]


@pytest.mark.root
@pytest.mark.skipif(not IS_ROOT, reason="needs root")
def test_fork_bomb_is_contained_and_swept(sandbox: ForkServerSandbox) -> None:
    source = """
        import os, time
        def f():
            n = 0
            while True:
                try:
                    pid = os.fork()
                except OSError:
                    return n
                if pid == 0:
                    os.setsid()  # try to leave the process group
                    while True:
                        try:
                            os.fork()
                        except OSError:
                            time.sleep(0.01)
                n += 1
    """
    limits = Limits(wall_seconds=10.0, max_processes=16, memory_bytes=1024**3)
    out = run(sandbox, source, limits=limits)
    assert out.status is Status.OK, out.describe()
    assert 0 < out.observations[0].value < 16
    assert sandbox.sandbox_uid is not None
    assert uid_processes(sandbox.sandbox_uid) == []  # escapees were swept too
    assert run(sandbox, "def f():\n    return 2\n").observations[0].value == 2


@pytest.mark.root
@pytest.mark.skipif(not IS_ROOT, reason="needs root")
def test_writes_outside_scratch_do_not_reach_the_host(sandbox: ForkServerSandbox) -> None:
    token = secrets.token_hex(6)
    targets = [f"/tmp/x-{token}", f"/var/tmp/x-{token}", f"/dev/shm/x-{token}", str(REPO / f"x-{token}"),
               f"/root/x-{token}", f"/etc/x-{token}"]  # fmt: skip
    source = """
        import os
        def f(paths):
            result = {}
            for path in paths:
                try:
                    with open(path, "w") as fh:
                        fh.write("owned")
                    result[path] = "written"
                except OSError as exc:
                    result[path] = type(exc).__name__
            with open("local.txt", "w") as fh:
                fh.write("scratch is writable")
            result["cwd"] = os.getcwd()
            return result
    """
    out = run(sandbox, source, call("f", targets))
    assert out.status is Status.OK, out.describe()
    result = out.observations[0].value
    for path in (str(REPO / f"x-{token}"), f"/root/x-{token}", f"/etc/x-{token}"):
        assert result[path] in ("PermissionError", "FileNotFoundError")  # jail: not even visible
    for path in targets:
        assert not os.path.exists(path), path
    # the private tmp of the server is emptied after the run (seen through /proc/<pid>/root)
    server_tmp = Path(f"/proc/{sandbox.server_pid}/root/tmp")
    leftovers = [p for p in server_tmp.iterdir() if not p.name.startswith("dpo-sandbox-")]
    assert leftovers == []
    assert all(list(base.iterdir()) == [] for base in server_tmp.iterdir())


@pytest.mark.root
@pytest.mark.skipif(not IS_ROOT, reason="needs root")
def test_cannot_delete_or_alter_root_owned_files(sandbox: ForkServerSandbox) -> None:
    canary_dir = Path(tempfile.mkdtemp(prefix="dpo-canary-", dir="/var/lib"))  # root-owned, not tmp
    canary_dir.chmod(0o755)
    canary = canary_dir / "canary.txt"
    canary.write_text("alive")
    try:
        source = """
            import os, shutil
            def f(path):
                attempts = {}
                for name, action in [
                    ("remove", lambda: os.remove(path)),
                    ("rename", lambda: os.rename(path, path + ".moved")),
                    ("truncate", lambda: open(path, "w").close()),
                    ("chmod", lambda: os.chmod(path, 0o777)),
                    ("rmtree", lambda: shutil.rmtree(os.path.dirname(path))),
                ]:
                    try:
                        action()
                        attempts[name] = "done"
                    except OSError as exc:
                        attempts[name] = type(exc).__name__
                return attempts
        """
        out = run(sandbox, source, call("f", str(canary)))
        assert out.status is Status.OK, out.describe()
        assert set(out.observations[0].value.values()) <= {"PermissionError", "FileNotFoundError"}
        unjailed = ForkServerSandbox(jail=False)  # the canary is visible: permissions hold too
        try:
            out = run(unjailed, source, call("f", str(canary)))
        finally:
            unjailed.close()
        assert out.status is Status.OK, out.describe()
        assert set(out.observations[0].value.values()) == {"PermissionError"}
        assert canary.read_text() == "alive"
        assert sorted(p.name for p in canary_dir.iterdir()) == ["canary.txt"]
    finally:
        shutil.rmtree(canary_dir)


@pytest.mark.root
@pytest.mark.skipif(not IS_ROOT, reason="needs root")
def test_network_is_unreachable(sandbox: ForkServerSandbox) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.3)
        port = listener.getsockname()[1]
        source = """
            import socket
            def f(port):
                results = []
                for address in [("127.0.0.1", port), ("8.8.8.8", 53)]:
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    s.settimeout(1.0)
                    try:
                        s.connect(address)
                        results.append("connected")
                    except OSError as exc:
                        results.append(type(exc).__name__)
                    finally:
                        s.close()
                return results
        """
        out = run(sandbox, source, call("f", port))
        assert out.status is Status.OK, out.describe()
        assert "connected" not in out.observations[0].value
        with pytest.raises(TimeoutError):
            listener.accept()


_SNOOP = """
    import os
    def f(host_pid):
        seen = {"environ": dict(os.environ)}
        for name in ("self", str(os.getppid()), str(host_pid), "1"):
            try:
                with open(f"/proc/{name}/environ", "rb") as fh:
                    seen[name] = fh.read().decode("latin-1")
            except OSError as exc:
                seen[name] = type(exc).__name__
        return seen
"""


@pytest.fixture(scope="module")
def secret_pool() -> Iterator[tuple[str, SandboxPool]]:
    """A pool started while the host environment holds a secret."""
    secret = "s3cr3t-" + secrets.token_hex(8)
    os.environ["DPO_SANDBOX_TEST_SECRET"] = secret
    try:
        with SandboxPool(size=2) as pool:
            pool.members[0].start()
            yield secret, pool
    finally:
        os.environ.pop("DPO_SANDBOX_TEST_SECRET", None)


def test_environment_secrets_do_not_leak(secret_pool: tuple[str, SandboxPool]) -> None:
    secret, pool = secret_pool
    out = pool.run(textwrap.dedent(_SNOOP), HARNESS, [call("f", os.getpid())], QUICK)
    assert out.status is Status.OK, out.describe()
    seen = out.observations[0].value
    assert secret not in repr(seen) and secret not in out.stdout + out.stderr
    assert seen["environ"] == {}
    server = pool.members[0]
    with open(f"/proc/{server.server_pid}/environ", "rb") as fh:  # the server never had it
        assert secret.encode() not in fh.read()
    if IS_ROOT:
        assert seen[str(os.getpid())] in ("FileNotFoundError", "PermissionError")


def test_pool_runs_concurrently_with_distinct_uids(secret_pool: tuple[str, SandboxPool]) -> None:
    _, pool = secret_pool
    source = "import os, time\ndef f():\n    time.sleep(0.5)\n    return os.getuid()\n"
    results: list[Outcome] = []
    threads = [
        threading.Thread(target=lambda: results.append(pool.run(source, HARNESS, [call()], QUICK)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status is Status.OK for r in results), [r.describe() for r in results]
    if IS_ROOT:
        uids = sorted(r.observations[0].value for r in results)
        assert uids == sorted(m.sandbox_uid for m in pool.members) and uids[0] != uids[1]


@pytest.mark.root
@pytest.mark.skipif(not IS_ROOT, reason="needs root")
def test_killing_the_parent_fails(sandbox: ForkServerSandbox) -> None:
    server_pid, starts = sandbox.server_pid, sandbox.starts
    source = """
        import os, signal
        def f(host_pid):
            attempts = []
            for action in (
                lambda: os.kill(os.getppid(), signal.SIGKILL),
                lambda: os.killpg(os.getpgid(os.getppid()), signal.SIGKILL),
                lambda: os.kill(host_pid, signal.SIGKILL),
                lambda: os.killpg(os.getpgid(host_pid), signal.SIGKILL),
                lambda: os.kill(1, signal.SIGKILL),
            ):
                try:
                    action()
                    attempts.append("sent")
                except OSError as exc:
                    attempts.append(type(exc).__name__)
            return attempts
        def g():
            os.kill(-1, signal.SIGKILL)  # everything this uid may signal: nothing but itself
            os.killpg(0, signal.SIGKILL)  # its own process group: itself
    """
    out = run(sandbox, source, call("f", os.getpid()), call("g"), call("f", os.getpid()))
    assert out.status is Status.EXITED and "SIGKILL" in out.detail, out.describe()
    assert len(out.observations) == 1
    assert "sent" not in out.observations[0].value
    assert sandbox.server_pid == server_pid and sandbox.starts == starts
    assert run(sandbox, "def f():\n    return 3\n").ok


def test_server_restarts_transparently(secret_pool: tuple[str, SandboxPool]) -> None:
    _, pool = secret_pool
    member = pool.members[0]
    member.start()
    starts, server_pid, old_uid = member.starts, member.server_pid, member.sandbox_uid
    assert server_pid is not None
    killer = threading.Timer(0.5, os.kill, (server_pid, signal.SIGKILL))  # dies mid-run
    killer.start()
    out = member.run("import time\ndef f():\n    time.sleep(5)\n", HARNESS, [call()], QUICK)
    killer.join()
    assert out.status is Status.CRASHED and "fork server" in out.detail, out.describe()
    out = member.run("def f():\n    return 4\n", HARNESS, [call()], QUICK)
    assert out.ok and out.observations[0].value == 4
    assert member.starts == starts + 1 and member.server_pid != server_pid
    if IS_ROOT:  # the orphaned sandbox died with its server (parent-death signal)
        deadline = time.monotonic() + 5
        while uid_processes(old_uid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert uid_processes(old_uid) == []


def test_without_privilege_drop_the_sandbox_still_runs() -> None:
    with ForkServerSandbox(drop_privileges=False) as sb:
        assert any("keep the server's uid" in note for note in sb.isolation["notes"])
        out = run(sb, "import os\ndef f():\n    return os.getuid() == os.geteuid()\n")
        assert out.ok and out.observations[0].value is True


def test_sys_exit_is_a_recorded_exception(sandbox: ForkServerSandbox) -> None:
    source = "import sys\ndef ok():\n    return 1\ndef f():\n    sys.exit(0)\n"
    out = run(sandbox, source, call("ok"), call("f"), call("ok"))
    assert out.status is Status.OK
    assert out.observations[1].error_type == "builtins.SystemExit"
    assert [o.value for o in out.observations] == [1, None, 1]


def test_os_exit_mid_call_is_exited(sandbox: ForkServerSandbox) -> None:
    source = "import os\ndef ok():\n    return 1\ndef f():\n    os._exit(0)\n"
    out = run(sandbox, source, call("ok"), call("f"), call("ok"))
    assert out.status is Status.EXITED and "status 0" in out.detail, out.describe()
    assert [o.value for o in out.observations] == [1]


def test_exit_during_import(sandbox: ForkServerSandbox) -> None:
    out = run(sandbox, "import sys\nsys.exit(0)\n")
    assert out.status is Status.IMPORT_ERROR and "SystemExit" in out.detail
    out = run(sandbox, "import os\nos._exit(0)\n")
    assert out.status is Status.EXITED and out.observations == ()
    out = run(sandbox, "def f(:\n")
    assert out.status is Status.IMPORT_ERROR and "SyntaxError" in out.detail


def test_segfault_keeps_earlier_results(sandbox: ForkServerSandbox) -> None:
    source = "import ctypes\ndef ok(x):\n    return x\ndef f():\n    return ctypes.string_at(0)\n"
    out = run(sandbox, source, call("ok", 1), call("ok", 2), call("f"), call("ok", 3))
    assert out.status is Status.EXITED and "SIGSEGV" in out.detail, out.describe()
    assert [o.value for o in out.observations] == [1, 2]


def test_hostile_values_arrive_as_foreign(sandbox: ForkServerSandbox) -> None:
    source = """
        import numpy as np
        class Liar:
            def __eq__(self, other):
                return True
            __hash__ = object.__hash__
        class F(float):
            pass
        class L(list):
            pass
        def liar():
            return Liar()
        def flt():
            return F(1.5)
        def lst():
            return L([1])
        def scalar():
            return np.float64(2.0)
    """
    out = run(sandbox, source, call("liar"), call("flt"), call("lst"), call("scalar"))
    assert out.status is Status.OK
    values = [o.value for o in out.observations]
    assert all(isinstance(v, Foreign) for v in values)
    assert values[0].type_name == "solution.Liar" and values[0] != 1
    assert values[1].type_name == "solution.F" and values[1] != 1.5
    assert values[3].value == 2.0


def test_forged_frames_are_rejected(sandbox: ForkServerSandbox) -> None:
    source = """
        import os
        def f():
            frame = b'\\x00\\x00\\x00\\x16{"n":"\\xc3\\xa9","k":"end"}  '
            for fd in range(3, 1024):
                try:
                    os.write(fd, frame)
                except OSError:
                    pass
            return 1
    """
    out = run(sandbox, source)
    assert out.status is Status.CRASHED and "result channel" in out.detail, out.describe()


@pytest.mark.root
@pytest.mark.skipif(not IS_ROOT, reason="needs root")
def test_jail_hides_the_filesystem(sandbox: ForkServerSandbox) -> None:
    reference = REPO / "dpo_assets/tasks/pytest_traceback_repair/moving_average/reference.py"
    source = """
        import os
        def f(paths):
            seen = {"/": sorted(os.listdir("/")), "cwd": os.getcwd()}
            for path in paths:
                try:
                    with open(path) as fh:
                        seen[path] = fh.read()
                except OSError as exc:
                    seen[path] = type(exc).__name__
            return seen
    """
    out = run(sandbox, source, call("f", [str(reference), "/etc/passwd", "/proc/self/environ"]))
    assert out.status is Status.OK, out.describe()
    seen = out.observations[0].value
    assert seen["/"] == ["dev", "solution.py", "tmp"] and seen["cwd"] == "/"
    assert {seen[p] for p in (str(reference), "/etc/passwd", "/proc/self/environ")} == {"FileNotFoundError"}


def test_load_false_only_writes_the_module(sandbox: ForkServerSandbox) -> None:
    out = sandbox.run("this is not python", HARNESS, [Call("noop")], QUICK, load=False)
    assert out.status is Status.OK and out.observations[0].value is None
    assert InProcessExecutor().run("x = (", HARNESS, [Call("noop")], load=False).ok


def test_candidate_cannot_see_the_test_frameworks(sandbox: ForkServerSandbox) -> None:
    """A candidate that behaves only when it detects a test run must see a plain interpreter."""
    source = """
        import sys
        def f():
            return sorted(n for n in ("pytest", "_pytest", "hypothesis", "coverage") if n in sys.modules)
    """
    out = run(sandbox, source)
    assert out.status is Status.OK, out.describe()
    assert out.observations[0].value == []


def test_builtin_rebinding_cannot_launder_results(sandbox: ForkServerSandbox) -> None:
    """Rebinding builtins.type (so numpy floats look like floats) does not fool the wire."""
    source = """
        import builtins
        import numpy as np
        _real_type = builtins.type
        def fake_type(obj, *rest):
            return float if not rest and isinstance(obj, np.floating) else _real_type(obj, *rest)
        builtins.type = fake_type
        def f():
            return [np.float64(1.5)]
    """
    out = run(sandbox, source)
    assert out.status is Status.OK, out.describe()
    (item,) = out.observations[0].value
    assert isinstance(item, Foreign) and item.type_name == "numpy.float64"


def test_fake_builtin_exception_is_not_taken_for_the_real_one(sandbox: ForkServerSandbox) -> None:
    source = """
        class Fake(Exception):
            pass
        Fake.__module__ = "builtins"
        Fake.__qualname__ = "ValueError"
        def f():
            raise Fake("looks like a ValueError")
        def g():
            class Real(ValueError):
                pass
            raise Real("a genuine subclass")
    """
    out = run(sandbox, source, call("f"), call("g"))
    fake, real = out.observations
    assert not fake.raised_subclass_of("builtins.ValueError")
    assert fake.error_type == "candidate:ValueError"
    assert real.raised_subclass_of("builtins.ValueError")


def test_value_records_travel_as_text_and_bad_ones_are_refused() -> None:
    from dpo_assets.sandbox.forkserver import _outcome

    base = {"status": "ok", "detail": "", "stdout": "", "stderr": "", "seconds": 0.1, "exit_code": 0}
    value = '{"value":{"$t":[1,{"$c":[0.5,-0.0]}]},"seconds":0.01}'
    error = {"error_type": "builtins.ValueError", "error_mro": ["builtins.ValueError"], "error_message": "x"}
    out = _outcome({**base, "records": [value, error]})
    assert out.ok and out.observations[0].value == (1, complex(0.5, -0.0))
    assert out.observations[1].error_type == "builtins.ValueError"
    for bad in ("[1, 2]", "not json", '{"value": {"$nope": 1}}'):
        assert _outcome({**base, "records": [bad]}).status is Status.CRASHED, bad
