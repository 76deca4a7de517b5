"""The certification pipeline (layers 1–8, layer by layer) on a few bundled samples."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate import pipeline
from dpo_assets.gate.layers.coverage import DEFAULT_THRESHOLD
from dpo_assets.intake.validate import Sample, parse_line
from dpo_assets.sandbox.forkserver import SandboxPool
from dpo_assets.tasks import get_task

MOVING_AVERAGE = "pytest_traceback_repair/moving_average"
FFT = "fft/transform"
# Correct ones, and broken/hacking ones caught before the (slow) edge layer.
PICKED = {
    MOVING_AVERAGE: [
        "moving_average-correct-01",
        "moving_average-broken-01",
        "moving_average-broken-06",
        "moving_average-broken-09",
        "moving_average-hacking-04",
    ],
    FFT: ["transform-correct-01", "transform-broken-28", "transform-hacking-08"],
}


def _sample(row: dict) -> Sample:
    parsed = parse_line(json.dumps(row).encode(), lambda _task_id: True)
    assert isinstance(parsed, Sample), parsed
    return parsed


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(size=2) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def picked() -> tuple[list[Sample], dict[str, dict]]:
    samples, labels = [], {}
    for task_id, ids in PICKED.items():
        rows, task_labels = load_samples(task_id), load_labels(task_id)
        samples.extend(_sample(rows[sid]) for sid in ids)
        labels.update({sid: task_labels[sid] for sid in ids})
    return samples, labels


def test_layer_numbering() -> None:
    assert [spec.number for spec in pipeline.LAYERS] == list(range(1, 9))
    assert [spec.name for spec in pipeline.LAYERS] == [
        "invariant", "differential", "property", "fuzz", "semantic", "dataflow", "edge", "coverage",
    ]  # fmt: skip
    assert {spec.number for spec in pipeline.LAYERS if spec.pure} == {5, 6}


def test_certify_bundled_samples(pool: SandboxPool, picked: tuple[list[Sample], dict[str, dict]]) -> None:
    samples, labels = picked
    messages: list[str] = []
    ticks: list[tuple[int, int, int]] = []
    results: list[tuple[pipeline.LayerSpec, pipeline.LayerResult]] = []
    verdicts = pipeline.certify(
        samples,
        pool,
        DEFAULT_THRESHOLD,
        messages.append,
        workers=2,
        on_done=lambda spec, done, total: ticks.append((spec.number, done, total)),
        on_result=lambda spec, result: results.append((spec, result)),
    )

    assert [v.sample_id for v in verdicts] == [s.sample_id for s in samples]
    # Every layer accounts for each of its candidates exactly once, in input order.
    current = [s.sample_id for s in samples]
    for spec, result in results:
        passed = [s.sample_id for s in result.survivors]
        rejected = [r.sample_id for r in result.rejections]
        assert len(passed) + len(rejected) == len(current), spec
        assert sorted(passed + rejected) == sorted(current) and not set(passed) & set(rejected)
        assert passed == [i for i in current if i in set(passed)]
        assert all(r.layer == spec.number for r in result.rejections)
        # on_done: 0 first, then one call per candidate, done counting up to the total.
        layer_ticks = [(done, total) for number, done, total in ticks if number == spec.number]
        assert layer_ticks == [(done, len(current)) for done in range(len(current) + 1)], spec
        current = passed
    assert [spec.number for spec, _ in results] == [spec.number for spec in pipeline.LAYERS][: len(results)]
    assert sorted(current) == sorted(v.sample_id for v in verdicts if v.certified)
    certified = [v for v in verdicts if v.certified]
    rejected = [v for v in verdicts if not v.certified]
    assert len(certified) + len(rejected) == len(samples)
    assert messages and messages[0].startswith("layer 1 invariant:")
    for verdict in verdicts:
        label = labels[verdict.sample_id]
        if label["label"] == "correct":
            assert verdict.certified, verdict
            assert verdict.failed_layer is None and verdict.reason == ""
            assert verdict.coverage is not None and verdict.coverage >= DEFAULT_THRESHOLD
        else:
            assert not verdict.certified, verdict
            assert verdict.failed_layer is not None
            assert 1 <= verdict.failed_layer <= min(label["caught_by"]), (verdict, label)
            assert verdict.reason and "\n" not in verdict.reason


def test_pure_layer_needs_no_executor(picked: tuple[list[Sample], dict[str, dict]]) -> None:
    samples, _labels = picked
    survivors, rejections = pipeline.run_layer_on(5, samples, None)
    assert len(survivors) + len(rejections) == len(samples)
    caught = {r.sample_id for r in rejections}
    # Caught at layer 5 per the labels (and layer 5 is pure: it does not need the earlier ones).
    assert "moving_average-hacking-04" in caught and "moving_average-broken-09" in caught
    assert all(r.layer == 5 and r.reason for r in rejections)
    with pytest.raises(ValueError):
        pipeline.run_layer_on(1, samples, None)


def test_coverage_recorded_for_rejected_candidate(pool: SandboxPool) -> None:
    task = get_task(MOVING_AVERAGE)
    assert task.broken_source is not None
    broken = Sample("ma-broken", MOVING_AVERAGE, task.broken_source)
    good = Sample("ma-reference", MOVING_AVERAGE, task.reference_source)
    result = pipeline.run_layer_on(8, [broken, good], pool)
    assert [s.sample_id for s in result.survivors] == ["ma-reference"]
    (rejection,) = result.rejections
    assert rejection.layer == 8 and rejection.reason.startswith("pytest suite: suite failed")
    assert rejection.coverage is not None
    assert set(result.coverage) == {"ma-broken", "ma-reference"}
    assert result.coverage["ma-reference"] == 100.0
