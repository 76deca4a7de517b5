"""Repair-task tracebacks are the real pytest reports of the suite on the broken module."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from dpo_assets import paths
from dpo_assets.corpus.tracebacks import TracebackError, refresh_file, suite_traceback
from dpo_assets.sandbox.forkserver import ForkServerSandbox
from dpo_assets.tasks import get_task, load_catalog

REPAIR_TASKS = [t for t in load_catalog().values() if t.is_repair]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ForkServerSandbox]:
    with ForkServerSandbox() as sb:
        yield sb


def essence(report: str) -> tuple[set[str], list[str]]:
    """The failing tests and the assertion lines of a pytest report (stable across versions)."""
    failing = set(re.findall(r"^_+ (test_\S+) _+$", report, flags=re.M))
    return failing, [line for line in report.splitlines() if line.startswith("E   ")]


@pytest.mark.parametrize("task", REPAIR_TASKS, ids=lambda t: t.task_id)
def test_unit_traceback_matches_a_fresh_run(task, sandbox: ForkServerSandbox) -> None:
    fresh = suite_traceback(sandbox, task, task.broken_source or "")
    failing, asserts = essence(fresh)
    assert failing, fresh
    assert essence(task.broken_traceback or "") == (failing, asserts)


def test_bundled_repair_samples_carry_real_tracebacks(sandbox: ForkServerSandbox) -> None:
    checked = 0
    for task in REPAIR_TASKS:
        slug = task.task_id.replace("/", "__")
        rows = [json.loads(x) for x in (paths.bundled_dir() / f"{slug}.jsonl").read_text().splitlines()]
        fresh: dict[str, str] = {}
        for row in rows:
            if row["broken_code"] not in fresh:
                fresh[row["broken_code"]] = suite_traceback(sandbox, task, row["broken_code"])
            assert essence(row["traceback"]) == essence(fresh[row["broken_code"]]), row["sample_id"]
            checked += 1
    assert checked >= 50


def test_refresh_fills_missing_tracebacks_atomically(tmp_path: Path, sandbox: ForkServerSandbox) -> None:
    task = get_task("pytest_traceback_repair/moving_average")
    path = tmp_path / "repair.jsonl"
    rows = [{"task_id": task.task_id, "code": "x = 1", "broken_code": task.broken_source, "traceback": ""}]
    path.write_text(json.dumps(rows[0]) + "\n")
    assert refresh_file(sandbox, path) == (1, 1)
    stored = json.loads(path.read_text())["traceback"]
    assert "test_simple_windows" in stored
    assert refresh_file(sandbox, path) == (1, 0)


def test_a_broken_module_that_passes_is_an_error(sandbox: ForkServerSandbox) -> None:
    task = get_task("pytest_traceback_repair/moving_average")
    with pytest.raises(TracebackError):
        suite_traceback(sandbox, task, task.reference_source)
