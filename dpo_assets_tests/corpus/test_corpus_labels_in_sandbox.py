"""The bundled labels hold in the real sandbox: correct candidates pass every execution layer's
material and the suite; broken and hacking ones fail each execution layer their label names.

(Layers 5, 6 and 8 are judged by the gate; their labels are checked there.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest

from dpo_assets import paths
from dpo_assets.gate import engine
from dpo_assets.sandbox.executor import Executor
from dpo_assets.sandbox.forkserver import SandboxPool
from dpo_assets.sandbox.limits import Limits
from dpo_assets.sandbox.pytest_runner import run_suite
from dpo_assets.tasks import Task, get_task

pytestmark = pytest.mark.slow

EXECUTION_LAYERS = (1, 2, 3, 4, 7)
LIMITS = Limits(wall_seconds=20.0, cpu_seconds=20)


def _samples() -> list[tuple[dict, dict]]:
    labels: dict[str, dict] = {}
    for path in sorted(paths.labels_dir().glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            labels[row["sample_id"]] = row
    out = []
    for path in sorted(paths.bundled_dir().glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            sample = json.loads(line)
            if sample["sample_id"] in labels:  # a missing label fails test_bundled_corpus
                out.append((sample, labels[sample["sample_id"]]))
    return out


SAMPLES = _samples()


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(size=2) as sandboxes:
        yield sandboxes


@cache
def _reference(task_id: str) -> tuple:
    task = get_task(task_id)
    return engine.reference_observations(task, [c.call for c in task.differential])


def layer_runner(layer: int) -> Callable[[Executor, Task, str], list[engine.Violation]]:
    def run(executor: Executor, task: Task, source: str) -> list[engine.Violation]:
        if layer == 1:
            return engine.run_cases(executor, task, source, task.invariants, LIMITS)
        if layer == 2:
            return engine.run_differential(
                executor, task, source, task.differential, LIMITS, _reference(task.task_id)
            )
        if layer == 3:
            return engine.run_properties(executor, task, source, task.properties, LIMITS)
        if layer == 4:
            return engine.run_cases(executor, task, source, task.fuzz, LIMITS)
        edge_limits = Limits(wall_seconds=task.edge_seconds * 2, cpu_seconds=int(task.edge_seconds * 2))
        return engine.run_cases(executor, task, source, task.edge, edge_limits)

    return run


def check_sample(executor: Executor, sample: dict, label: dict) -> list[str]:
    """Problems with ``sample``'s label, judged in the sandbox (empty: the label holds)."""
    task = get_task(sample["task_id"])
    problems = []
    if label["label"] == "correct":
        for layer in EXECUTION_LAYERS:
            violations = layer_runner(layer)(executor, task, sample["code"])
            if violations:
                problems.append(f"layer {layer}: {violations[0].line()}")
        report = run_suite(executor, sample["code"], task.suite_source)
        if report["exit_code"] != 0:
            problems.append(f"suite: {report['status']} exit={report['exit_code']} {report['output'][-300:]}")
        return problems
    for layer in sorted(set(label["caught_by"]) & set(EXECUTION_LAYERS)):
        if not layer_runner(layer)(executor, task, sample["code"]):
            problems.append(f"layer {layer} did not reject it")
    return problems


@pytest.mark.parametrize("task_id", sorted({s["task_id"] for s, _ in SAMPLES}))
def test_labels_hold_in_the_sandbox(task_id: str, pool: SandboxPool) -> None:
    rows = [(s, lab) for s, lab in SAMPLES if s["task_id"] == task_id]
    _reference(task_id)  # in-process and seeded: compute it here, not from two threads at once
    with ThreadPoolExecutor(max_workers=2) as threads:
        results = list(threads.map(lambda row: (row[0]["sample_id"], check_sample(pool, *row)), rows))
    failures = {sample_id: problems for sample_id, problems in results if problems}
    assert failures == {}
