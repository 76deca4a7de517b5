"""The bundled labels hold in the real sandbox: correct candidates pass every execution layer's
material and the suite; broken and hacking ones fail each execution layer their label names.

(Layers 5, 6 and 8 are judged by the gate; their labels are checked there.)
Each layer runs within the gate's own budgets (doubled for a loaded machine), so a hanging
broken candidate costs what it costs in the gate.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate import engine
from dpo_assets.sandbox.concurrency import default_jobs
from dpo_assets.sandbox.executor import Executor
from dpo_assets.sandbox.forkserver import SandboxPool
from dpo_assets.sandbox.pytest_runner import run_suite
from dpo_assets.tasks import Task, get_task, load_catalog

pytestmark = pytest.mark.slow

EXECUTION_LAYERS = engine.EXECUTION_LAYERS


def _samples() -> list[tuple[dict, dict]]:
    out = []
    for task_id in load_catalog():
        labels = load_labels(task_id)
        # a missing label fails test_bundled_corpus; here only labelled samples are judged
        out.extend((s, labels[i]) for i, s in load_samples(task_id).items() if i in labels)
    return out


SAMPLES = _samples()


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(size=default_jobs()) as sandboxes:
        yield sandboxes


@cache
def _reference(task_id: str) -> tuple:
    task = get_task(task_id)
    return engine.reference_observations(task, [c.call for c in task.differential])


def run_layer(executor: Executor, task: Task, source: str, layer: int) -> list[engine.Violation]:
    limits = engine.layer_limits(task, layer).scaled(2)  # the gate's budgets: the suite shares 2 cores
    reference = _reference(task.task_id) if layer == 2 else None
    return engine.run_layer(executor, task, source, layer, limits, reference)


def check_sample(executor: Executor, sample: dict, label: dict) -> list[str]:
    """Problems with ``sample``'s label, judged in the sandbox (empty: the label holds)."""
    task = get_task(sample["task_id"])
    problems = []
    if label["label"] == "correct":
        for layer in EXECUTION_LAYERS:
            violations = run_layer(executor, task, sample["code"], layer)
            if violations:
                problems.append(f"layer {layer}: {violations[0].line()}")
        report = run_suite(executor, sample["code"], task.suite_source)
        if report["exit_code"] != 0:
            problems.append(f"suite: {report['status']} exit={report['exit_code']} {report['output'][-300:]}")
        return problems
    for layer in sorted(set(label["caught_by"]) & set(EXECUTION_LAYERS)):
        if not run_layer(executor, task, sample["code"], layer):
            problems.append(f"layer {layer} did not reject it")
    return problems


@pytest.mark.parametrize("task_id", sorted({s["task_id"] for s, _ in SAMPLES}))
def test_labels_hold_in_the_sandbox(task_id: str, pool: SandboxPool) -> None:
    rows = [(s, lab) for s, lab in SAMPLES if s["task_id"] == task_id]
    _reference(task_id)  # in-process and seeded: compute it here, not from two threads at once
    with ThreadPoolExecutor(max_workers=default_jobs()) as threads:
        results = list(threads.map(lambda row: (row[0]["sample_id"], check_sample(pool, *row)), rows))
    failures = {sample_id: problems for sample_id, problems in results if problems}
    assert failures == {}
