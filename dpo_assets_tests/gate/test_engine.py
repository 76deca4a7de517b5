"""The generic engines: property draws are reproducible whoever asks, references are cached."""

from __future__ import annotations

import subprocess
import sys
import threading

from dpo_assets.gate import engine
from dpo_assets.tasks import get_task

DIGEST = """
import hashlib, json, sys
if sys.argv[1] == "heavy":  # a process that imported much more local code first
    import dpo_assets.sandbox.forkserver, dpo_assets.tasks.fft.transform.harness  # noqa: E401
from dpo_assets.gate.engine import draw_examples
from dpo_assets.tasks import load_catalog
h = hashlib.sha256()
for task in load_catalog().values():
    for spec in task.properties:
        h.update(json.dumps(draw_examples(spec), sort_keys=True, default=repr).encode())
print(h.hexdigest())
"""


def test_draws_do_not_depend_on_what_the_process_imported() -> None:
    runs = [subprocess.run([sys.executable, "-c", DIGEST, mode], capture_output=True, text=True, check=True)
            for mode in ("light", "heavy")]
    digests = {run.stdout for run in runs}
    assert len(digests) == 1


def test_draws_are_stable_under_threads() -> None:
    spec = get_task("monte_carlo/metropolis").properties[0]
    expected = engine.draw_examples(spec)
    results: list[list] = []
    threads = [threading.Thread(target=lambda: results.append(engine.draw_examples(spec))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results) and len(results) == 4


def test_a_violation_names_the_case_and_the_reason() -> None:
    task = get_task("pytest_traceback_repair/moving_average")
    from dpo_assets.sandbox.executor import InProcessExecutor

    broken = task.broken_source or ""
    violations = engine.run_cases(InProcessExecutor(), task, broken, task.invariants)
    assert violations
    assert all(v.case.startswith("average(") and v.reason for v in violations)
