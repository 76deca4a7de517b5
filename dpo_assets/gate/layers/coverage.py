"""Gate layer 8: coverage — the task's pytest suite passes on the candidate and covers it.

The task's suite (``task.suite_source``) runs against the candidate inside the sandbox
with branch coverage measured over ``solution.py``. The layer passes when

* the sandboxed run completed (status ``"ok"``); any other outcome — a timeout, a crash,
  a candidate that calls ``os._exit(0)`` mid-test (status ``"exited"``) — is a violation,
  whatever pytest's exit code would have said;
* pytest exited 0 with at least one passed test and no failure or error;
* the coverage (lines and branches, percent) is at least ``threshold``.

The coverage score is returned whenever it was measured, also when the suite failed, so
it can be recorded for every candidate reaching layer 8.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from dpo_assets.gate.engine import Violation
from dpo_assets.sandbox.executor import Executor
from dpo_assets.sandbox.limits import Limits
from dpo_assets.sandbox.pytest_runner import run_suite
from dpo_assets.tasks.base import Task

DEFAULT_THRESHOLD = 80.0
# Correct bundled candidates run a whole suite in at most ~0.6 s under coverage and a single
# test in ~0.2 s: these budgets are what a hanging candidate costs here.
SUITE_LIMITS = Limits(wall_seconds=10.0, cpu_seconds=10)
TEST_SECONDS = 2.0
CASE = "pytest suite"
_MAX_EVIDENCE = 400
_SECTION = re.compile(r"^_{3,} (.+?) _{3,}$", re.MULTILINE)
_SUMMARY = re.compile(r"^(?:FAILED|ERROR) .*$", re.MULTILINE)


@dataclass(frozen=True)
class CoverageResult:
    """Outcome of layer 8: the measured score and why the candidate failed, if it did."""

    coverage: float | None  # percent, None when not measured
    violations: list[Violation]  # empty = passed layer 8

    @property
    def passed(self) -> bool:
        return not self.violations


def check(
    executor: Executor,
    task: Task,
    source: str,
    threshold: float = DEFAULT_THRESHOLD,
    limits: Limits | None = None,
    timeout_per_test: float = TEST_SECONDS,
) -> CoverageResult:
    """Run ``task``'s suite against ``source`` with coverage; certify at ``threshold`` percent."""
    threshold = _validate_threshold(threshold)
    report = run_suite(
        executor,
        source,
        task.suite_source,
        coverage=True,
        timeout_per_test=timeout_per_test,
        limits=limits or SUITE_LIMITS,
    )
    measured = report.get("coverage")
    coverage = (
        float(measured) if isinstance(measured, (int, float)) and not isinstance(measured, bool) else None
    )

    if report.get("status") != "ok":
        detail = report.get("detail") or ""
        reason = f"suite did not complete: {report.get('status')}" + (f" ({detail})" if detail else "")
        return CoverageResult(coverage, [Violation(CASE, reason, _clip(report.get("output") or ""))])

    violations: list[Violation] = []
    suite_problem = _suite_problem(report)
    if suite_problem is not None:
        violations.append(Violation(CASE, suite_problem, _first_failure(report.get("output") or "")))
    if coverage is None:
        violations.append(Violation(CASE, "coverage was not measured"))
    elif coverage < threshold:
        missing = report.get("missing_lines") or []
        evidence = (
            "missing lines: " + ", ".join(str(n) for n in missing)
            if missing
            else "all lines run; branches not taken"
        )
        violations.append(Violation(CASE, f"coverage {coverage:.1f}% < {threshold:g}%", _clip(evidence)))
    return CoverageResult(coverage, violations)


def _validate_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise ValueError(f"threshold must be a number in [0, 100], got {threshold!r}")
    value = float(threshold)
    if math.isnan(value) or not 0.0 <= value <= 100.0:
        raise ValueError(f"threshold must be in [0, 100], got {threshold!r}")
    return value


def _suite_problem(report: dict) -> str | None:
    """None when pytest exited 0 with passes and no failure or error, else a one-line reason."""
    failed = int(report.get("failed") or 0)
    errors = int(report.get("errors") or 0)
    passed = int(report.get("passed") or 0)
    exit_code = report.get("exit_code")
    if failed or errors:
        reason = f"suite failed: {failed} failed"
        return reason + (f", {errors} errors" if errors else "")
    if passed <= 0:
        return f"suite failed: no test passed (pytest exit code {exit_code})"
    if exit_code != 0:
        return f"suite failed: pytest exit code {exit_code}"
    return None


def _first_failure(output: str) -> str:
    """The first failing test's name and assertion line from pytest's report."""
    headers = list(_SECTION.finditer(output))
    if headers:
        first = headers[0]
        end = headers[1].start() if len(headers) > 1 else len(output)
        body = output[first.end() : end]
        # Stop at the short summary / next "=====" banner.
        body = re.split(r"^=+ .* =+$", body, maxsplit=1, flags=re.MULTILINE)[0]
        lines = [ln.strip() for ln in body.splitlines() if ln.strip()]
        error_lines = [ln for ln in lines if ln.startswith("E ")]
        line = error_lines[0][1:].strip() if error_lines else (lines[-1] if lines else "")
        return _clip(f"{first.group(1)}: {line}" if line else first.group(1))
    summary = _SUMMARY.search(output)
    if summary:
        return _clip(summary.group(0))
    tail = [ln for ln in output.strip().splitlines() if ln.strip()]
    return _clip(tail[-1].strip() if tail else "")


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_EVIDENCE else text[:_MAX_EVIDENCE] + "…"
