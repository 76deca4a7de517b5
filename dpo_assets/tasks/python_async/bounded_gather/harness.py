"""Drivers for python_async/bounded_gather: run the candidate, record raw events (no judgement).

Jobs are described by plain data: ``{"ticks": 3, "result": 7}`` or ``{"ticks": 1, "raise":
"ValueError"}``. A job's coroutine yields control to the event loop ``ticks`` times (a bare
``yield``, like ``asyncio.sleep(0)``, so no wall clock is involved and runs are deterministic)
and then returns ``result`` or raises. Every step is written to an event log as plain data:

* ``["call", i]``   factory ``i`` was called (its work may start now),
* ``["start", i]``  job ``i``'s coroutine began running,
* ``["done", i]`` / ``["raise", i]`` / ``["cancelled", i]`` / ``["closed", i]``  how it ended,
* ``["exit", -1]``  ``bounded_gather`` returned or raised (or, after an outer cancel, finished),
* ``["leave", -1]`` the same, logged inside the task that awaits it, in the very step it ends
  (``exit`` is only seen by the driver one loop iteration later),
* ``["cancel", -1]`` the driver cancelled the task running ``bounded_gather``.

After ``bounded_gather`` finishes the driver keeps the loop turning for ``settle`` ticks so that
work left running shows up in the log.
"""

from __future__ import annotations

import asyncio
import time
import types
from typing import Any


class JobError(Exception):
    """A task-local exception type for jobs."""


_EXCEPTIONS: dict[str, type[BaseException]] = {
    "ValueError": ValueError,
    "KeyError": KeyError,
    "RuntimeError": RuntimeError,
    "OSError": OSError,
    "ZeroDivisionError": ZeroDivisionError,
    "JobError": JobError,
}

_ENDS = ("done", "raise", "cancelled", "closed")


@types.coroutine
def _tick():
    """Yield control to the event loop once (what ``asyncio.sleep(0)`` does)."""
    yield


def _qualname(exc: BaseException) -> str:
    cls = type(exc)
    return f"{cls.__module__}.{cls.__qualname__}"


def _tampered() -> list[str]:
    """Names of stdlib functions the candidate replaced (they must be the genuine ones)."""
    import asyncio.locks
    import asyncio.queues
    import asyncio.tasks

    genuine = {
        "sleep": asyncio.tasks.sleep,
        "gather": asyncio.tasks.gather,
        "wait": asyncio.tasks.wait,
        "wait_for": asyncio.tasks.wait_for,
        "create_task": asyncio.tasks.create_task,
        "ensure_future": asyncio.tasks.ensure_future,
        "Semaphore": asyncio.locks.Semaphore,
        "BoundedSemaphore": asyncio.locks.BoundedSemaphore,
        "Queue": asyncio.queues.Queue,
    }
    bad = [name for name, obj in genuine.items() if getattr(asyncio, name, None) is not obj]
    for name in ("sleep", "gather", "wait", "create_task", "ensure_future"):
        if getattr(genuine[name], "__module__", "") != "asyncio.tasks":
            bad.append(f"tasks.{name}")
    if type(time.sleep).__name__ != "builtin_function_or_method":
        bad.append("time.sleep")
    return bad


class _Recorder:
    def __init__(self, jobs: list[dict[str, Any]]):
        self.jobs = jobs
        self.events: list[list[Any]] = []
        self.values = [job.get("result") for job in jobs]
        self.excs: dict[int, BaseException] = {}
        self.outstanding = 0
        self.peak = 0
        self.running = 0
        self.peak_running = 0

    def log(self, kind: str, i: int) -> None:
        self.events.append([kind, i])
        if kind == "call":
            self.outstanding += 1
            self.peak = max(self.peak, self.outstanding)
        elif kind == "start":
            self.running += 1
            self.peak_running = max(self.peak_running, self.running)
        elif kind in _ENDS:
            self.outstanding -= 1
            self.running -= 1

    async def job(self, i: int):
        spec = self.jobs[i]
        self.log("start", i)
        try:
            for _ in range(int(spec.get("ticks", 0))):
                await _tick()
            if "raise" in spec:
                exc = _EXCEPTIONS[spec["raise"]](f"job {i} failed")
                self.excs[i] = exc
                self.log("raise", i)
                raise exc
            self.log("done", i)
            return self.values[i]
        except asyncio.CancelledError:
            self.log("cancelled", i)
            raise
        except GeneratorExit:
            self.log("closed", i)
            raise


class _Awaitable:
    """A plain awaitable object (not a coroutine, not a future)."""

    def __init__(self, coro):
        self._coro = coro

    def __await__(self):
        return self._coro.__await__()


def _factory(rec: _Recorder, i: int, kind: str):
    if kind == "async_def":
        # The call is only observable when the coroutine's body starts running.

        async def factory():
            rec.log("call", i)
            return await rec.job(i)

        return factory

    def call():
        rec.log("call", i)
        if kind == "task":
            return asyncio.ensure_future(rec.job(i))
        if kind == "awaitable":
            return _Awaitable(rec.job(i))
        return rec.job(i)

    return call


def _statuses(rec: _Recorder, n: int) -> list[str]:
    status = ["not_called"] * n
    for kind, i in rec.events:
        if i < 0:
            continue
        if kind == "call":
            status[i] = "unstarted"
        elif kind == "start":
            status[i] = "running"
        elif kind in _ENDS:
            status[i] = kind
    return status


def gather(
    solution,
    jobs: list,
    limit: Any,
    container: str = "list",
    factory_kind: str = "coro",
    cancel_after_ticks: int | None = None,
    settle: int = 60,
    watchdog_s: float = 10.0,
):
    """Run ``bounded_gather`` over factories for ``jobs``; report what happened as plain data."""
    tampered = _tampered()
    rec = _Recorder(jobs)
    factories = [_factory(rec, i, factory_kind) for i in range(len(jobs))]
    originals = list(factories)
    arg = tuple(factories) if container == "tuple" else factories
    report: dict[str, Any] = {
        "outcome": None,
        "raised_at": None,
        "result": None,
        "identical": None,
        "exc_type": None,
        "exc_mro": [],
        "exc_job": None,
        "exc_message": "",
    }

    async def main():
        loop = asyncio.get_running_loop()
        try:
            awaitable = solution.bounded_gather(arg, limit)
        except BaseException as exc:
            report["raised_at"] = "call"
            _record_exc(exc)
            return
        if not (hasattr(type(awaitable), "__await__") or asyncio.iscoroutine(awaitable)):
            report["outcome"] = "not_awaitable"
            return

        async def run():
            try:
                return await awaitable
            finally:
                rec.log("leave", -1)  # in bounded_gather's own task, before any later tick

        task = loop.create_task(run())
        timed_out = []
        watchdog = loop.call_later(watchdog_s, lambda: (timed_out.append(1), task.cancel()))
        if cancel_after_ticks is not None:
            for _ in range(cancel_after_ticks):
                if task.done():
                    break
                await _tick()
            rec.log("cancel", -1)
            task.cancel()
        try:
            value = await task
        except asyncio.CancelledError as exc:
            rec.log("exit", -1)
            report["raised_at"] = "await"
            if timed_out:
                report["outcome"] = "timeout"
            else:
                _record_exc(exc)
        except BaseException as exc:
            rec.log("exit", -1)
            report["raised_at"] = "await"
            _record_exc(exc)
        else:
            rec.log("exit", -1)
            report["outcome"] = "returned"
            report["result"] = value
            if type(value) is list and len(value) == len(rec.values):
                report["identical"] = [value[i] is rec.values[i] for i in range(len(value))]
        finally:
            watchdog.cancel()
        for _ in range(settle):
            await _tick()

    def _record_exc(exc: BaseException) -> None:
        if isinstance(exc, (SystemExit, KeyboardInterrupt)):
            raise exc
        report["outcome"] = "cancelled" if isinstance(exc, asyncio.CancelledError) else "raised"
        report["exc_type"] = _qualname(exc)
        report["exc_mro"] = [f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__]
        report["exc_job"] = next((i for i, e in rec.excs.items() if e is exc), -1)
        try:
            report["exc_message"] = str(exc)[:200]
        except Exception:
            report["exc_message"] = "<unprintable>"

    asyncio.run(main())
    report["events"] = [list(e) for e in rec.events]
    report["peak"] = rec.peak
    report["peak_running"] = rec.peak_running
    report["statuses"] = _statuses(rec, len(jobs))
    report["raised_jobs"] = sorted(rec.excs)
    report["input_kept"] = (
        type(arg) is (tuple if container == "tuple" else list)
        and len(arg) == len(originals)
        and all(a is b for a, b in zip(arg, originals))
    )
    report["tampered"] = tampered
    return report
