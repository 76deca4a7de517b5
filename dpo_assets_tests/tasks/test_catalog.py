"""Catalog-wide: every task unit is complete and its reference passes its own material."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from dpo_assets.gate import engine
from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.tasks import get_task, load_catalog
from dpo_assets.tasks.catalog import UnknownTaskError

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "tasks.md"
TASK_IDS = list(load_catalog())
EXECUTOR = InProcessExecutor()


def spec_task_ids() -> list[str]:
    return re.findall(r"^### `([a-z_]+/[a-z_]+)`", SPEC.read_text(), flags=re.M)


@pytest.mark.skipif(not SPEC.exists(), reason="shared/spec not beside the checkout")
def test_catalog_has_exactly_the_spec_tasks() -> None:
    assert sorted(TASK_IDS) == sorted(spec_task_ids())


def test_unknown_task_is_a_clear_error() -> None:
    with pytest.raises(UnknownTaskError):
        get_task("no/such_task")


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_unit_is_complete(task_id: str) -> None:
    task = get_task(task_id)
    for name in ("reference.py", "suite.py", "harness.py"):
        assert (task.unit_dir / name).is_file(), name
    ast.parse(task.reference_source)
    assert task.invariants and task.differential and task.properties and task.fuzz and task.edge
    assert task.semantic.functions
    harness = __import__(task.harness, fromlist=["_"])
    drivers = {c.call.driver for c in (*task.invariants, *task.fuzz, *task.edge)}
    drivers |= {c.call.driver for c in task.differential} | {p.driver for p in task.properties}
    for driver in drivers:
        assert callable(getattr(harness, driver, None)), f"{task.harness} lacks driver {driver}"
    prompt = task.prompt()
    for signature in task.semantic.functions:
        assert signature.name in prompt
    if task.is_repair:
        assert task.broken_source, "repair tasks ship broken.py"
        assert task.broken_source in prompt


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_reference_passes_its_own_material(task_id: str) -> None:
    task = get_task(task_id)
    source = task.reference_source
    violations = [
        *engine.run_cases(EXECUTOR, task, source, task.invariants),
        *engine.run_differential(EXECUTOR, task, source, task.differential),
        *engine.run_properties(EXECUTOR, task, source, task.properties),
        *engine.run_cases(EXECUTOR, task, source, task.fuzz),
        *engine.run_cases(EXECUTOR, task, source, task.edge),
    ]
    assert violations == []


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_reference_passes_its_own_suite(task_id: str, run_suite) -> None:
    proc = run_suite(get_task(task_id), get_task(task_id).reference_source)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert " passed" in proc.stdout


@pytest.mark.parametrize("task_id", [t for t in TASK_IDS if get_task(t).is_repair])
def test_broken_module_fails_the_suite(task_id: str, run_suite) -> None:
    task = get_task(task_id)
    proc = run_suite(task, task.broken_source or "")
    assert proc.returncode == 1, proc.stdout[-3000:]
