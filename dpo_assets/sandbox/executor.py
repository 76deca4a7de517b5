"""The executor interface and the in-process executor for *trusted* code."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from dpo_assets.sandbox import runtime
from dpo_assets.sandbox.limits import Limits
from dpo_assets.sandbox.outcome import Call, Observation, Outcome, Status
from dpo_assets.sandbox.wire import decode


class Executor(Protocol):
    """Runs driver calls against a module built from ``source``.

    With ``load=False`` the candidate is not imported and drivers receive ``None``; a sandbox
    still writes it to ``solution.py`` in its working directory (pytest jobs import it there).
    """

    def run(
        self,
        source: str,
        harness: str,
        calls: Sequence[Call],
        limits: Limits | None = None,
        *,
        load: bool = True,
    ) -> Outcome: ...


def observation_from_record(record: dict[str, Any]) -> Observation:
    """Decode one record emitted by :func:`runtime.run_calls`."""
    if "error_type" in record:
        return Observation(
            error_type=str(record["error_type"]),
            error_mro=tuple(str(x) for x in record.get("error_mro", ())),
            error_message=str(record.get("error_message", "")),
            seconds=float(record.get("seconds", 0.0)),
        )
    return Observation(value=decode(record["value"]), seconds=float(record.get("seconds", 0.0)))


def call_payload(calls: Iterable[Call]) -> list[dict[str, Any]]:
    return [{"driver": c.driver, "kwargs": dict(c.kwargs)} for c in calls]


class InProcessExecutor:
    """Runs trusted code (reference implementations) in this process. No isolation.

    Values still go through the wire encoding so results are shaped exactly as the
    sandbox would report them. Never use this for candidates.
    """

    def run(
        self,
        source: str,
        harness: str,
        calls: Sequence[Call],
        limits: Limits | None = None,
        *,
        load: bool = True,
    ) -> Outcome:
        from dpo_assets.sandbox.wire import encode

        started = time.perf_counter()
        records: list[dict[str, Any]] = []
        try:
            module = (
                runtime.load_candidate(source, "<reference>", name="_reference_solution") if load else None
            )
        except Exception as exc:
            info = runtime.describe_exception(exc)
            return Outcome(Status.IMPORT_ERROR, detail=f"{info['error_type']}: {info['error_message']}")
        harness_module = runtime.resolve_harness(harness)
        # Round-trip kwargs through the wire like the sandbox does.
        payload = [
            {"driver": c["driver"], "kwargs": decode(encode(c["kwargs"]))} for c in call_payload(calls)
        ]
        runtime.run_calls(module, harness_module, payload, records.append)
        return Outcome(
            Status.OK,
            tuple(observation_from_record(r) for r in records),
            seconds=time.perf_counter() - started,
        )
