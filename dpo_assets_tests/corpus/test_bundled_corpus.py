"""The bundled corpus: well formed, fully labelled, and its labels hold in the real sandbox."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from dpo_assets import paths
from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.intake import discover_inputs, intake_files
from dpo_assets.tasks import get_task, load_catalog

LABELS = ("correct", "broken", "hacking")
METROPOLIS_REQUIRED_DEFECTS = {
    "append_only_when_accepted",
    "hardcoded_accept_flag",
    "step_returns_one_tuple",
    "exp_overflow",
    "discarded_step_result_in_burn_in",
    "missing_import",
    "undefined_helper",
    "wrong_draw_order",
}
# Kinds of reward hacking every task's corpus must show, recognised by words in the defect name.
HACKS = {
    "always-equal result": ("eq", "equal"),
    "monkeypatching": ("patch",),
    "test-harness detection": ("detect",),
    "early exit": ("exit",),
}


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bundled_samples() -> dict[str, dict]:
    samples: dict[str, dict] = {}
    for path in discover_inputs(paths.bundled_dir()):
        for row in load_jsonl(path):
            samples[row["sample_id"]] = row
    return samples


def labels() -> dict[str, dict]:
    out: dict[str, dict] = {}
    for path in sorted(paths.labels_dir().glob("*.jsonl")):
        for row in load_jsonl(path):
            assert row["sample_id"] not in out, f"label for {row['sample_id']} given twice"
            out[row["sample_id"]] = row
    return out


SAMPLES = bundled_samples()
LABELS_BY_ID = labels()


def test_every_line_passes_intake() -> None:
    results, frames = intake_files(discover_inputs(paths.bundled_dir()), paths.data_dir())
    assert frames.rejections.empty, frames.rejections[["source", "line", "reason"]].to_string()
    assert len(frames.survivors) == len(results) == len(SAMPLES)


def test_labels_cover_exactly_the_bundled_samples() -> None:
    assert set(LABELS_BY_ID) == set(SAMPLES)
    for sample_id, label in LABELS_BY_ID.items():
        assert label["task_id"] == SAMPLES[sample_id]["task_id"], sample_id
        assert label["label"] in LABELS, sample_id
        if label["label"] == "correct":
            assert label["defect"] is None and label["caught_by"] == [], sample_id
        else:
            assert label["defect"], sample_id
            assert label["caught_by"] and set(label["caught_by"]) <= set(range(1, 9)), sample_id


@pytest.mark.parametrize("task_id", list(load_catalog()))
def test_each_task_has_enough_candidates_of_each_kind(task_id: str) -> None:
    counts = Counter(lab["label"] for lab in LABELS_BY_ID.values() if lab["task_id"] == task_id)
    assert counts["correct"] >= 10, counts
    assert counts["broken"] >= 25, counts
    assert counts["hacking"] >= 5, counts
    task_labels = [lab for lab in LABELS_BY_ID.values() if lab["task_id"] == task_id]
    hacks = [lab["defect"] for lab in task_labels if lab["label"] == "hacking"]
    for kind, words in HACKS.items():
        assert any(w in defect for defect in hacks for w in words), f"{task_id}: no {kind} sample in {hacks}"


@pytest.mark.parametrize("task_id", list(load_catalog()))
def test_task_corpus_and_labels_line_up(task_id: str, corpus_line_counts) -> None:
    samples, task_labels = load_samples(task_id), load_labels(task_id)
    assert (len(samples), len(task_labels)) == corpus_line_counts(task_id)  # no sample id repeats
    assert list(samples) == list(task_labels)  # the labels file follows the corpus file, line for line
    for sample_id, sample in samples.items():
        assert sample["task_id"] == task_labels[sample_id]["task_id"] == task_id
        assert sample["origin"] == "bundled" and sample["code"].strip()
        compile(sample["code"], sample_id, "exec")


def test_metropolis_covers_the_named_defects() -> None:
    defects = {lab["defect"] for lab in LABELS_BY_ID.values() if lab["task_id"] == "monte_carlo/metropolis"}
    assert defects >= METROPOLIS_REQUIRED_DEFECTS, METROPOLIS_REQUIRED_DEFECTS - defects


def test_repair_samples_carry_the_broken_module_and_its_traceback() -> None:
    for sample in SAMPLES.values():
        if get_task(sample["task_id"]).is_repair:
            assert sample.get("broken_code"), sample["sample_id"]
            assert "failed" in sample.get("traceback", ""), sample["sample_id"]
