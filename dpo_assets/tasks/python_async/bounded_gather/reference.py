"""Reference implementation of python_async/bounded_gather."""

import asyncio


async def bounded_gather(factories, limit: int) -> list:
    """Await every factory's awaitable, at most ``limit`` at a time; results in input order.

    The first failure stops the run: no further factory is called, the jobs still running
    are cancelled, and that exception is raised.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    factories = list(factories)
    count = len(factories)
    if count == 0:
        return []
    results = [None] * count
    next_index = 0
    failure = None

    async def worker():
        nonlocal next_index, failure
        while failure is None and next_index < count:
            index = next_index
            next_index += 1
            try:
                results[index] = await factories[index]()
            except Exception as exc:
                if failure is None:
                    failure = exc
                raise

    workers = [asyncio.ensure_future(worker()) for _ in range(min(limit, count))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if failure is not None:
            raise failure from None
        raise
    return results
