"""Task unit: python_async/bounded_gather."""

from __future__ import annotations

from pathlib import Path

from dpo_assets.tasks.base import SemanticRules, Signature, Task
from dpo_assets.tasks.python_async.bounded_gather.material import (
    DIFFERENTIAL,
    EDGE,
    FUZZ,
    INVARIANTS,
    PROPERTIES,
)

INSTRUCTIONS = """\
Implement `async def bounded_gather(factories, limit: int) -> list`.

`factories` is a sequence of zero-argument callables, each returning an awaitable.
Await all of them with at most `limit` running at any moment and return their results in
**input order**. `limit < 1` raises `ValueError` (raised when awaited). Empty input gives `[]`.
If one raises, `bounded_gather` cancels those still running, starts no further ones, and
raises that exception. Each factory is called at most once, and only when a slot is free
(a factory may start work as soon as it is called, so calling them all up front breaks the
limit). Do not mutate `factories`.
"""

TASK = Task(
    task_id="python_async/bounded_gather",
    title="Gather awaitables with a concurrency limit",
    instructions=INSTRUCTIONS,
    unit_dir=Path(__file__).resolve().parent,
    invariants=INVARIANTS,
    differential=DIFFERENTIAL,
    properties=PROPERTIES,
    fuzz=FUZZ,
    edge=EDGE,
    semantic=SemanticRules(functions=(Signature("bounded_gather", ("factories", "limit"), is_async=True),)),
)
