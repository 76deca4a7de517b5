"""Gate layer 1 (invariant): the module imports in the sandbox and the task's contract invariants hold.

A thin wrapper over :func:`dpo_assets.gate.engine.run_layer`.
"""

from __future__ import annotations

from collections.abc import Sequence

from dpo_assets.gate.engine import Violation, run_layer
from dpo_assets.sandbox.executor import Executor
from dpo_assets.sandbox.limits import Limits
from dpo_assets.sandbox.outcome import Observation
from dpo_assets.tasks.base import Task

NUMBER = 1
NAME = "invariant"


def check(
    executor: Executor,
    task: Task,
    source: str,
    limits: Limits | None = None,
    reference: Sequence[Observation] | None = None,
) -> list[Violation]:
    """Run layer 1's material against ``source``; an empty list means it passed."""
    return run_layer(executor, task, source, NUMBER, limits)
