"""Task unit: python_async/retry."""

from __future__ import annotations

from pathlib import Path

from dpo_assets.tasks.base import SemanticRules, Signature, Task
from dpo_assets.tasks.python_async.retry.material import DIFFERENTIAL, EDGE, FUZZ, INVARIANTS, PROPERTIES

INSTRUCTIONS = """\
Implement
`async def retry_async(fn, attempts: int = 3, base_delay: float = 0.0, retry_on: tuple = (Exception,))`.

It awaits `fn()` up to `attempts` times and returns the first successful result. After the
`i`-th failure (`i` from 0) that will be retried, it awaits `asyncio.sleep(base_delay * 2**i)`
(never `time.sleep`); there is no sleep after the last attempt. An exception that is not an
instance of `retry_on` propagates at once; `asyncio.CancelledError` is never retried. After
the last attempt the last exception is re-raised. `attempts < 1` raises `ValueError`.
"""

TASK = Task(
    task_id="python_async/retry",
    title="Retry an async call with exponential backoff",
    instructions=INSTRUCTIONS,
    unit_dir=Path(__file__).resolve().parent,
    invariants=INVARIANTS,
    differential=DIFFERENTIAL,
    properties=PROPERTIES,
    fuzz=FUZZ,
    edge=EDGE,
    semantic=SemanticRules(
        functions=(Signature("retry_async", ("fn", "attempts", "base_delay", "retry_on"), is_async=True),),
        must_await=frozenset({"asyncio.sleep"}),
        forbidden_calls=frozenset({"time.sleep"}),
    ),
)
