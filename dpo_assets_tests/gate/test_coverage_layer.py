"""Gate layer 8 (coverage): the task's suite must pass on the candidate and cover it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate.layers import coverage
from dpo_assets.sandbox.forkserver import ForkServerSandbox
from dpo_assets.tasks import get_task, load_catalog

CATALOG = load_catalog()
MOVING_AVERAGE = "pytest_traceback_repair/moving_average"

# Correct on everything the suite checks, but with a large branch the suite never takes.
DEAD_BRANCH = """\
import math


def moving_average(values, window: int) -> list[float]:
    if window < 1:
        raise ValueError("window must be at least 1")
    if isinstance(values, dict):
        keys = sorted(values)
        items = []
        for key in keys:
            value = values[key]
            if value is None:
                continue
            items.append(float(value))
        out = []
        for i in range(len(items) - window + 1):
            chunk = items[i:i + window]
            total = math.fsum(chunk)
            out.append(total / window)
        return out
    items = [float(v) for v in values]
    return [math.fsum(items[i:i + window]) / window for i in range(len(items) - window + 1)]
"""

INFINITE_LOOP = """\
def moving_average(values, window: int) -> list[float]:
    while True:
        pass
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ForkServerSandbox]:
    with ForkServerSandbox() as sb:
        yield sb


def _os_exit_sample() -> str:
    labels = load_labels(MOVING_AVERAGE)
    samples = load_samples(MOVING_AVERAGE)
    for sample_id, sample in samples.items():
        if "os_exit" in (labels[sample_id].get("defect") or ""):
            assert "os._exit" in sample["code"]
            return sample["code"]
    raise AssertionError("no os_exit sample in the bundled moving_average corpus")


@pytest.mark.parametrize("task_id", list(CATALOG))
def test_reference_passes_with_high_coverage(sandbox: ForkServerSandbox, task_id: str) -> None:
    task = CATALOG[task_id]
    result = coverage.check(sandbox, task, task.reference_source)
    assert result.violations == [], [v.line() for v in result.violations]
    assert result.coverage is not None
    assert result.coverage >= coverage.DEFAULT_THRESHOLD


def test_dead_branch_fails_with_coverage_recorded(sandbox: ForkServerSandbox) -> None:
    result = coverage.check(sandbox, get_task(MOVING_AVERAGE), DEAD_BRANCH)
    assert result.coverage is not None
    assert result.coverage < coverage.DEFAULT_THRESHOLD
    assert len(result.violations) == 1
    violation = result.violations[0]
    assert violation.reason.startswith("coverage ")
    assert f"< {coverage.DEFAULT_THRESHOLD:g}%" in violation.reason
    assert "missing lines:" in violation.evidence
    assert violation.evidence.startswith("missing lines: 8, 9,")  # the dead branch


def test_threshold_is_configurable(sandbox: ForkServerSandbox) -> None:
    task = get_task(MOVING_AVERAGE)
    low = coverage.check(sandbox, task, DEAD_BRANCH, threshold=20.0)
    assert low.violations == []
    assert low.coverage is not None and low.coverage < coverage.DEFAULT_THRESHOLD
    strict = coverage.check(sandbox, task, task.reference_source, threshold=100.0)
    assert strict.violations == [] and strict.coverage == 100.0


def test_failing_suite_fails_with_coverage_recorded(sandbox: ForkServerSandbox) -> None:
    task = get_task(MOVING_AVERAGE)
    assert task.broken_source is not None
    result = coverage.check(sandbox, task, task.broken_source)
    assert result.coverage is not None  # recorded even though the suite failed
    assert result.violations
    violation = result.violations[0]
    assert violation.reason.startswith("suite failed: ")
    assert int(violation.reason.split()[2]) > 0
    assert violation.evidence.startswith("test_")
    assert "assert" in violation.evidence


def test_os_exit_mid_test_is_a_failure(sandbox: ForkServerSandbox) -> None:
    result = coverage.check(sandbox, get_task(MOVING_AVERAGE), _os_exit_sample())
    assert result.violations
    assert "exited" in result.violations[0].reason
    assert result.coverage is None


def test_written_os_exit_zero_is_a_failure(sandbox: ForkServerSandbox) -> None:
    source = "import os\n\n\ndef moving_average(values, window):\n    os._exit(0)\n"
    result = coverage.check(sandbox, get_task(MOVING_AVERAGE), source)
    assert len(result.violations) == 1
    assert result.violations[0].reason.startswith("suite did not complete: exited")


def test_infinite_loop_fails_via_per_test_timeout(sandbox: ForkServerSandbox) -> None:
    start = time.monotonic()
    result = coverage.check(sandbox, get_task(MOVING_AVERAGE), INFINITE_LOOP, timeout_per_test=0.3)
    assert time.monotonic() - start < 15
    assert result.violations
    violation = result.violations[0]
    assert violation.reason.startswith("suite failed: ")
    assert "time limit" in violation.evidence


@pytest.mark.parametrize("threshold", [-0.1, 100.5, float("nan"), "80", True])
def test_bad_threshold_raises(threshold: object) -> None:
    task = get_task(MOVING_AVERAGE)
    with pytest.raises(ValueError):
        coverage.check(None, task, task.reference_source, threshold=threshold)  # type: ignore[arg-type]
