"""The naive baseline of ``bench_gate.py``: a fresh Python interpreter for every single check.

:class:`NaiveExecutor` implements the gate's ``Executor`` interface, so the gate's own engines
and layer modules run unchanged on top of it; only *how* calls execute differs. Each call
(one invariant, one differential case, one Hypothesis example, one fuzz or edge case, one
layer-8 suite run) starts ``python -m benchmarks.naive_executor`` in a scratch directory, which
imports the harness, loads the candidate, runs that one call and prints the encoded record.
It has no isolation beyond a subprocess with a timeout (cheaper than a real sandbox), so the
comparison flatters the baseline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dpo_assets.sandbox.executor import call_payload, observation_from_record
from dpo_assets.sandbox.forkserver import server_env
from dpo_assets.sandbox.limits import DEFAULT_LIMITS, Limits
from dpo_assets.sandbox.outcome import Call, Outcome, Status
from dpo_assets.sandbox.wire import decode, encode

ROOT = Path(__file__).resolve().parents[1]


class NaiveExecutor:
    """One interpreter per call; the batch's records are collected call by call."""

    def run(
        self,
        source: str,
        harness: str,
        calls: Sequence[Call],
        limits: Limits | None = None,
        *,
        load: bool = True,
    ) -> Outcome:
        limits = limits or DEFAULT_LIMITS
        started = time.perf_counter()
        records: list[dict[str, Any]] = []
        for call in call_payload(calls):
            request = {"source": source, "harness": harness, "load": load,
                       "call": {"driver": call["driver"], "kwargs": encode(call["kwargs"])}}  # fmt: skip
            scratch = tempfile.mkdtemp(prefix="naive-")
            try:
                done = subprocess.run(
                    [sys.executable, "-m", "benchmarks.naive_executor"],
                    input=json.dumps(request).encode(),
                    capture_output=True,
                    cwd=scratch,
                    env={**server_env(), "PYTHONPATH": str(ROOT)},
                    timeout=limits.call_seconds or limits.wall_seconds,
                )
            except subprocess.TimeoutExpired:
                return Outcome(Status.TIMEOUT, tuple(map(observation_from_record, records)))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
            try:
                reply = json.loads(lines[-1])
            except (IndexError, ValueError):
                return Outcome(Status.EXITED, tuple(map(observation_from_record, records)),
                               detail=f"exit {done.returncode}")  # fmt: skip
            if "import_error" in reply:
                return Outcome(Status.IMPORT_ERROR, detail=str(reply["import_error"]))
            records.append(reply["record"])
        observations = tuple(observation_from_record(r) for r in records)
        return Outcome(Status.OK, observations, seconds=time.perf_counter() - started)


def _child() -> None:
    """Run one call (stdin: the request) and print its record as the last stdout line."""
    import importlib

    from dpo_assets.sandbox import runtime

    request = json.loads(sys.stdin.read())
    harness = importlib.import_module(request["harness"])
    Path("solution.py").write_text(request["source"], encoding="utf-8")
    sys.path.insert(0, os.getcwd())
    module = None
    if request["load"]:
        try:
            module = runtime.load_candidate(request["source"], os.path.abspath("solution.py"))
        except BaseException as exc:
            print(json.dumps({"import_error": runtime.describe_exception(exc)["error_message"]}))
            return
    call = {"driver": request["call"]["driver"], "kwargs": decode(request["call"]["kwargs"])}
    records: list[dict[str, Any]] = []
    runtime.run_calls(module, harness, [call], records.append)
    sys.stdout.flush()
    os.write(1, ("\n" + json.dumps({"record": records[0]}) + "\n").encode())
    os._exit(0)


if __name__ == "__main__":
    _child()
