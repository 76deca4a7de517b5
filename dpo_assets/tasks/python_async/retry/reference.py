"""Reference implementation of python_async/retry."""

import asyncio


async def retry_async(fn, attempts: int = 3, base_delay: float = 0.0, retry_on: tuple = (Exception,)):
    """Await ``fn()`` up to ``attempts`` times with exponential backoff between failures.

    After the ``i``-th failure (from 0) that will be retried, sleeps
    ``base_delay * 2**i`` seconds with ``asyncio.sleep``. Exceptions outside ``retry_on``
    and ``asyncio.CancelledError`` propagate at once; after the last attempt the last
    exception is re-raised.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(attempts):
        try:
            return await fn()
        except asyncio.CancelledError:
            raise
        except retry_on:
            if attempt == attempts - 1:
                raise
        await asyncio.sleep(base_delay * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover
