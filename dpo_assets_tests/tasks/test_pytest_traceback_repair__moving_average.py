"""Task-specific tests for pytest_traceback_repair/moving_average: material, suite, corpus."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate import engine
from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.tasks import get_task

TASK_ID = "pytest_traceback_repair/moving_average"
TASK = get_task(TASK_ID)
EXECUTOR = InProcessExecutor()
# The suites use no Hypothesis: skipping its plugin keeps each run well under a second.
_PYTEST_OPTIONS = ("-x", "-p", "no:hypothesispytest")
_PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_PYTEST_OPTIONS, "test_suite.py"]


SAMPLES = load_samples(TASK_ID)
LABELS = load_labels(TASK_ID)


# ------------------------------------------------------------------ the unit itself


def test_unit_is_a_repair_task_with_a_broken_module():
    assert TASK.is_repair
    assert TASK.broken_source and "def moving_average" in TASK.broken_source
    assert TASK.broken_source.strip() in TASK.prompt()


# ------------------------------------------------------------------ specific defects


_CASES = [
    # (sample, layer that must reject it, a substring of one violation)
    ("moving_average-broken-01", 1, "expected 3 items, got 2"),  # range(len - window)
    ("moving_average-broken-04", 1, "mean 0: expected 1.5"),  # floor division
    ("moving_average-broken-05", 2, "expected float 20.0, got int 20"),  # statistics.mean keeps int
    ("moving_average-broken-06", 2, "0.416667"),  # rounded means
    ("moving_average-broken-07", 4, "window=-5"),  # negative window accepted
    ("moving_average-broken-08", 4, "AssertionError"),  # assert instead of ValueError
    ("moving_average-broken-09", 4, "expected ValueError, returned"),  # except Exception: return []
    ("moving_average-broken-12", 1, "not float"),  # list of numpy.float64
    ("moving_average-broken-14", 1, "mutated"),  # pops from the caller's list
    ("moving_average-broken-16", 1, "ValueError"),  # window > len still raises
    ("moving_average-broken-20", 2, "kind='ndarray'"),  # `if not values` on an array
    ("moving_average-broken-21", 2, "kind='tuple'"),  # tuple has no .copy()
    ("moving_average-broken-22", 7, "not finite"),  # running sum overflows
    ("moving_average-broken-24", 3, "means of full windows"),  # float32
    ("moving_average-broken-29", 1, "expected a list, got ndarray"),
    ("moving_average-broken-30", 2, "input_after"),  # int list converted to floats in place
]


@pytest.mark.parametrize(("sample_id", "layer", "evidence"), _CASES, ids=[c[0] for c in _CASES])
def test_material_rejects_defect(sample_id, layer, evidence):
    violations = engine.run_layer(EXECUTOR, TASK, SAMPLES[sample_id]["code"], layer)
    assert violations, f"{sample_id} passed layer {layer}"
    assert any(evidence in v.line() for v in violations), [v.line() for v in violations]


# ------------------------------------------------------------------ the bundled corpus


def test_corpus_records_and_labels_line_up():
    samples, labels = SAMPLES, LABELS
    assert list(samples) == list(labels)
    for sid, sample in samples.items():
        label = labels[sid]
        assert sample["task_id"] == label["task_id"] == TASK_ID
        assert sample["origin"] == "bundled"
        assert "failed" in sample["traceback"]  # filled by `dpo-assets tracebacks`
        assert "def moving_average" in sample["broken_code"]
        assert label["label"] in {"correct", "broken", "hacking"}
        if label["label"] == "correct":
            assert label["defect"] is None and label["caught_by"] == []
        else:
            assert label["defect"] and label["caught_by"]
            assert set(label["caught_by"]) <= set(range(1, 9))
    counts = {k: sum(1 for x in labels.values() if x["label"] == k) for k in ("correct", "broken", "hacking")}
    assert counts["correct"] >= 10 and counts["broken"] >= 25 and counts["hacking"] >= 5
    assert len({s["broken_code"] for s in samples.values()}) >= 4
    assert TASK.broken_source in {s["broken_code"] for s in samples.values()}


def test_every_broken_code_variant_fails_the_suite(tmp_path):
    variants = sorted({s["broken_code"] for s in SAMPLES.values()})
    procs = []
    for i, source in enumerate(variants):  # run the suites side by side: the file stays fast
        folder = tmp_path / f"v{i}"
        folder.mkdir()
        (folder / "solution.py").write_text(source, encoding="utf-8")
        (folder / "test_suite.py").write_text(TASK.suite_source, encoding="utf-8")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        procs.append(subprocess.Popen(_PYTEST, cwd=folder, **quiet))
    for source, proc in zip(variants, procs):
        assert proc.wait(timeout=120) != 0, source


@pytest.mark.parametrize("layer", [1, 2, 3, 4, 7])
def test_correct_samples_pass_material(layer):
    for sid, label in LABELS.items():
        if label["label"] == "correct":
            assert engine.run_layer(EXECUTOR, TASK, SAMPLES[sid]["code"], layer) == [], sid


def test_material_rejects_backwards_summing_certified_mutant():
    # np.convolve with its arguments swapped sums an equal-length window backwards: overflow.
    code = load_samples(TASK_ID)["moving_average-correct-05"]["code"]
    old = 'np.convolve(data, np.ones(window), mode="valid")'
    assert code.count(old) == 1
    mutant = code.replace(old, 'np.convolve(np.ones(window), data, mode="valid")')
    found = [v.line() for v in engine.run_layer(EXECUTOR, TASK, mutant, 7)]
    assert any("not finite" in line for line in found), found[:3]
