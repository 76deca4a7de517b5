"""The whole gate on the whole bundled corpus and on the default generated batch: a confusion
table per task, which must have no false certification and no false rejection."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import pytest

from dpo_assets import paths
from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.corpus.expected import confusion, expected_label, load_equivalent_mutants
from dpo_assets.corpus.generate import generate_batch, read_corpus, read_labels
from dpo_assets.gate.pipeline import Verdict, certify
from dpo_assets.intake.validate import Sample, parse_line
from dpo_assets.sandbox.concurrency import default_jobs
from dpo_assets.sandbox.forkserver import SandboxPool
from dpo_assets.tasks import load_catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(size=default_jobs()) as sandboxes:
        yield sandboxes


def _samples(records: Sequence[dict]) -> list[Sample]:
    samples = [parse_line(json.dumps(r).encode(), lambda _task_id: True) for r in records]
    assert all(isinstance(s, Sample) for s in samples)
    return samples  # type: ignore[return-value]


def _certify(pool: SandboxPool, records: Sequence[dict]) -> list[Verdict]:
    verdicts = certify(_samples(records), pool, workers=default_jobs())
    assert [v.sample_id for v in verdicts] == [r["sample_id"] for r in records]
    return verdicts


def test_bundled_corpus(pool: SandboxPool) -> None:
    records, labels = [], {}
    for task_id in load_catalog():
        records.extend(load_samples(task_id).values())
        labels.update(load_labels(task_id))
    verdicts = _certify(pool, records)
    table = confusion((v.task_id, labels[v.sample_id]["label"], v.certified) for v in verdicts)
    assert (table.false_certifications, table.false_rejections) == (0, 0), "\n" + table.markdown()
    late = [
        (v.sample_id, v.failed_layer, labels[v.sample_id]["caught_by"])
        for v in verdicts
        if not v.certified and v.failed_layer > min(labels[v.sample_id]["caught_by"])
    ]
    assert not late, f"rejected later than the first layer their label names: {late}"
    assert len(verdicts) == 468 and sum(v.certified for v in verdicts) == 106


def test_default_generated_batch(pool: SandboxPool) -> None:
    seeds, _ = read_corpus(paths.bundled_dir())
    batch = generate_batch(seeds, 2000, seed=1, labels=read_labels(paths.labels_dir()))
    equivalents = load_equivalent_mutants()
    expected = {r["sample_id"]: expected_label(r, equivalents) for r in batch}
    assert None not in expected.values()
    verdicts = _certify(pool, batch)
    table = confusion((v.task_id, expected[v.sample_id], v.certified) for v in verdicts)
    wrong = [
        (v.sample_id, expected[v.sample_id], v.failed_layer, v.reason[:120])
        for v in verdicts
        if v.certified != (expected[v.sample_id] == "correct")
    ]
    assert not wrong, "\n" + table.markdown() + "\n" + "\n".join(map(str, wrong))
    certified = sum(v.certified for v in verdicts)
    assert 0.03 <= certified / len(batch) <= 0.1  # the autopilot-like mix (about 5 %)
