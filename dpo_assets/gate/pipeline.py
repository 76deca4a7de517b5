"""The certification pipeline: gate layers 1–8 over intake survivors, layer by layer.

Plain functions, no Dagster: the ``dpo-assets gate`` command and the Dagster assets share
them. :func:`run_layer_on` runs one layer over a batch of candidates (concurrently for the
execution layers, over a sandbox pool); :func:`certify` chains layers 1 to 8, each layer
seeing only the previous layer's survivors, and gives every sample exactly one verdict.

Samples are intake :class:`~dpo_assets.intake.validate.Sample` objects throughout.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import ModuleType

from dpo_assets.gate.engine import Violation, reference_observations
from dpo_assets.gate.layers import (
    coverage,
    dataflow,
    differential,
    edge,
    fuzz,
    invariant,
    semantic,
)
from dpo_assets.gate.layers import property as property_layer
from dpo_assets.intake.validate import Sample
from dpo_assets.sandbox.concurrency import default_jobs
from dpo_assets.sandbox.executor import Executor
from dpo_assets.sandbox.outcome import Observation
from dpo_assets.tasks import get_task
from dpo_assets.tasks.base import Task

Progress = Callable[[str], None]
OnDone = Callable[[int, int], None]  # (candidates done, candidates in the layer)
MAX_REASON = 300
DEFAULT_WORKERS = default_jobs()  # CPUs + 2: see dpo_assets.sandbox.concurrency


@dataclass(frozen=True)
class LayerSpec:
    """One gate layer: its fixed number, its name, and whether it executes the candidate."""

    number: int
    name: str
    pure: bool = False  # static analysis only: no sandbox


LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec(invariant.NUMBER, invariant.NAME),
    LayerSpec(differential.NUMBER, differential.NAME),
    LayerSpec(property_layer.NUMBER, property_layer.NAME),
    LayerSpec(fuzz.NUMBER, fuzz.NAME),
    LayerSpec(5, "semantic", pure=True),
    LayerSpec(6, "dataflow", pure=True),
    LayerSpec(edge.NUMBER, edge.NAME),
    LayerSpec(8, "coverage"),
)
_BY_NUMBER = {spec.number: spec for spec in LAYERS}
_EXECUTION: dict[int, ModuleType] = {
    m.NUMBER: m for m in (invariant, differential, property_layer, fuzz, edge)
}
_PURE: dict[int, Callable[[Task, str], list[Violation]]] = {5: semantic.check, 6: dataflow.check}


def layer_spec(number: int) -> LayerSpec:
    try:
        return _BY_NUMBER[number]
    except KeyError:
        raise ValueError(f"no gate layer {number} (layers are 1..8)") from None


@dataclass(frozen=True)
class LayerRejection:
    """A candidate that failed ``layer``: why (one line) and the first violation's evidence."""

    sample_id: str
    task_id: str
    layer: int
    reason: str
    evidence: str = ""
    coverage: float | None = None  # layer 8 only, when measured


@dataclass
class LayerResult:
    """What one layer did to a batch. Unpacks as ``(survivors, rejections)``;
    ``coverage`` maps every candidate's id to its layer-8 score (empty for other layers)."""

    survivors: list[Sample]
    rejections: list[LayerRejection]
    coverage: dict[str, float | None] = field(default_factory=dict)

    def __iter__(self) -> Iterator[list]:
        return iter((self.survivors, self.rejections))


@dataclass(frozen=True)
class Verdict:
    """The gate's final word on one sample."""

    sample_id: str
    task_id: str
    certified: bool
    failed_layer: int | None  # None when certified
    reason: str = ""  # empty when certified
    evidence: str = ""
    coverage: float | None = None  # layer-8 score when measured


_ADDRESS = re.compile(r"\b(at 0x)[0-9a-fA-F]+\b")


def stable_text(text: str) -> str:
    """``text`` without what differs from run to run for the same verdict: memory addresses
    of default object reprs (``<solution.X object at 0x7f…>`` becomes ``… at 0x…>``)."""
    return _ADDRESS.sub(r"\1…", text)


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """``text`` squeezed onto one line and clipped to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _reference_for(tasks: Sequence[Task]) -> dict[str, tuple[Observation, ...]]:
    """Each task's reference observations of its differential calls, computed once.

    Runs the reference in-process with the global ``random``: call from one thread only."""
    refs: dict[str, tuple[Observation, ...]] = {}
    for task in tasks:
        if task.task_id not in refs and task.differential:
            refs[task.task_id] = reference_observations(task, [c.call for c in task.differential])
    return refs


def _judge(
    number: int,
    sample: Sample,
    task: Task,
    executor: Executor | None,
    threshold: float,
    reference: Sequence[Observation] | None,
) -> tuple[list[Violation], float | None]:
    if number in _PURE:
        return _PURE[number](task, sample.code), None
    assert executor is not None
    if number == 8:
        result = coverage.check(executor, task, sample.code, threshold)
        return result.violations, result.coverage
    return _EXECUTION[number].check(executor, task, sample.code, reference=reference), None


def _judge_safely(
    number: int,
    sample: Sample,
    task: Task,
    executor: Executor | None,
    threshold: float,
    reference: Sequence[Observation] | None,
) -> tuple[list[Violation], float | None]:
    """Like :func:`_judge`, but a failure of the gate itself rejects the candidate (never
    certifies it) instead of stopping the whole batch."""
    try:
        return _judge(number, sample, task, executor, threshold, reference)
    except Exception as exc:  # one candidate must not stop the batch
        return [Violation("gate", f"could not be checked: {type(exc).__name__}: {exc}")], None


def run_layer_on(
    layer_number: int,
    samples: Sequence[Sample],
    executor: Executor | None,
    threshold: float = coverage.DEFAULT_THRESHOLD,
    progress: Progress | None = None,
    workers: int = DEFAULT_WORKERS,
    on_done: OnDone | None = None,
) -> LayerResult:
    """Run gate layer ``layer_number`` over ``samples``: ``(survivors, rejections)``, both in
    input order. Execution layers run ``workers`` candidates at a time on ``executor`` (which
    must be safe for concurrent callers, e.g. a :class:`SandboxPool`); layers 5 and 6 are pure.

    ``progress`` gets one summary line when the layer is done. ``on_done(done, total)`` is
    called with ``done=0`` before the first candidate and again as each candidate finishes,
    from the worker threads but never concurrently (calls are serialized, ``done`` increases
    by one each time)."""
    spec = layer_spec(layer_number)
    if not spec.pure and executor is None:
        raise ValueError(f"layer {layer_number} ({spec.name}) needs an executor")
    if layer_number == 8:
        coverage._validate_threshold(threshold)
    started = time.monotonic()
    tasks = [get_task(s.task_id) for s in samples]
    # In the calling thread, before fanning out: the reference uses the global ``random``.
    refs = _reference_for(tasks) if layer_number == differential.NUMBER else {}

    items = list(zip(samples, tasks))
    finished = 0
    finished_lock = threading.Lock()

    def judge(item: tuple[Sample, Task]) -> tuple[list[Violation], float | None]:
        nonlocal finished
        sample, task = item
        verdict = _judge_safely(layer_number, sample, task, executor, threshold, refs.get(task.task_id))
        if on_done is not None:
            with finished_lock:
                finished += 1
                on_done(finished, len(items))
        return verdict

    if on_done is not None:
        on_done(0, len(items))
    if spec.pure or workers <= 1 or len(items) <= 1:
        results = [judge(item) for item in items]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"gate-{layer_number}") as pool:
            results = list(pool.map(judge, items))

    out = LayerResult([], [])
    for sample, (violations, score) in zip(samples, results):
        if layer_number == 8:
            out.coverage[sample.sample_id] = score
        if not violations:
            out.survivors.append(sample)
            continue
        first = violations[0]
        out.rejections.append(
            LayerRejection(
                sample_id=sample.sample_id,
                task_id=sample.task_id,
                layer=layer_number,
                reason=one_line(stable_text(first.line())),
                evidence=stable_text(first.evidence),
                coverage=score,
            )
        )
    if progress is not None:
        progress(
            f"layer {layer_number} {spec.name}: {len(samples)} in, {len(out.survivors)} passed, "
            f"{len(out.rejections)} rejected ({time.monotonic() - started:.1f}s)"
        )
    return out


def certify(
    samples: Sequence[Sample],
    executor: Executor | None,
    threshold: float = coverage.DEFAULT_THRESHOLD,
    progress: Progress | None = None,
    workers: int = DEFAULT_WORKERS,
    on_done: Callable[[LayerSpec, int, int], None] | None = None,
    on_result: Callable[[LayerSpec, LayerResult], None] | None = None,
) -> list[Verdict]:
    """Layers 1 to 8 in order, each over the previous layer's survivors; one verdict per
    sample, in input order. Sample ids must be unique (intake guarantees it).

    ``on_done(spec, done, total)`` follows each layer candidate by candidate (see
    :func:`run_layer_on`); ``on_result(spec, result)`` sees each layer's result."""
    ids = [s.sample_id for s in samples]
    if len(set(ids)) != len(ids):
        raise ValueError("certify needs unique sample ids")
    rejected: dict[str, LayerRejection] = {}
    scores: dict[str, float | None] = {}
    current = list(samples)
    for spec in LAYERS:
        if not current:
            break
        tick = None if on_done is None else functools.partial(on_done, spec)
        result = run_layer_on(spec.number, current, executor, threshold, progress, workers, tick)
        if on_result is not None:
            on_result(spec, result)
        scores.update(result.coverage)
        for rejection in result.rejections:
            rejected[rejection.sample_id] = rejection
        current = result.survivors
    certified = {s.sample_id for s in current}
    assert len(certified) + len(rejected) == len(samples), "gate accounting: a sample was lost"
    assert not certified & rejected.keys(), "gate accounting: a sample was both certified and rejected"

    verdicts = []
    for sample in samples:
        rejection = rejected.get(sample.sample_id)
        if rejection is None:
            verdicts.append(
                Verdict(sample.sample_id, sample.task_id, True, None, coverage=scores.get(sample.sample_id))
            )
        else:
            verdicts.append(
                Verdict(
                    sample.sample_id,
                    sample.task_id,
                    False,
                    rejection.layer,
                    rejection.reason,
                    rejection.evidence,
                    rejection.coverage,
                )
            )
    return verdicts
