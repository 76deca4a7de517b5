"""Trusted side of pytest jobs: run a suite against a candidate in a sandbox, decode the report."""

from __future__ import annotations

from typing import Any

from dpo_assets.sandbox.executor import Executor
from dpo_assets.sandbox.limits import Limits
from dpo_assets.sandbox.outcome import Call

HARNESS = "dpo_assets.sandbox.pytest_job"
_INT_KEYS = ("passed", "failed", "errors")


def run_suite(
    executor: Executor,
    source: str,
    suite_source: str,
    coverage: bool = False,
    *,
    timeout_per_test: float | None = None,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """Run ``suite_source`` against ``source`` (as ``solution.py``) in ``executor``.

    Returns the driver's report (``exit_code``, ``passed``, ``failed``, ``errors``,
    ``output``, ``coverage``, ``missing_lines``; see
    :func:`dpo_assets.sandbox.pytest_job.run_suite`) plus ``status`` (the sandbox outcome's
    status value, or ``"driver_error"``) and ``detail``. When the run did not complete,
    ``exit_code`` and ``coverage`` are None and ``output`` explains why.
    """
    kwargs: dict[str, Any] = {"suite_source": suite_source, "coverage": coverage}
    if timeout_per_test is not None:
        kwargs["timeout_per_test"] = float(timeout_per_test)
    calls = [Call("run_suite", kwargs, label="pytest suite")]
    outcome = executor.run(source, HARNESS, calls, limits, load=False)
    report: dict[str, Any] = {
        "status": outcome.status.value,
        "detail": outcome.detail,
        "exit_code": None,
        "passed": 0,
        "failed": 0,
        "errors": 0,
        "output": "",
        "coverage": None,
        "missing_lines": [],
    }
    if not outcome.ok or len(outcome.observations) != 1:
        report["output"] = (outcome.describe() + "\n" + outcome.stderr[-4000:]).strip()
        return report
    obs = outcome.observations[0]
    value = obs.value
    problem = obs.describe() if obs.raised else _malformed(value)
    if problem:
        report.update(status="driver_error", detail=problem, output=problem)
        return report
    report.update(
        exit_code=value["exit_code"],
        output=value["output"],
        coverage=value["coverage"],
        missing_lines=list(value["missing_lines"]),
        **{key: value[key] for key in _INT_KEYS},
    )
    return report


def _malformed(value: Any) -> str | None:
    """None when ``value`` has the report's exact shape (plain types only)."""
    if type(value) is not dict:
        return f"report is not a dict: {type(value).__name__}"
    for key in ("exit_code", *_INT_KEYS):
        if type(value.get(key)) is not int:
            return f"report field {key!r} is not an int"
    if type(value.get("output")) is not str:
        return "report field 'output' is not a str"
    if value.get("coverage") is not None and type(value["coverage"]) is not float:
        return "report field 'coverage' is not a float"
    missing = value.get("missing_lines")
    if type(missing) is not list or any(type(n) is not int for n in missing):
        return "report field 'missing_lines' is not a list of ints"
    return None
