"""Drivers for python_async/retry: run ``retry_async`` on a scripted ``fn``, record raw events.

``outcomes`` scripts the calls of ``fn``: item ``k`` (the last one repeats) is
``{"raise": "ValueError"}`` or ``{"return": <plain value>}``. ``fn`` yields to the event loop
once per call. ``asyncio.sleep`` is replaced for the duration of the call by a recorder on a
fake clock that yields control once and returns at once, so backoff schedules of any length
run instantly; ``time.sleep`` is replaced by a recorder that never sleeps. The event log is
plain data: ``["call", k]``, ``["sleep", delay]``, ``["time.sleep", delay]``, ``["cancel", -1]``,
``["exit", -1]``.
"""

from __future__ import annotations

import asyncio
import threading
import time
import types
from typing import Any


class FlakyError(Exception):
    """A task-local exception type for ``fn``."""


class FlakyLookup(KeyError):
    """A ``KeyError`` subclass (so a ``LookupError`` in ``retry_on`` matches it)."""


_EXCEPTIONS: dict[str, type[BaseException]] = {
    "ValueError": ValueError,
    "KeyError": KeyError,
    "FlakyLookup": FlakyLookup,
    "RuntimeError": RuntimeError,
    "OSError": OSError,
    "TimeoutError": TimeoutError,
    "ConnectionError": ConnectionError,
    "FlakyError": FlakyError,
    "CancelledError": asyncio.CancelledError,
}

_RETRY_ON: dict[str, type[BaseException]] = {
    "Exception": Exception,
    "BaseException": BaseException,
    "ValueError": ValueError,
    "LookupError": LookupError,
    "KeyError": KeyError,
    "OSError": OSError,
    "TimeoutError": TimeoutError,
    "FlakyError": FlakyError,
    "RuntimeError": RuntimeError,
}


@types.coroutine
def _tick():
    """Yield control to the event loop once (what ``asyncio.sleep(0)`` does)."""
    yield


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _tampered() -> list[str]:
    """Names of stdlib functions the candidate replaced (they must be the genuine ones)."""
    import asyncio.tasks

    bad = [
        name
        for name in ("sleep", "gather", "wait", "wait_for", "create_task", "ensure_future")
        if getattr(asyncio, name, None) is not getattr(asyncio.tasks, name)
        or getattr(getattr(asyncio.tasks, name), "__module__", "") != "asyncio.tasks"
    ]
    if type(time.sleep).__name__ != "builtin_function_or_method":
        bad.append("time.sleep")
    return bad


def _number(value: Any) -> Any:
    return float(value) if type(value) in (int, float) else f"<{type(value).__name__}>"


def retry(
    solution,
    outcomes: list,
    attempts: Any = None,
    base_delay: Any = None,
    retry_on: list | None = None,
    cancel_at_sleep: int | None = None,
    fn_kind: str = "async_def",
    watchdog_s: float = 10.0,
):
    """Await ``retry_async`` with a scripted ``fn``; report calls, sleeps and the outcome."""
    tampered = _tampered()
    events: list[list[Any]] = []
    raised: list[BaseException] = []
    values = [item.get("return") for item in outcomes]
    returned_objects: list[Any] = []
    state = {"calls": 0, "sleeps": 0, "blocked": False}
    report: dict[str, Any] = {
        "outcome": None,
        "raised_at": None,
        "result": None,
        "result_is_returned": None,
        "exc_type": None,
        "exc_mro": [],
        "exc_call": None,
    }

    async def body():
        k = state["calls"]
        state["calls"] += 1
        events.append(["call", k])
        await _tick()
        item = outcomes[min(k, len(outcomes) - 1)]
        if "raise" in item:
            exc = _EXCEPTIONS[item["raise"]](f"call {k} failed")
            raised.append(exc)
            raise exc
        value = values[min(k, len(values) - 1)]
        returned_objects.append(value)
        return value

    if fn_kind == "lambda":

        def fn():
            return body()
    else:

        async def fn():
            return await body()

    # The patches are process-wide while the call runs (the reference runs in the trusted parent):
    # only the driver's own thread is recorded, any other thread keeps the real functions.
    driver_thread = threading.get_ident()

    async def fake_sleep(delay, result=None):
        if threading.get_ident() != driver_thread:
            return await real_async_sleep(delay, result)
        events.append(["sleep", _number(delay)])
        index = state["sleeps"]
        state["sleeps"] += 1
        if cancel_at_sleep is not None and index == cancel_at_sleep:
            state["blocked"] = True
            await asyncio.get_running_loop().create_future()
        await _tick()
        return result

    def fake_time_sleep(seconds):
        if threading.get_ident() != driver_thread:
            return real_time_sleep(seconds)
        events.append(["time.sleep", _number(seconds)])

    real_async_sleep = asyncio.sleep
    real_time_sleep = time.sleep
    patched_globals = {
        name: fake_sleep if value is real_async_sleep else fake_time_sleep
        for name, value in vars(solution).items()
        if value is real_async_sleep or value is real_time_sleep
    }
    kwargs: dict[str, Any] = {}
    if attempts is not None:
        kwargs["attempts"] = attempts
    if base_delay is not None:
        kwargs["base_delay"] = base_delay
    if retry_on is not None:
        kwargs["retry_on"] = tuple(_RETRY_ON[name] for name in retry_on)

    def record_exc(exc: BaseException) -> None:
        if isinstance(exc, (SystemExit, KeyboardInterrupt)):
            raise exc
        report["outcome"] = "cancelled" if isinstance(exc, asyncio.CancelledError) else "raised"
        report["exc_type"] = _qualname(type(exc))
        report["exc_mro"] = [_qualname(c) for c in type(exc).__mro__]
        report["exc_call"] = next((k for k, e in enumerate(raised) if e is exc), -1)

    async def main():
        loop = asyncio.get_running_loop()
        try:
            awaitable = solution.retry_async(fn, **kwargs)
        except BaseException as exc:
            report["raised_at"] = "call"
            record_exc(exc)
            return

        async def run():
            return await awaitable

        task = loop.create_task(run())
        timed_out: list[int] = []
        watchdog = loop.call_later(watchdog_s, lambda: (timed_out.append(1), task.cancel()))
        if cancel_at_sleep is not None:
            for _ in range(100_000):
                if task.done() or state["blocked"]:
                    break
                await _tick()
            events.append(["cancel", -1])
            task.cancel()
        try:
            value = await task
        except BaseException as exc:
            events.append(["exit", -1])
            report["raised_at"] = "await"
            if timed_out:
                report["outcome"] = "timeout"
            else:
                record_exc(exc)
        else:
            events.append(["exit", -1])
            report["outcome"] = "returned"
            report["result"] = value
            report["result_is_returned"] = any(value is obj for obj in returned_objects)
        finally:
            watchdog.cancel()
        for _ in range(5):
            await _tick()

    saved = {name: vars(solution)[name] for name in patched_globals}
    asyncio.sleep = fake_sleep
    time.sleep = fake_time_sleep
    for name, fake in patched_globals.items():
        setattr(solution, name, fake)
    try:
        asyncio.run(main())
    finally:
        asyncio.sleep = real_async_sleep
        time.sleep = real_time_sleep
        for name, value in saved.items():
            setattr(solution, name, value)
    report["events"] = events
    report["calls"] = state["calls"]
    report["sleeps"] = [e[1] for e in events if e[0] == "sleep"]
    report["time_sleeps"] = [e[1] for e in events if e[0] == "time.sleep"]
    report["tampered"] = tampered
    return report
