"""Gate layer 2 (differential): results agree with the task's reference implementation.

A thin wrapper over :func:`dpo_assets.gate.engine.run_layer`.
"""

from __future__ import annotations

from collections.abc import Sequence

from dpo_assets.gate.engine import Violation, run_layer
from dpo_assets.sandbox.executor import Executor
from dpo_assets.sandbox.limits import Limits
from dpo_assets.sandbox.outcome import Observation
from dpo_assets.tasks.base import Task

NUMBER = 2
NAME = "differential"


def check(
    executor: Executor,
    task: Task,
    source: str,
    limits: Limits | None = None,
    reference: Sequence[Observation] | None = None,
) -> list[Violation]:
    """Run layer 2's material against ``source``; an empty list means it passed.

    ``reference`` is the reference's observations of the task's differential calls (see
    :func:`dpo_assets.gate.engine.reference_observations`); computed here when omitted."""
    return run_layer(executor, task, source, NUMBER, limits, reference)
