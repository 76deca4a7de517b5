"""Contract checks and cases for python_async/bounded_gather (judged in the trusted parent).

Every check reads the plain-data report of :func:`harness.gather` (an event log, the peak
number of outstanding factories, the result and the exception's identity) and compares it
with what the contract demands of the described jobs.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from dpo_assets.sandbox.outcome import Call, Observation
from dpo_assets.tasks import checks
from dpo_assets.tasks.base import Case, DifferentialCase, PropertySpec

VALUE_ERROR = "builtins.ValueError"
_LATE = ("call", "start", "done", "raise")


def gather_call(
    jobs: list[dict[str, Any]],
    limit: Any,
    container: str = "list",
    factory_kind: str = "coro",
    cancel_after_ticks: int | None = None,
    label: str = "",
) -> Call:
    """A driver call; ``settle`` is long enough for any job left running to finish."""
    longest = max([int(j.get("ticks", 0)) for j in jobs] + [0])
    kwargs: dict[str, Any] = {
        "jobs": jobs,
        "limit": limit,
        "container": container,
        "factory_kind": factory_kind,
        "settle": longest + 30,
    }
    if cancel_after_ticks is not None:
        kwargs["cancel_after_ticks"] = cancel_after_ticks
    return Call("gather", kwargs, label=label)


def _index(events: list, kind: str) -> int | None:
    return next((k for k, (what, _) in enumerate(events) if what == kind), None)


def _common(kwargs: Mapping[str, Any], rep: Any) -> str | None:
    """Facts every run must show, whatever the jobs."""
    if type(rep) is not dict or "events" not in rep:
        return f"driver report missing ({checks.type_name(rep)})"
    if rep["tampered"]:
        return f"the candidate replaced stdlib functions: {rep['tampered']}"
    if rep["outcome"] == "timeout":
        return "bounded_gather did not finish (hung)"
    if rep["outcome"] == "not_awaitable":
        return "bounded_gather(...) did not return an awaitable"
    if rep["raised_at"] == "call":
        return f"raised at call time ({rep['exc_type']}), not when awaited"
    if not rep["input_kept"]:
        return "the factories sequence was mutated"
    calls = [i for what, i in rep["events"] if what == "call"]
    if len(calls) != len(set(calls)):
        dup = next(i for i in calls if calls.count(i) > 1)
        return f"factory {dup} was called more than once"
    limit = kwargs["limit"]
    if type(limit) is int and limit >= 1 and rep["peak"] > limit:
        return f"{rep['peak']} factories outstanding at once with limit {limit}"
    if "running" in rep["statuses"]:
        return f"job {rep['statuses'].index('running')} was left running after bounded_gather finished"
    return None


def _after_exit(rep: dict[str, Any]) -> str | None:
    events = rep["events"]
    exit_at = _index(events, "exit")
    if exit_at is None:
        return "bounded_gather never finished"
    late = [(what, i) for what, i in events[exit_at + 1 :] if what in _LATE]
    if late:
        what, i = late[0]
        return f"after bounded_gather finished, job {i} still progressed ({what})"
    return None


def judge(
    kwargs: Mapping[str, Any],
    obs: Observation,
    *,
    single_raise: bool = False,
    fill: bool | None = None,
    greedy_long: int | None = None,
    settled: bool = False,
) -> str | None:
    """The contract, judged from the jobs described in ``kwargs`` and the driver report."""
    if obs.raised:
        return f"driver: {obs.describe()}"
    rep = obs.value
    reason = _common(kwargs, rep)
    if reason:
        return reason
    jobs = kwargs["jobs"]
    limit = kwargs["limit"]
    n = len(jobs)
    events = rep["events"]
    calls = [i for what, i in events if what == "call"]

    if kwargs.get("cancel_after_ticks") is not None:
        return _judge_cancel(rep)

    if type(limit) is int and limit < 1:
        if rep["outcome"] != "raised" or VALUE_ERROR not in rep["exc_mro"]:
            return f"limit={limit}: expected ValueError when awaited, got {_describe(rep)}"
        if calls:
            return f"limit={limit}: factories were called before the limit was validated"
        return None

    if any("raise" in job for job in jobs):
        # When may a factory still be called after the first failure?
        # * a coroutine or plain awaitable runs in the task that awaits it and reports its failure
        #   there at once, and its factory call is logged when it happens: never ("strict");
        # * a factory returning an already running Task: its failure is only noticed once that
        #   task has finished, so a call in that same tick is tolerated, but the job must be
        #   cancelled, never run to completion ("relaxed");
        # * an ``async def`` factory: the call is only seen when its body starts, which can be
        #   after a failure although the candidate called it before: not judged ("none").
        kind = kwargs.get("factory_kind", "coro")
        strict = {"coro": "strict", "awaitable": "strict", "task": "relaxed"}.get(kind, "none")
        return _judge_failure(rep, single_raise, strict) or (_settled_at_exit(rep) if settled else None)

    if rep["outcome"] != "returned":
        return f"expected the results, got {_describe(rep)}"
    expected = [job.get("result") for job in jobs]
    reason = checks.same_plain(rep["result"], expected)
    if reason:
        return f"results (input order): {reason}"
    if rep["identical"] is None or not all(rep["identical"]):
        return "results are not the objects the awaitables produced"
    if sorted(calls) != list(range(n)):
        missing = sorted(set(range(n)) - set(calls))
        return f"factories {missing[:5]} were never called"
    if any(status != "done" for status in rep["statuses"]):
        return f"not every job ran to completion: {rep['statuses'][:10]}"
    if fill is None:
        fill = n > 0 and all(int(job.get("ticks", 0)) >= 1 for job in jobs)
    if fill and type(limit) is int and rep["peak"] != min(limit, n):
        return f"only {rep['peak']} jobs ran at once although limit {limit} allowed {min(limit, n)}"
    if greedy_long is not None:
        ends = [k for k, (what, i) in enumerate(events) if what == "done" and i == greedy_long]
        last_call = max(k for k, (what, _) in enumerate(events) if what == "call")
        if ends and last_call > ends[0]:
            return "a free slot stayed idle: later factories waited for the long job to finish"
    return _after_exit(rep)


def _describe(rep: dict[str, Any]) -> str:
    if rep["outcome"] == "returned":
        text = repr(rep["result"])
        return f"returned {text if len(text) < 120 else text[:117] + '...'}"
    return f"{rep['outcome']} {rep['exc_type']}"


def _judge_failure(rep: dict[str, Any], single_raise: bool, strict: str) -> str | None:
    events = rep["events"]
    if rep["outcome"] != "raised":
        return f"a job raised, but bounded_gather {_describe(rep)}"
    first = _index(events, "raise")
    if first is None:  # pragma: no cover - a failing job is always reached
        return "no job raised"
    late_calls = [i for what, i in events[first + 1 :] if what == "call"] if strict != "none" else []
    if late_calls and strict == "strict":
        return f"factory {late_calls[0]} was called after job {events[first][1]} had failed"
    finished = [i for i in late_calls if rep["statuses"][i] in ("done", "raise")]
    if finished:
        return f"factory {finished[0]} was called after job {events[first][1]} had failed and ran on"
    exit_at = _index(events, "exit")
    raised_before_exit = {i for what, i in events[:exit_at] if what == "raise"}
    if rep["exc_job"] is None or rep["exc_job"] not in raised_before_exit:
        return f"raised {rep['exc_type']}, which is not the exception a job raised"
    if single_raise:
        raises = [i for what, i in events if what == "raise"]
        if len(raises) != 1:
            return f"jobs {raises} all raised: the others were not cancelled after the first failure"
    return _after_exit(rep)


def _settled_at_exit(rep: dict[str, Any]) -> str | None:
    """After a failure, the jobs still running are cancelled *before* ``bounded_gather``
    raises: none of them may still be running (cancellation requested, not yet delivered)."""
    events = rep["events"]
    exit_at = _index(events, "leave")
    if exit_at is None:
        return "bounded_gather never finished"
    running = set()
    for what, i in events[:exit_at]:
        if what == "start":
            running.add(i)
        elif what in ("done", "raise", "cancelled", "closed"):
            running.discard(i)
    if running:
        return f"job {min(running)} was still running when bounded_gather raised (cancelled but not awaited)"
    return None


def _judge_cancel(rep: dict[str, Any]) -> str | None:
    events = rep["events"]
    if rep["outcome"] != "cancelled":
        return f"the outer task was cancelled, but bounded_gather {_describe(rep)}"
    cancel_at = _index(events, "cancel")
    late_called = {i for what, i in events[cancel_at + 1 :] if what == "call"}
    done_late = [i for i in late_called if rep["statuses"][i] in ("done", "raise")]
    if done_late:
        return f"factory {done_late[0]} was called after the cancellation and ran to completion"
    return _after_exit(rep)


def check_case(**options: Any):
    """A :class:`Case` check bound to its own call's kwargs."""

    def bind(call: Call) -> Case:
        return Case(call, lambda obs: judge(call.kwargs, obs, **options))

    return bind


def case(call: Call, **options: Any) -> Case:
    return check_case(**options)(call)


# --------------------------------------------------------------------------- cases


def jobs_of(*ticks: int, fail: dict[int, str] | None = None, base: int = 10) -> list[dict[str, Any]]:
    """Jobs with the given tick counts returning ``base * (i + 1)``; ``fail`` maps index -> error."""
    fail = fail or {}
    return [
        {"ticks": t, "raise": fail[i]} if i in fail else {"ticks": t, "result": base * (i + 1)}
        for i, t in enumerate(ticks)
    ]


INVARIANTS = (
    case(gather_call(jobs_of(3, 1, 4, 1, 5), 2)),
    case(gather_call(jobs_of(2, 2, 2), 5)),
    case(gather_call(jobs_of(1), 1)),
    case(
        gather_call(
            [{"ticks": 1, "result": "a"}, {"ticks": 2, "result": [1, 2]}, {"ticks": 1, "result": None}], 2
        )
    ),
)


def _projection(obs: Observation, with_peak: bool) -> Any:
    if obs.raised or type(obs.value) is not dict:
        return ("driver", obs.error_type)
    rep = obs.value
    calls = sorted(i for what, i in rep.get("events", []) if what == "call")
    if rep.get("outcome") == "returned":
        return {
            "outcome": "returned",
            "result": rep["result"],
            "calls": calls,
            "peak": rep["peak"] if with_peak else None,
        }
    return {"outcome": rep.get("outcome"), "exc_type": rep.get("exc_type"), "exc_job": rep.get("exc_job")}


def _differential(call: Call) -> DifferentialCase:
    with_peak = all(int(j.get("ticks", 0)) >= 1 for j in call.kwargs["jobs"])

    def compare(cand: Observation, ref: Observation) -> str | None:
        reason = judge(call.kwargs, cand, single_raise=True)
        if reason:
            return reason
        return checks.same_plain(_projection(cand, with_peak), _projection(ref, with_peak))

    return DifferentialCase(call, compare)


DIFFERENTIAL = tuple(
    _differential(call)
    for call in (
        gather_call(jobs_of(5, 1, 1, 1, 3, 2, 8, 1), 3),
        gather_call(jobs_of(1, 2, 3, 4, 5, 6), 1),
        gather_call(jobs_of(4, 4, 4, 4), 4, container="tuple"),
        gather_call(jobs_of(2, 0, 3, 0, 1), 2),
        gather_call(jobs_of(6, 2, 1, 9, 1, 1), 2, factory_kind="async_def"),
        gather_call(jobs_of(3, 1, 2, 1), 3, factory_kind="task"),
        gather_call(jobs_of(5, 1, 30, 30, 30, 30, fail={1: "KeyError"}), 3),
        gather_call(jobs_of(1, 30, 30, 30, fail={0: "JobError"}), 2),
        gather_call(jobs_of(30, 30, 2, 30, 30, fail={2: "ZeroDivisionError"}), 5, factory_kind="task"),
        gather_call(jobs_of(2, 2, 2, 2), 7),
    )
)


def _job_strategy(can_fail: bool):
    ok = st.fixed_dictionaries(
        {
            "ticks": st.integers(0, 6),
            "result": st.one_of(st.integers(-1000, 1000), st.text(max_size=4), st.none()),
        }
    )
    if not can_fail:
        return ok
    bad = st.fixed_dictionaries(
        {"ticks": st.integers(0, 6), "raise": st.sampled_from(["ValueError", "RuntimeError", "JobError"])}
    )
    return st.one_of(ok, bad)


def _one_failure_at_most(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = False
    out = []
    for job in jobs:
        if "raise" in job:
            if seen:
                job = {"ticks": job["ticks"], "result": 0}
            seen = True
        out.append(job)
    return out


def _with_settle(kwargs: dict[str, Any]) -> dict[str, Any]:
    longest = max([int(j.get("ticks", 0)) for j in kwargs["jobs"]] + [0])
    return {**kwargs, "settle": longest + 30}


PROPERTIES = (
    PropertySpec(
        "results in input order within the limit",
        "gather",
        st.fixed_dictionaries(
            {
                "jobs": st.lists(_job_strategy(False), max_size=14),
                "limit": st.integers(1, 6),
                "container": st.sampled_from(["list", "tuple"]),
                "factory_kind": st.sampled_from(["coro", "task", "async_def", "awaitable"]),
            }
        ).map(_with_settle),
        lambda kwargs, obs: judge(kwargs, obs),
    ),
    PropertySpec(
        "one failure stops the run",
        "gather",
        st.fixed_dictionaries(
            {
                "jobs": st.lists(_job_strategy(True), min_size=1, max_size=12).map(_one_failure_at_most),
                "limit": st.integers(1, 5),
                "factory_kind": st.sampled_from(["coro", "task", "async_def"]),
            }
        ).map(_with_settle),
        lambda kwargs, obs: judge(kwargs, obs, single_raise=True),
    ),
)

FUZZ = (
    case(gather_call(jobs_of(1, 1), 0)),
    case(gather_call(jobs_of(1, 1), -3)),
    # limit < 1 is refused even when there is nothing to gather.
    case(gather_call([], 0)),
    case(gather_call([], 1)),
    case(gather_call([], 4, container="tuple")),
    case(gather_call(jobs_of(2, 1, 3), 2, container="tuple")),
    case(gather_call(jobs_of(2, 1, 3, 1), 2, factory_kind="task")),
    case(gather_call(jobs_of(2, 1, 3, 1), 2, factory_kind="awaitable")),
    case(gather_call(jobs_of(2, 1, 3, 1), 3, factory_kind="async_def")),
    case(gather_call(jobs_of(0, 0, 0, 0, 0), 2)),
    case(gather_call(jobs_of(0, 40, 40, 40, fail={0: "ValueError"}), 2), single_raise=True),
    case(gather_call(jobs_of(40, 40, 1, fail={2: "OSError"}), 3), single_raise=True),
    case(gather_call(jobs_of(3, 3, 3, 3, 3, 3, fail={5: "RuntimeError"}), 2), single_raise=True),
    # the jobs still running are cancelled, and that cancellation has completed, when it raises.
    case(gather_call(jobs_of(1, 30, 30, fail={0: "JobError"}), 3), single_raise=True, settled=True),
    # job 0 fails in the same tick in which jobs 1 and 2 finish: no queued factory may start.
    case(gather_call(jobs_of(2, 2, 2, 2, 2, 2, 2, 2, fail={0: "JobError"}), 3)),
    case(gather_call(jobs_of(2, 2, 2, 2, 2, 2, 2, 2, fail={1: "JobError"}), 3)),
    case(gather_call(jobs_of(2, 2, 2, 2, 2, 2, 2, 2, fail={2: "KeyError"}), 3, factory_kind="async_def")),
    case(gather_call(jobs_of(2, 2, 2, 2, 2, 2, 2, 2, fail={1: "JobError"}), 3, factory_kind="task")),
    case(gather_call(jobs_of(30, 30, 30, 30, 30), 2, cancel_after_ticks=5)),
    case(
        gather_call(
            [
                {"ticks": 1, "result": {"k": [1, 2]}},
                {"ticks": 1, "result": (3, "x")},
                {"ticks": 2, "result": 2.5},
            ],
            2,
        )
    ),
)


def _large_jobs(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"ticks": rng.randint(0, 4), "result": rng.randint(-(10**6), 10**6)} for _ in range(n)]


EDGE = (
    case(gather_call(_large_jobs(1000, 7), 7), fill=False),
    case(gather_call(jobs_of(*([1] * 1000)), 7)),
    case(gather_call(jobs_of(3, 1, 2, 5, 1), 100)),
    case(gather_call(jobs_of(2, 1, 2), 10**9)),
    case(gather_call(jobs_of(3, 1, 4, 1, 5, 9), 1)),
    case(gather_call(jobs_of(1000, *([1] * 40)), 2), greedy_long=0),
    # failure storm: the whole first wave fails at once; nothing further may start.
    case(gather_call(jobs_of(*([2] * 30), fail={i: "ValueError" for i in range(10)}), 10)),
    case(
        gather_call(
            jobs_of(*([2] * 40), fail={i: "JobError" for i in range(0, 40, 2)}), 8, factory_kind="task"
        )
    ),
    case(gather_call(jobs_of(*range(1, 21), fail={i: "RuntimeError" for i in range(20)}), 20)),
    # a second failure far later: it must be cancelled before it can raise.
    case(
        gather_call(jobs_of(2, 40, 40, 40, 40, fail={0: "ValueError", 1: "KeyError", 3: "OSError"}), 4),
        single_raise=True,
    ),
    case(
        gather_call(jobs_of(40, 2, 40, 40, fail={0: "KeyError", 1: "JobError"}), 3, factory_kind="task"),
        single_raise=True,
    ),
    # cancellation storms: the outer task is cancelled mid-flight.
    case(gather_call(jobs_of(*([20] * 50)), 10, cancel_after_ticks=5)),
    case(gather_call(jobs_of(*([1, 7, 3] * 20)), 6, cancel_after_ticks=12)),
    case(gather_call(jobs_of(*([20] * 30)), 8, factory_kind="task", cancel_after_ticks=3)),
    case(gather_call(jobs_of(*([1] * 200)), 1000, cancel_after_ticks=2)),
)
