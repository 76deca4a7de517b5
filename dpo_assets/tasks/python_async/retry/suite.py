"""pytest suite for python_async/retry (imports the candidate as ``solution``)."""

import asyncio
import time

import pytest

import solution
from solution import retry_async

_REAL_SLEEP = asyncio.sleep


@pytest.fixture
def sleeps(monkeypatch):
    """Record every ``asyncio.sleep`` delay instead of waiting; forbid ``time.sleep``."""
    recorded = []

    async def fake_sleep(delay, result=None):
        recorded.append(delay)
        await _REAL_SLEEP(0)
        return result

    def no_time_sleep(seconds):
        raise AssertionError(f"time.sleep({seconds!r}) blocks the event loop")

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    monkeypatch.setattr(time, "sleep", no_time_sleep)
    for name, value in list(vars(solution).items()):
        if value is _REAL_SLEEP:
            monkeypatch.setattr(solution, name, fake_sleep)
    return recorded


class Flaky:
    """An async callable failing with ``errors`` in turn, then returning ``value``."""

    def __init__(self, *errors, value="ok"):
        self.errors = list(errors)
        self.value = value
        self.calls = 0
        self.raised = []

    async def __call__(self):
        self.calls += 1
        await _REAL_SLEEP(0)
        if self.errors:
            exc = self.errors.pop(0)
            self.raised.append(exc)
            raise exc
        return self.value


def run(coro):
    return asyncio.run(coro)


def test_first_success_needs_no_sleep(sleeps):
    fn = Flaky(value=42)
    assert run(retry_async(fn)) == 42
    assert fn.calls == 1
    assert sleeps == []


def test_returns_the_object_fn_returned(sleeps):
    marker = object()
    fn = Flaky(ValueError("x"), value=marker)
    assert run(retry_async(fn, attempts=2)) is marker


def test_eventual_success_with_exponential_backoff(sleeps):
    fn = Flaky(ValueError("a"), ValueError("b"), value="done")
    assert run(retry_async(fn, attempts=3, base_delay=0.5)) == "done"
    assert fn.calls == 3
    assert sleeps == [0.5, 1.0]


def test_backoff_doubles_each_time(sleeps):
    fn = Flaky(*[OSError(i) for i in range(5)], value=1)
    assert run(retry_async(fn, attempts=6, base_delay=0.1)) == 1
    assert sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6])


def test_last_exception_is_reraised_without_a_final_sleep(sleeps):
    errors = [ValueError("1"), KeyError("2"), RuntimeError("3")]
    fn = Flaky(*errors)
    with pytest.raises(RuntimeError) as info:
        run(retry_async(fn, attempts=3, base_delay=1.0))
    assert info.value is errors[-1]
    assert fn.calls == 3
    assert sleeps == [1.0, 2.0]


def test_single_attempt(sleeps):
    error = ValueError("once")
    fn = Flaky(error)
    with pytest.raises(ValueError) as info:
        run(retry_async(fn, attempts=1, base_delay=5.0))
    assert info.value is error
    assert fn.calls == 1
    assert sleeps == []


def test_defaults_are_three_attempts_without_delay(sleeps):
    fn = Flaky(*[ValueError(i) for i in range(5)])
    with pytest.raises(ValueError):
        run(retry_async(fn))
    assert fn.calls == 3
    assert sleeps == [0, 0]


def test_exception_outside_retry_on_propagates_at_once(sleeps):
    error = KeyError("no")
    fn = Flaky(error, value=1)
    with pytest.raises(KeyError) as info:
        run(retry_async(fn, attempts=5, base_delay=1.0, retry_on=(ValueError,)))
    assert info.value is error
    assert fn.calls == 1
    assert sleeps == []


def test_retry_on_matches_subclasses(sleeps):
    fn = Flaky(KeyError("k"), IndexError("i"), value="found")
    assert run(retry_async(fn, attempts=3, base_delay=2.0, retry_on=(LookupError,))) == "found"
    assert sleeps == [2.0, 4.0]


def test_retry_on_with_several_types(sleeps):
    fn = Flaky(OSError("o"), ValueError("v"), TypeError("t"), value=1)
    with pytest.raises(TypeError):
        run(retry_async(fn, attempts=5, base_delay=1.0, retry_on=(OSError, ValueError)))
    assert fn.calls == 3
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize("retry_on", [(Exception,), (BaseException,)])
def test_cancelled_error_is_never_retried(sleeps, retry_on):
    fn = Flaky(asyncio.CancelledError(), value=1)

    async def main():
        with pytest.raises(asyncio.CancelledError):
            await retry_async(fn, attempts=5, base_delay=1.0, retry_on=retry_on)

    run(main())
    assert fn.calls == 1
    assert sleeps == []


def test_cancellation_while_sleeping_propagates(monkeypatch):
    calls = []

    async def fn():
        calls.append(1)
        raise ValueError("retry me")

    async def main():
        sleeping = asyncio.Event()

        async def blocking_sleep(delay, result=None):
            if sleeping.is_set():  # only the first sleep blocks
                return result
            sleeping.set()
            await asyncio.Event().wait()

        def no_time_sleep(seconds):
            raise AssertionError("time.sleep blocks the event loop")

        monkeypatch.setattr(asyncio, "sleep", blocking_sleep)
        monkeypatch.setattr(time, "sleep", no_time_sleep)
        for name, value in list(vars(solution).items()):
            if value is _REAL_SLEEP:
                monkeypatch.setattr(solution, name, blocking_sleep)
        task = asyncio.ensure_future(retry_async(fn, attempts=4, base_delay=10.0))
        waiter = asyncio.ensure_future(sleeping.wait())
        await asyncio.wait({task, waiter}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        assert sleeping.is_set(), "retry_async never awaited asyncio.sleep after a failure"
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        assert task.done(), "retry_async kept running after being cancelled"
        assert task.cancelled()

    run(main())
    assert calls == [1]


def test_zero_delay_still_yields_through_asyncio_sleep(sleeps):
    fn = Flaky(ValueError("a"), value=5)
    assert run(retry_async(fn, attempts=2, base_delay=0.0)) == 5
    assert sleeps == [0.0]


@pytest.mark.parametrize("attempts", [0, -1, -10])
def test_attempts_below_one_raise_value_error(sleeps, attempts):
    fn = Flaky(value=1)
    coro = retry_async(fn, attempts=attempts)  # creating it must not raise
    with pytest.raises(ValueError):
        run(coro)
    assert fn.calls == 0


def test_none_is_a_successful_result(sleeps):
    fn = Flaky(ValueError("x"), value=None)
    assert run(retry_async(fn, attempts=2, base_delay=1.0)) is None
    assert sleeps == [1.0]


@pytest.mark.parametrize("value", [0, "", False, []])
def test_falsy_results_are_successes(sleeps, value):
    fn = Flaky(value=value)
    assert run(retry_async(fn, attempts=3, base_delay=1.0)) is value
    assert fn.calls == 1
    assert sleeps == []


def test_fn_may_be_a_plain_callable_returning_a_coroutine(sleeps):
    flaky = Flaky(OSError("x"), value=3)
    assert run(retry_async(lambda: flaky(), attempts=2)) == 3


def test_many_attempts(sleeps):
    fn = Flaky(*[TimeoutError(i) for i in range(49)], value="late")
    assert run(retry_async(fn, attempts=50, base_delay=1e-3)) == "late"
    assert fn.calls == 50
    assert len(sleeps) == 49
    assert sleeps[-1] == pytest.approx(1e-3 * 2**48)
