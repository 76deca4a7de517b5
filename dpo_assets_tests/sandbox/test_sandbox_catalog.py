"""Every task unit runs in the sandbox exactly as in-process: nothing it needs is missing
after the privilege drop (preloaded modules) and its reference passes its own suite."""

from __future__ import annotations

import pytest

from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.sandbox.forkserver import get_sandbox
from dpo_assets.sandbox.pytest_runner import run_suite
from dpo_assets.tasks.catalog import load_catalog

TASKS = load_catalog()


@pytest.mark.slow
@pytest.mark.parametrize("task_id", list(TASKS))
def test_reference_behaves_the_same_in_the_sandbox(task_id: str) -> None:
    task = TASKS[task_id]
    calls = [c.call for c in (*task.invariants, *task.differential, *task.fuzz, *task.edge)]
    sandboxed = get_sandbox().run(task.reference_source, task.harness, calls)
    trusted = InProcessExecutor().run(task.reference_source, task.harness, calls)
    assert sandboxed.ok, sandboxed.describe() + sandboxed.stderr
    assert len(sandboxed.observations) == len(calls)
    for call, mine, theirs in zip(calls, sandboxed.observations, trusted.observations):
        assert mine.error_type == theirs.error_type, (call.describe(), mine.describe(), theirs.describe())


@pytest.mark.slow
@pytest.mark.parametrize("task_id", list(TASKS))
def test_reference_passes_its_suite_in_the_sandbox(task_id: str) -> None:
    task = TASKS[task_id]
    if not (task.unit_dir / "suite.py").exists():
        pytest.skip(f"{task_id} has no suite.py yet")
    report = run_suite(get_sandbox(), task.reference_source, task.suite_source, coverage=True)
    assert report["exit_code"] == 0, report["output"]
    assert report["failed"] == report["errors"] == 0 and report["passed"] > 0
    assert report["coverage"] is not None and report["coverage"] > 80
