"""Contract checks and cases for python_async/retry (judged in the trusted parent).

The contract is simple enough to model exactly: :func:`expected` plays the scripted ``fn``
through the contract and every observation is compared with it (calls made, sleeps
requested in order, the result or the identity of the exception re-raised).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from dpo_assets.sandbox.outcome import Call, Observation
from dpo_assets.tasks import checks
from dpo_assets.tasks.base import Case, DifferentialCase, PropertySpec
from dpo_assets.tasks.python_async.retry import harness

VALUE_ERROR = "builtins.ValueError"
CANCELLED = "asyncio.exceptions.CancelledError"


def retry_call(outcomes: list[dict[str, Any]], label: str = "", **options: Any) -> Call:
    kwargs: dict[str, Any] = {"outcomes": outcomes}
    kwargs.update({k: v for k, v in options.items() if v is not None})
    return Call("retry", kwargs, label=label)


def fails(*names: str, then: Any = "no-return") -> list[dict[str, Any]]:
    """An ``fn`` script: raise ``names`` in turn, then (optionally) return ``then``."""
    script: list[dict[str, Any]] = [{"raise": name} for name in names]
    if then != "no-return":
        script.append({"return": then})
    return script


def expected(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """What the contract prescribes for the scripted ``fn``."""
    outcomes = kwargs["outcomes"]
    attempts = kwargs.get("attempts", 3)
    base = kwargs.get("base_delay", 0.0)
    retry_on = tuple(harness._RETRY_ON[name] for name in kwargs.get("retry_on", ["Exception"]))
    if attempts < 1:
        return {"outcome": "raised", "exc": VALUE_ERROR, "exc_call": -1, "calls": 0, "sleeps": []}
    sleeps: list[float] = []
    for i in range(attempts):
        item = outcomes[min(i, len(outcomes) - 1)]
        if "return" in item:
            return {"outcome": "returned", "result": item["return"], "calls": i + 1, "sleeps": sleeps}
        cls = harness._EXCEPTIONS[item["raise"]]
        cancelled = issubclass(cls, harness.asyncio.CancelledError)
        if cancelled or not issubclass(cls, retry_on) or i == attempts - 1:
            return {
                "outcome": "cancelled" if cancelled else "raised",
                "exc": f"{cls.__module__}.{cls.__qualname__}",
                "exc_call": i,
                "calls": i + 1,
                "sleeps": sleeps,
            }
        sleeps.append(float(base * 2**i))
    raise AssertionError("unreachable")  # pragma: no cover


def _sleeps_ok(got: list[Any], want: list[float]) -> str | None:
    if any(type(d) is not float for d in got):
        return f"asyncio.sleep was given a non-number: {got[:5]}"
    if len(got) != len(want):
        return f"expected {len(want)} sleeps {want[:6]}, got {len(got)} {got[:6]}"
    for i, (g, w) in enumerate(zip(got, want)):
        if not math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-300):
            return f"sleep {i}: expected asyncio.sleep({w!r}), got asyncio.sleep({g!r})"
    return None


def _order_ok(events: list[list[Any]], calls: int) -> str | None:
    """Calls and sleeps alternate: call, sleep, call, ..., call (no sleep first or last)."""
    kinds = [what for what, _ in events if what in ("call", "sleep")]
    want = ["call", *["sleep", "call"] * (calls - 1)] if calls else []
    if kinds != want:
        if kinds and kinds[0] == "sleep":
            return "slept before the first call"
        if kinds and kinds[-1] == "sleep":
            return "slept after the last attempt"
        return f"calls and sleeps do not alternate: {kinds[:12]}"
    return None


def judge(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    if obs.raised:
        return f"driver: {obs.describe()}"
    rep = obs.value
    if type(rep) is not dict or "events" not in rep:
        return f"driver report missing ({checks.type_name(rep)})"
    if rep["tampered"]:
        return f"the candidate replaced stdlib functions: {rep['tampered']}"
    if rep["time_sleeps"]:
        return f"called time.sleep{tuple(rep['time_sleeps'][:3])} (blocks the event loop)"
    if rep["outcome"] == "timeout":
        return "retry_async did not finish (hung)"
    if rep["raised_at"] == "call":
        return f"raised at call time ({rep['exc_type']}), not when awaited"
    if kwargs.get("cancel_at_sleep") is not None:
        return _judge_cancel(kwargs, rep)
    want = expected(kwargs)
    if want["outcome"] == "returned":
        if rep["outcome"] != "returned":
            return f"expected fn's result after {want['calls']} calls, got {_describe(rep)}"
        reason = checks.same_plain(rep["result"], want["result"])
        if reason:
            return f"result: {reason}"
        if not rep["result_is_returned"]:
            return "the result is not the object fn returned"
    else:
        if rep["outcome"] != want["outcome"] or want["exc"] not in rep["exc_mro"]:
            return f"expected {want['exc']} to propagate, got {_describe(rep)}"
        if rep["exc_call"] != want["exc_call"]:
            if want["exc_call"] < 0:
                return f"expected ValueError for attempts={kwargs.get('attempts')}, got {_describe(rep)}"
            return f"raised {rep['exc_type']}, not the exception of call {want['exc_call']} re-raised"
    if rep["calls"] != want["calls"]:
        return f"fn called {rep['calls']} times, expected {want['calls']}"
    reason = _sleeps_ok(rep["sleeps"], want["sleeps"])
    return reason or _order_ok(rep["events"], want["calls"])


def _judge_cancel(kwargs: Mapping[str, Any], rep: dict[str, Any]) -> str | None:
    k = kwargs["cancel_at_sleep"]
    if rep["outcome"] != "cancelled":
        return f"cancelled while sleeping, but retry_async {_describe(rep)}"
    if rep["calls"] != k + 1:
        return f"fn called {rep['calls']} times; the cancellation came after call {k + 1}"
    events = rep["events"]
    cancel_at = next((i for i, (what, _) in enumerate(events) if what == "cancel"), len(events))
    if any(what in ("call", "sleep") for what, _ in events[cancel_at + 1 :]):
        return "kept calling or sleeping after being cancelled"
    return None


def _describe(rep: dict[str, Any]) -> str:
    if rep["outcome"] == "returned":
        return f"returned {rep['result']!r}"[:160]
    return f"{rep['outcome']} {rep['exc_type']}"


def case(call: Call) -> Case:
    return Case(call, lambda obs: judge(call.kwargs, obs))


def _projection(obs: Observation) -> Any:
    if obs.raised or type(obs.value) is not dict:
        return ("driver", obs.error_type)
    rep = obs.value
    return {
        key: rep.get(key)
        for key in ("outcome", "result", "exc_type", "exc_call", "calls", "sleeps", "time_sleeps", "tampered")
    }


def differential(call: Call) -> DifferentialCase:
    def compare(cand: Observation, ref: Observation) -> str | None:
        reason = judge(call.kwargs, cand)
        if reason:
            return reason
        return checks.same_plain(_projection(cand), _projection(ref))

    return DifferentialCase(call, compare)


INVARIANTS = (
    case(retry_call([{"return": 42}])),
    case(retry_call(fails("ValueError", "ValueError", then="ok"), base_delay=0.5)),
    case(retry_call(fails("ValueError"), attempts=3, base_delay=1.0)),
    case(retry_call(fails("OSError", then=[1, 2]))),
)

DIFFERENTIAL = tuple(
    differential(call)
    for call in (
        retry_call(fails("ValueError", "KeyError", then=7), attempts=4, base_delay=0.25),
        retry_call(fails("RuntimeError"), attempts=5, base_delay=0.1),
        retry_call(fails("FlakyLookup", then="x"), attempts=2, base_delay=3.0, retry_on=["LookupError"]),
        retry_call(fails("OSError", "ValueError", then=1), attempts=5, base_delay=1.0, retry_on=["OSError"]),
        retry_call(
            fails("TimeoutError", "TimeoutError", "TimeoutError", then=None), attempts=4, base_delay=0.5
        ),
        retry_call(fails("ConnectionError", then=3), base_delay=2.0, retry_on=["OSError", "ValueError"]),
        retry_call(fails("ValueError"), attempts=1, base_delay=1.0),
        retry_call(fails("KeyError"), base_delay=0.75),
        retry_call(fails("FlakyError", then=9)),
        retry_call(
            fails("OSError", "ValueError", "OSError", then=4),
            attempts=4,
            base_delay=0.5,
            retry_on=["OSError", "ValueError"],
        ),
        retry_call(fails(*["FlakyError"] * 5, then=2), attempts=6, base_delay=0.3),
    )
)

_ERRORS = ["ValueError", "KeyError", "FlakyLookup", "OSError", "TimeoutError", "FlakyError", "RuntimeError"]
_RETRY_ONS = [
    None,
    ["Exception"],
    ["ValueError"],
    ["LookupError"],
    ["OSError", "ValueError"],
    ["FlakyError", "KeyError"],
    ["RuntimeError"],
    ["BaseException"],
]


def _script():
    """Mostly failures (so long backoff schedules are drawn), ending in a return or a raise."""
    fail = st.builds(lambda name: {"raise": name}, st.sampled_from(_ERRORS))
    ok = st.builds(lambda value: {"return": value}, st.one_of(st.integers(-100, 100), st.text(max_size=3)))
    return st.tuples(st.lists(fail, max_size=7), st.one_of(ok, fail)).map(lambda p: [*p[0], p[1]])


def _drop_none(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


PROPERTIES = (
    PropertySpec(
        "backoff schedule, calls and outcome",
        "retry",
        st.fixed_dictionaries(
            {
                "outcomes": _script(),
                "attempts": st.one_of(st.none(), st.integers(1, 7)),
                "base_delay": st.one_of(st.none(), st.sampled_from([0.0, 0.001, 0.1, 0.5, 1.0, 2.5, 7.0])),
                "retry_on": st.sampled_from(_RETRY_ONS),
                "fn_kind": st.sampled_from(["async_def", "lambda"]),
            }
        ).map(_drop_none),
        judge,
        max_examples=30,
    ),
)

FUZZ = (
    case(retry_call(fails("ValueError", then=1), attempts=0)),
    case(retry_call([{"return": 1}], attempts=-2)),
    case(retry_call(fails("KeyError", then=1), base_delay=1.0, retry_on=["ValueError"])),
    case(retry_call(fails("ValueError", then=1), base_delay=1.0, retry_on=["OSError", "TimeoutError"])),
    case(retry_call(fails("CancelledError", then=1), base_delay=1.0)),
    case(retry_call(fails("CancelledError", then=1), base_delay=1.0, retry_on=["BaseException"])),
    case(
        retry_call(
            fails("ValueError", "CancelledError", then=1),
            attempts=5,
            base_delay=1.0,
            retry_on=["BaseException"],
        )
    ),
    case(retry_call(fails("OSError"), attempts=1, base_delay=1.0)),
    case(retry_call(fails("OSError", then=None), attempts=2, base_delay=1.0)),
    case(retry_call([{"return": 0}], attempts=1, fn_kind="lambda")),
    case(retry_call(fails("ValueError", "ValueError", then=False), attempts=3, base_delay=0.5)),
    case(retry_call(fails("ValueError", "ValueError", then=5), attempts=2, base_delay=0.5)),
    case(retry_call(fails("ValueError", "KeyError", "OSError"), attempts=3, base_delay=0.5)),
    case(retry_call(fails("ValueError", then=""), base_delay=0.0)),
    case(retry_call(fails("ValueError", then=1), cancel_at_sleep=0, base_delay=1.0)),
    case(
        retry_call(
            fails("ValueError", "KeyError", then=1), base_delay=1.0, retry_on=["OSError", "ValueError"]
        )
    ),
    case(
        retry_call(
            fails("KeyError", "ValueError", then=1), base_delay=1.0, retry_on=["FlakyError", "LookupError"]
        )
    ),
)

EDGE = (
    case(retry_call(fails("ValueError"), attempts=60, base_delay=1.0)),
    case(retry_call(fails(*["TimeoutError"] * 149, then="late"), attempts=200, base_delay=1e-3)),
    case(retry_call(fails("ValueError"), attempts=40, base_delay=1e-300)),
    case(retry_call(fails("ValueError"), attempts=12, base_delay=1e300)),
    case(retry_call(fails("ValueError"), attempts=500)),
    case(retry_call(fails("ValueError", "KeyError"), attempts=6, cancel_at_sleep=3, base_delay=0.5)),
    case(
        retry_call(
            fails("OSError"), attempts=30, cancel_at_sleep=20, base_delay=2.0, retry_on=["BaseException"]
        )
    ),
    case(
        retry_call(
            fails(*["ValueError"] * 30, "CancelledError"),
            attempts=50,
            base_delay=1.0,
            retry_on=["BaseException"],
        )
    ),
)
