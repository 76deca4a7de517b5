"""Sandbox throughput: one trivial call per run, fork server vs a fresh interpreter per call.

    .venv/bin/python benchmarks/bench_sandbox.py [--seconds 3]

The fork-server rows include the whole isolation (rlimits, uid drop, chroot, fd hygiene,
result framing). The ``subprocess.run`` rows are *un*isolated baselines: a fresh
``python -c`` per call that compiles the candidate, calls it and prints JSON, once without
and once with ``import numpy`` (what a fair per-call sandbox has to pay, since candidates
and harnesses use numpy). They show the cost the warm fork server avoids, not a
like-for-like security comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.sandbox.forkserver import ForkServerSandbox, server_env
from dpo_assets.sandbox.outcome import Call

HARNESS = "dpo_assets.sandbox.generic_harness"
SOURCE = "def add(a, b):\n    return a + b\n"
CALL = Call("call", {"function": "add", "args": [2, 3]})
SCRIPT = (
    "import json\n"
    "ns = {}\n"
    f"exec(compile({SOURCE!r}, 'solution.py', 'exec'), ns)\n"
    "print(json.dumps(ns['add'](2, 3)))\n"
)


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (servers, sandboxes, spawns)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure(step: Callable[[], None], seconds: float) -> tuple[int, float, float]:
    """Run ``step`` repeatedly for about ``seconds``: (runs, wall seconds, CPU seconds)."""
    step()  # warm-up
    runs, started, cpu = 0, time.perf_counter(), cpu_seconds()
    while time.perf_counter() - started < seconds:
        step()
        runs += 1
    return runs, time.perf_counter() - started, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per row (default 3)")
    args = parser.parse_args()

    env = server_env()
    rows: list[tuple[str, int, float, float]] = []

    cpu = cpu_seconds()
    started = time.perf_counter()
    with ForkServerSandbox() as sandbox:
        startup = time.perf_counter() - started
    startup_cpu = cpu_seconds() - cpu  # the server's CPU is counted once it has exited

    cpu = cpu_seconds()
    with ForkServerSandbox() as sandbox:

        def forkserver() -> None:
            outcome = sandbox.run(SOURCE, HARNESS, [CALL])
            assert outcome.ok and outcome.observations[0].value == 5, outcome.describe()

        runs, wall, _ = measure(forkserver, args.seconds)
    # server + sandbox CPU arrives when the server exits; the start-up share is removed
    used = (cpu_seconds() - cpu - startup_cpu) * runs / (runs + 1)
    rows.append(("fork server (isolated)", runs, wall, used))

    def spawn(prefix: str) -> Callable[[], None]:
        def step() -> None:
            done = subprocess.run(
                [sys.executable, "-c", prefix + SCRIPT], capture_output=True, env=env, check=True
            )
            assert json.loads(done.stdout) == 5

        return step

    rows.append(("subprocess.run python -c", *measure(spawn(""), args.seconds)))
    rows.append(("subprocess.run python -c + numpy", *measure(spawn("import numpy\n"), args.seconds)))
    in_process = InProcessExecutor()
    reference = measure(lambda: in_process.run(SOURCE, HARNESS, [CALL]), 0.5)
    rows.append(("in-process (no isolation, reference)", *reference))

    load = os.getloadavg()[0]
    print(f"fork server start-up: {startup:.2f} s wall, {startup_cpu:.2f} s CPU   "
          f"cpus: {os.cpu_count()}   load average: {load:.1f}")  # fmt: skip
    print(f"{'mode':<38} {'runs':>6} {'calls/s':>9} {'ms/call':>8} {'CPU ms/call':>12}")
    for name, runs, wall, cpu_used in rows:
        n = max(runs, 1)
        per_call = f"{1000 * wall / n:>8.2f} {1000 * cpu_used / n:>12.2f}"
        print(f"{name:<38} {runs:>6} {runs / wall:>9.1f} {per_call}")
    rate = {name: runs / wall for name, runs, wall, _ in rows}
    speedup = rate["fork server (isolated)"] / rate["subprocess.run python -c + numpy"]
    print(f"fork server vs subprocess+numpy (calls/s): {speedup:.1f}x")


if __name__ == "__main__":
    main()
