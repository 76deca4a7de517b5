"""Task-specific tests for pytest_traceback_repair/parse_duration: material, suite, corpus."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate import engine
from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.sandbox.outcome import Observation
from dpo_assets.sandbox.wire import Foreign
from dpo_assets.tasks import get_task
from dpo_assets.tasks.pytest_traceback_repair.parse_duration import oracle, per_contract, seconds

TASK_ID = "pytest_traceback_repair/parse_duration"
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
    broken = TASK.broken_source
    assert broken and "def parse_duration" in broken
    assert broken.strip() in TASK.prompt()
    assert TASK.semantic.functions[0].name == "parse_duration"
    assert TASK.semantic.functions[0].params == ("text",)


def test_oracle_agrees_with_reference():
    namespace: dict = {}
    exec(compile(TASK.reference_source, "reference.py", "exec"), namespace)
    reference = namespace["parse_duration"]
    texts = [c.call.kwargs["text"] for c in (*TASK.invariants, *TASK.fuzz) if c.call.kwargs["kind"] == "str"]
    texts += [d.call.kwargs["text"] for d in TASK.differential]
    for spec in TASK.properties:
        texts += [kwargs["text"] for kwargs in engine.draw_examples(spec)]
    for text in texts:
        try:
            got = reference(text)
        except ValueError:
            got = None
        assert got == oracle(text), text


def test_oracle_examples():
    assert oracle("1h30m") == 5400
    assert oracle("007s") == 7
    for bad in ["", "90", "1m1h", "1h1h", "1H", " 1h", "+1s", "\u0663s", "1h\n", "h"]:
        assert oracle(bad) is None, bad


def test_seconds_check_is_exact_about_type():
    check = seconds(5)
    assert check(Observation(value=5)) is None
    assert check(Observation(value=5.0)) is not None
    assert check(Observation(value=True)) is not None  # seconds(1) would still refuse a bool
    assert seconds(1)(Observation(value=True)) is not None
    assert check(Observation(value=Foreign("solution._Seconds", "<_Seconds>"))) is not None
    assert check(Observation(value=Foreign("numpy.int64", "5", 5))) is not None
    assert check(Observation(value=6)) is not None
    raised = Observation(error_type="builtins.ValueError", error_mro=("builtins.ValueError",))
    assert check(raised) is not None
    assert per_contract("1m1h")(raised) is None
    assert per_contract("1m1h")(Observation(value=3660)) is not None


# ------------------------------------------------------------------ specific defects


_CASES = [
    # (sample, layer that must reject it, a substring of one violation)
    ("parse_duration-broken-01", 4, "'1h\\n'"),  # `$` anchor accepts a trailing newline
    ("parse_duration-broken-02", 4, "'\u0663s'"),  # \d accepts Arabic-Indic digits
    ("parse_duration-broken-04", 4, "text=''"),  # empty string -> 0
    ("parse_duration-broken-05", 4, "expected ValueError, returned 0"),  # except Exception: return 0
    ("parse_duration-broken-07", 2, "'30s1m'"),  # order check deleted
    ("parse_duration-broken-11", 4, "'+5s'"),  # int() accepts a sign
    ("parse_duration-broken-12", 1, "expected an int, got float"),  # timedelta.total_seconds()
    ("parse_duration-broken-14", 1, "172805"),  # 84600 seconds a day
    ("parse_duration-broken-17", 4, "AttributeError"),  # bytes iterate as ints
    ("parse_duration-broken-18", 4, "stringly"),  # str(text) coerces a non-str
    ("parse_duration-broken-23", 7, "expected 8639999"),  # float accumulation
    ("parse_duration-broken-28", 4, "'00h'"),  # leading zeros refused
]


@pytest.mark.parametrize(("sample_id", "layer", "evidence"), _CASES, ids=[c[0] for c in _CASES])
def test_material_rejects_defect(sample_id, layer, evidence):
    violations = engine.run_layer(EXECUTOR, TASK, SAMPLES[sample_id]["code"], layer)
    assert violations, f"{sample_id} passed layer {layer}"
    assert any(evidence in v.line() for v in violations), [v.line() for v in violations]


def test_upper_case_units_rejected_by_property():
    violations = engine.run_layer(EXECUTOR, TASK, SAMPLES["parse_duration-broken-08"]["code"], 3)
    assert any("mutated" in v.case or "arbitrary" in v.case for v in violations)


# ------------------------------------------------------------------ the bundled corpus


def test_corpus_records_and_labels_line_up():
    samples, labels = SAMPLES, LABELS
    assert list(samples) == list(labels)
    for sid, sample in samples.items():
        label = labels[sid]
        assert sample["task_id"] == label["task_id"] == TASK_ID
        assert sample["origin"] == "bundled"
        assert "failed" in sample["traceback"]  # filled by `dpo-assets tracebacks`
        assert "def parse_duration" in sample["broken_code"]
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
