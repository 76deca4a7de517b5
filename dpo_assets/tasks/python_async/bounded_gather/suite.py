"""pytest suite for python_async/bounded_gather (imports the candidate as ``solution``)."""

import asyncio

import pytest

from solution import bounded_gather


class Tracker:
    """Factories whose jobs yield ``ticks`` times; records calls, concurrency and cancellations."""

    def __init__(self):
        self.log = []
        self.called = []
        self.finished = []
        self.cancelled = []
        self.active = 0
        self.peak = 0

    def factory(self, index, ticks=1, result=None, error=None):
        def make():
            self.log.append(("call", index))
            self.called.append(index)
            self.active += 1
            self.peak = max(self.peak, self.active)
            return self._job(index, ticks, result, error)

        return make

    async def _job(self, index, ticks, result, error):
        try:
            for _ in range(ticks):
                await asyncio.sleep(0)
            if error is not None:
                self.log.append(("raise", index))
                raise error
            self.finished.append(index)
            return result
        except asyncio.CancelledError:
            self.cancelled.append(index)
            raise
        finally:
            self.active -= 1


def run(coro):
    return asyncio.run(coro)


def test_results_in_input_order():
    t = Tracker()
    ticks = [5, 1, 3, 1, 4, 2]
    factories = [t.factory(i, ticks=k, result=i * 10) for i, k in enumerate(ticks)]
    assert run(bounded_gather(factories, 2)) == [0, 10, 20, 30, 40, 50]


def test_result_is_a_plain_list_of_the_awaited_objects():
    sentinels = [object(), object(), object()]

    async def job(obj):
        await asyncio.sleep(0)
        return obj

    result = run(bounded_gather([lambda o=o: job(o) for o in sentinels], 2))
    assert type(result) is list
    assert all(got is want for got, want in zip(result, sentinels))


def test_never_more_than_limit_running():
    t = Tracker()
    factories = [t.factory(i, ticks=3, result=i) for i in range(20)]
    assert run(bounded_gather(factories, 4)) == list(range(20))
    assert t.peak == 4


def test_limit_one_runs_sequentially():
    t = Tracker()
    factories = [t.factory(i, ticks=2, result=i) for i in range(6)]
    assert run(bounded_gather(factories, 1)) == list(range(6))
    assert t.peak == 1
    assert t.finished == list(range(6))


def test_limit_larger_than_input():
    t = Tracker()
    factories = [t.factory(i, ticks=2, result=-i) for i in range(3)]
    assert run(bounded_gather(factories, 100)) == [0, -1, -2]
    assert t.peak == 3


def test_huge_limit_does_not_allocate_per_slot():
    t = Tracker()
    factories = [t.factory(i, ticks=1, result=i) for i in range(3)]
    assert run(bounded_gather(factories, 10**9)) == [0, 1, 2]


def test_each_factory_called_exactly_once():
    t = Tracker()
    factories = [t.factory(i, ticks=i % 3, result=i) for i in range(10)]
    run(bounded_gather(factories, 3))
    assert sorted(t.called) == list(range(10))


def test_factories_are_not_called_up_front():
    t = Tracker()
    factories = [t.factory(i, ticks=2, result=i) for i in range(8)]

    async def main():
        task = asyncio.ensure_future(bounded_gather(factories, 2))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        called_early = len(t.called)
        return called_early, await task

    called_early, result = run(main())
    assert called_early <= 2
    assert result == list(range(8))


def test_free_slot_is_reused_while_a_long_job_runs():
    t = Tracker()
    factories = [t.factory(0, ticks=400, result="slow")] + [
        t.factory(i, ticks=1, result=i) for i in range(1, 30)
    ]
    result = run(bounded_gather(factories, 2))
    assert result == ["slow", *range(1, 30)]
    assert t.finished[-1] == 0


def test_empty_input():
    assert run(bounded_gather([], 3)) == []
    assert run(bounded_gather((), 1)) == []


def test_accepts_a_tuple():
    t = Tracker()
    factories = tuple(t.factory(i, ticks=1, result=i) for i in range(4))
    assert run(bounded_gather(factories, 2)) == [0, 1, 2, 3]


@pytest.mark.parametrize("limit", [0, -1, -100])
def test_bad_limit_raises_when_awaited(limit):
    t = Tracker()
    coro = bounded_gather([t.factory(0, result=1)], limit)  # creating it must not raise
    with pytest.raises(ValueError):
        run(coro)
    assert t.called == []


def test_input_is_not_mutated():
    t = Tracker()
    factories = [t.factory(i, ticks=1, result=i) for i in range(5)]
    before = list(factories)
    run(bounded_gather(factories, 2))
    assert factories == before


def test_first_failure_is_raised_and_others_cancelled():
    t = Tracker()
    boom = KeyError("boom")
    factories = [t.factory(0, ticks=50, result=0), t.factory(1, ticks=1, error=boom)]
    factories += [t.factory(i, ticks=50, result=i) for i in range(2, 6)]

    async def main():
        with pytest.raises(KeyError) as info:
            await bounded_gather(factories, 3)
        for _ in range(60):
            await asyncio.sleep(0)
        return info.value

    raised = run(main())
    assert raised is boom
    assert 0 in t.cancelled and 2 in t.cancelled
    assert t.finished == []
    assert sorted(t.called) == [0, 1, 2]


@pytest.mark.parametrize("failing", [0, 1, 2])
def test_no_factory_started_after_a_failure_in_the_same_tick(failing):
    t = Tracker()
    factories = [
        t.factory(i, ticks=2, error=ValueError("boom")) if i == failing else t.factory(i, ticks=2, result=i)
        for i in range(8)
    ]
    with pytest.raises(ValueError):
        run(bounded_gather(factories, 3))
    failed_at = t.log.index(("raise", failing))
    started_later = [i for what, i in t.log[failed_at:] if what == "call"]
    assert started_later == [], f"factories {started_later} were called after job {failing} failed"


def test_immediate_failure_stops_everything():
    t = Tracker()
    factories = [t.factory(0, ticks=0, error=ZeroDivisionError("now"))]
    factories += [t.factory(i, ticks=20, result=i) for i in range(1, 6)]
    with pytest.raises(ZeroDivisionError):
        run(bounded_gather(factories, 2))
    failed_at = t.log.index(("raise", 0))
    assert [i for what, i in t.log[failed_at:] if what == "call"] == []
    assert len(t.called) <= 2
    assert t.finished == []


def test_failure_storm_raises_one_of_the_failures():
    t = Tracker()
    errors = [RuntimeError(f"e{i}") for i in range(6)]
    factories = [t.factory(i, ticks=2, error=errors[i]) for i in range(6)]
    factories += [t.factory(i, ticks=2, result=i) for i in range(6, 20)]

    with pytest.raises(RuntimeError) as info:
        run(bounded_gather(factories, 6))
    assert any(info.value is e for e in errors)
    assert sorted(t.called) == list(range(6))


def test_failure_of_the_last_job():
    t = Tracker()
    factories = [t.factory(i, ticks=1, result=i) for i in range(4)] + [
        t.factory(4, ticks=1, error=OSError("x"))
    ]
    with pytest.raises(OSError):
        run(bounded_gather(factories, 2))


def test_outer_cancellation_cancels_children():
    t = Tracker()
    factories = [t.factory(i, ticks=30, result=i) for i in range(12)]

    async def main():
        task = asyncio.ensure_future(bounded_gather(factories, 4))
        for _ in range(5):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        called = list(t.called)
        for _ in range(40):
            await asyncio.sleep(0)
        return called

    called_at_cancel = run(main())
    assert t.called == called_at_cancel
    assert t.finished == []
    assert sorted(t.cancelled) == sorted(t.called)


def test_factories_returning_tasks():
    t = Tracker()

    def make(i):
        def factory():
            return asyncio.ensure_future(t.factory(i, ticks=i % 4, result=i * i)())

        return factory

    assert run(bounded_gather([make(i) for i in range(7)], 3)) == [i * i for i in range(7)]
    assert t.peak <= 3


def test_factories_returning_plain_awaitables():
    class Later:
        def __init__(self, value):
            self.value = value

        def __await__(self):
            yield
            return self.value

    assert run(bounded_gather([lambda v=v: Later(v) for v in "abc"], 2)) == ["a", "b", "c"]


def test_async_def_factories():
    async def job(i):
        await asyncio.sleep(0)
        return i + 1

    assert run(bounded_gather([lambda i=i: job(i) for i in range(5)], 5)) == [1, 2, 3, 4, 5]


def test_many_factories():
    t = Tracker()
    factories = [t.factory(i, ticks=i % 5, result=i) for i in range(1000)]
    assert run(bounded_gather(factories, 7)) == list(range(1000))
    assert t.peak <= 7
