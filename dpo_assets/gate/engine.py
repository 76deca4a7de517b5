"""Generic execution engines: run a task's declared material against one candidate.

These are plain functions over an :class:`~dpo_assets.sandbox.executor.Executor`, used
by the execution layers (1, 2, 3, 4, 7) and by the catalog's self-tests.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from hypothesis import HealthCheck, Phase, given, seed, settings

from dpo_assets.sandbox.executor import Executor, InProcessExecutor
from dpo_assets.sandbox.limits import Limits
from dpo_assets.sandbox.outcome import Call, Observation, Outcome
from dpo_assets.tasks.base import Case, DifferentialCase, PropertySpec, Task


@dataclass(frozen=True)
class Violation:
    """Why a candidate failed a piece of material: the call and what went wrong."""

    case: str  # description of the failing call / property
    reason: str  # one line
    evidence: str = ""  # e.g. expected vs actual, the input

    def line(self) -> str:
        return f"{self.case}: {self.reason}"


_CALLS: dict[int, tuple[Sequence[Any], tuple[Call, ...]]] = {}
_CALLS_LOCK = threading.Lock()


def calls_of(cases: Sequence[Case] | Sequence[DifferentialCase]) -> tuple[Call, ...]:
    """The calls of ``cases`` as one tuple, the same object every time for the same material
    (a sandbox then encodes and ships a task's batch once, not once per candidate). Only
    immutable material (a tuple, as in :class:`Task`) is remembered."""
    if not isinstance(cases, tuple):
        return tuple(c.call for c in cases)
    with _CALLS_LOCK:
        hit = _CALLS.get(id(cases))
        if hit is None or hit[0] is not cases:
            hit = _CALLS[id(cases)] = (cases, tuple(c.call for c in cases))
    return hit[1]


def _outcome_violation(outcome: Outcome, calls: Sequence[Call]) -> Violation:
    done = len(outcome.observations)
    where = calls[done].describe() if done < len(calls) else "module"
    return Violation(where, outcome.describe())


def run_cases(
    executor: Executor, task: Task, source: str, cases: Sequence[Case], limits: Limits | None = None
) -> list[Violation]:
    """Run ``cases`` in one sandbox batch; every failing check is a violation."""
    if not cases:
        return []
    calls = calls_of(cases)
    outcome = executor.run(source, task.harness, calls, limits)
    violations = [
        Violation(case.call.describe(), reason)
        for case, obs in zip(cases, outcome.observations)
        if (reason := case.check(obs)) is not None
    ]
    if not outcome.ok:
        violations.append(_outcome_violation(outcome, calls))
    return violations


def reference_observations(task: Task, calls: Sequence[Call]) -> tuple[Observation, ...]:
    """Observations of the (trusted) reference implementation for ``calls``."""
    outcome = InProcessExecutor().run(task.reference_source, task.harness, calls)
    if not outcome.ok or len(outcome.observations) != len(calls):
        raise RuntimeError(f"reference of {task.task_id} failed: {outcome.describe()}")
    return outcome.observations


def run_differential(
    executor: Executor,
    task: Task,
    source: str,
    cases: Sequence[DifferentialCase],
    limits: Limits | None = None,
    reference: Sequence[Observation] | None = None,
) -> list[Violation]:
    """Run ``cases`` on the candidate and compare with the reference's observations."""
    if not cases:
        return []
    calls = calls_of(cases)
    ref = reference if reference is not None else reference_observations(task, calls)
    outcome = executor.run(source, task.harness, calls, limits)
    violations = [
        Violation(case.call.describe(), reason)
        for case, cand, want in zip(cases, outcome.observations, ref)
        if (reason := case.compare(cand, want)) is not None
    ]
    if not outcome.ok:
        violations.append(_outcome_violation(outcome, calls))
    return violations


_DRAWN: dict[tuple[int, int], tuple[PropertySpec, list[dict[str, Any]]]] = {}
_DRAW_LOCK = threading.Lock()


def draw_examples(spec: PropertySpec, max_examples: int | None = None) -> list[dict[str, Any]]:
    """The property's example inputs, drawn deterministically with Hypothesis.

    Draws are the same for every candidate, so they are made once per spec and budget;
    Hypothesis is not thread-safe, so drawing is serialised.
    """
    budget = max_examples if max_examples is not None else spec.max_examples
    with _DRAW_LOCK:
        cached = _DRAWN.get((id(spec), budget))
        if cached is None or cached[0] is not spec:
            cached = _DRAWN[(id(spec), budget)] = (spec, _draw(spec, budget))
    return [dict(kwargs) for kwargs in cached[1]]


@contextmanager
def _no_local_constants() -> Iterator[None]:
    """Stop Hypothesis mixing constants from whatever local modules are imported into draws.

    Hypothesis occasionally draws literals found in "local" (non-library) modules, so the
    same seed would give different examples depending on what the process imported, and a
    verdict would depend on who asked. This pins the pool to Hypothesis' global constants.
    Uses Hypothesis internals; if they move, drawing still works (only less reproducibly).
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
        from hypothesis.internal.floats import float_to_int
        from sortedcontainers import SortedSet

        empty = Constants(
            integers=SortedSet(), floats=SortedSet(key=float_to_int), bytes=SortedSet(), strings=SortedSet()
        )
        saved = (providers._get_local_constants, providers.CONSTANTS_CACHE)
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - Hypothesis changed
        yield
        return
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE = type(saved[1])(1024)
    try:
        yield
    finally:
        providers._get_local_constants, providers.CONSTANTS_CACHE = saved


def _draw(spec: PropertySpec, budget: int) -> list[dict[str, Any]]:
    drawn: list[dict[str, Any]] = []
    # An explicit seed from the property's name: draws depend on nothing else (derandomize
    # would hash this function's name and code, so a refactor would change every verdict).
    property_seed = int.from_bytes(hashlib.sha256(spec.name.encode()).digest()[:8], "big")

    @seed(property_seed)
    @settings(
        max_examples=budget,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(spec.strategy)
    def collect(kwargs: Mapping[str, Any]) -> None:
        drawn.append(dict(kwargs))

    with _no_local_constants():
        collect()
    return drawn


_BATCHES: dict[tuple[int, int | None], tuple[Sequence[PropertySpec], tuple, tuple[Call, ...]]] = {}


def _property_batch(
    specs: Sequence[PropertySpec], max_examples: int | None
) -> tuple[tuple[tuple[PropertySpec, dict[str, Any]], ...], tuple[Call, ...]]:
    """Every property's drawn examples and their calls, built once per ``specs`` (a tuple, as
    in :class:`Task`; anything else is built afresh) and budget."""
    with _CALLS_LOCK:
        hit = _BATCHES.get((id(specs), max_examples)) if isinstance(specs, tuple) else None
    if hit is None or hit[0] is not specs:
        examples = tuple((spec, kwargs) for spec in specs for kwargs in draw_examples(spec, max_examples))
        calls = tuple(Call(spec.driver, kwargs, label=f"{spec.name}{kwargs!r}") for spec, kwargs in examples)
        hit = (specs, examples, calls)
        if isinstance(specs, tuple):
            with _CALLS_LOCK:
                _BATCHES[(id(specs), max_examples)] = hit
    return hit[1], hit[2]


def run_properties(
    executor: Executor,
    task: Task,
    source: str,
    specs: Sequence[PropertySpec],
    limits: Limits | None = None,
    max_examples: int | None = None,
) -> list[Violation]:
    """Draw each property's examples, run them in one batch, judge each in the parent."""
    examples, calls = _property_batch(specs, max_examples)
    if not examples:
        return []
    outcome = executor.run(source, task.harness, calls, limits)
    violations: list[Violation] = []
    for (spec, kwargs), call, obs in zip(examples, calls, outcome.observations):
        reason = spec.check(dict(kwargs), obs)
        if reason is not None:
            violations.append(Violation(spec.name, reason, evidence=call.describe()))
    if not outcome.ok:
        violations.append(_outcome_violation(outcome, calls))
    return violations


EXECUTION_LAYERS = (1, 2, 3, 4, 7)

# Wall-clock budget of one candidate's batch per layer, and of any one call in it. Correct
# candidates of the bundled corpus need at most ~140 ms for a whole batch of layers 1-4 and
# ~20 ms for one call (measured on 2 cores); the budgets are what a hanging candidate (a
# deadlock, a real sleep, a busy loop, an O(N^2) algorithm) costs before it is rejected as a
# timeout, so they are tight but keep a 20-50x margin for a loaded machine. Layer 7 uses the
# task's ``edge_seconds`` and ``edge_call_seconds``.
LAYER_SECONDS: dict[int, float] = {1: 3.0, 2: 3.0, 3: 5.0, 4: 3.0}
CALL_SECONDS = 1.0


def layer_limits(task: Task, layer: int) -> Limits:
    """The default sandbox limits for one candidate's batch of ``layer`` on ``task``."""
    if layer == 7:
        seconds, call = task.edge_seconds, task.edge_call_seconds
    else:
        seconds, call = LAYER_SECONDS[layer], CALL_SECONDS
    return Limits(wall_seconds=seconds, cpu_seconds=max(1, math.ceil(seconds)), call_seconds=call)


class LayerCheck(Protocol):
    def __call__(
        self,
        executor: Executor,
        task: Task,
        source: str,
        limits: Limits | None = None,
        reference: Sequence[Observation] | None = None,
    ) -> list[Violation]: ...


def layer_check(layer: int) -> LayerCheck:
    """The ``check`` function of execution layer ``layer``: :func:`run_layer` for that layer
    (an empty list means the candidate passed)."""
    if layer not in EXECUTION_LAYERS:
        raise ValueError(f"layer {layer} is not an execution layer (those are {EXECUTION_LAYERS})")

    def check(
        executor: Executor,
        task: Task,
        source: str,
        limits: Limits | None = None,
        reference: Sequence[Observation] | None = None,
    ) -> list[Violation]:
        return run_layer(executor, task, source, layer, limits, reference)

    check.__doc__ = f"Run layer {layer}'s material against ``source``; an empty list means it passed."
    return check


def run_layer(
    executor: Executor,
    task: Task,
    source: str,
    layer: int,
    limits: Limits | None = None,
    reference: Sequence[Observation] | None = None,
) -> list[Violation]:
    """Run one execution layer's material (1 invariant, 2 differential, 3 property, 4 fuzz,
    7 edge) against ``source``, by default within :func:`layer_limits`."""
    if layer not in EXECUTION_LAYERS:
        raise ValueError(f"layer {layer} is not an execution layer (those are {EXECUTION_LAYERS})")
    limits = limits or layer_limits(task, layer)
    if layer == 1:
        return run_cases(executor, task, source, task.invariants, limits)
    if layer == 2:
        return run_differential(executor, task, source, task.differential, limits, reference)
    if layer == 3:
        return run_properties(executor, task, source, task.properties, limits)
    if layer == 4:
        return run_cases(executor, task, source, task.fuzz, limits)
    return run_cases(executor, task, source, task.edge, limits)
