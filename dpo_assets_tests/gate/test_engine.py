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


def test_layer_limits_bound_every_batch_and_every_call() -> None:
    fft, parse = get_task("fft/transform"), get_task("pytest_traceback_repair/parse_duration")
    for layer in (1, 2, 3, 4):
        limits = engine.layer_limits(parse, layer)
        assert limits.wall_seconds == engine.LAYER_SECONDS[layer]
        assert limits.call_seconds == engine.CALL_SECONDS
        assert limits.cpu_seconds >= limits.wall_seconds
    edge = engine.layer_limits(fft, 7)
    assert (edge.wall_seconds, edge.call_seconds) == (fft.edge_seconds, fft.edge_call_seconds)
    assert edge.call_seconds < edge.wall_seconds


def test_a_hanging_candidate_costs_one_call_budget_not_the_batch() -> None:
    import time

    from dpo_assets.sandbox.forkserver import ForkServerSandbox

    task = get_task("pytest_traceback_repair/parse_duration")
    source = "import time\n\ndef parse_duration(text):\n    time.sleep(60)\n"
    with ForkServerSandbox() as sandbox:
        sandbox.start()
        started = time.monotonic()
        violations = engine.run_layer(sandbox, task, source, 1)
        elapsed = time.monotonic() - started
    assert violations and "per-call limit" in violations[-1].reason, violations
    assert elapsed < engine.CALL_SECONDS + 1.5
    assert engine.LAYER_SECONDS[1] > engine.CALL_SECONDS


def test_call_batches_are_shared_only_for_immutable_material() -> None:
    task = get_task("fft/transform")
    assert engine.calls_of(task.fuzz) is engine.calls_of(task.fuzz)  # shipped once per server
    as_list = list(task.fuzz)
    first = engine.calls_of(as_list)
    as_list.pop()
    assert len(engine.calls_of(as_list)) == len(first) - 1  # a list is never remembered


def test_layer_modules_check_their_own_layer() -> None:
    import pytest

    from dpo_assets.gate.layers import edge, fuzz, invariant
    from dpo_assets.sandbox.executor import InProcessExecutor

    parse = get_task("pytest_traceback_repair/parse_duration")
    source = "def parse_duration(text):\n    return 0\n"  # wrong everywhere
    for module in (invariant, fuzz, edge):
        violations = module.check(InProcessExecutor(), parse, source)
        assert violations, module.NAME
        assert violations == engine.run_layer(InProcessExecutor(), parse, source, module.NUMBER)
    with pytest.raises(ValueError, match="not an execution layer"):
        engine.layer_check(5)
