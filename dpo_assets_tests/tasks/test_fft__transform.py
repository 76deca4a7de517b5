"""Task unit fft/transform: the reference honours its own material, the checks reject defects.

Hacking samples are left to the sandbox tests; everything here runs trusted code or plain
(non-hacking) defects through the in-process executor.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate import engine
from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.sandbox.outcome import Observation
from dpo_assets.sandbox.wire import Foreign
from dpo_assets.tasks.catalog import get_task
from dpo_assets.tasks.fft import transform as unit

TASK = get_task("fft/transform")
EXECUTOR = InProcessExecutor()
SAMPLES = load_samples(TASK.task_id)
LABELLED = load_labels(TASK.task_id)


def _by_defect(defect: str) -> str:
    ids = [sid for sid, lab in LABELLED.items() if lab["defect"] == defect and lab["label"] == "broken"]
    assert ids, defect
    return SAMPLES[ids[0]]["code"]


def _material(layer: int):
    if layer == 3:  # a trimmed property budget keeps the file fast
        return lambda src: engine.run_properties(EXECUTOR, TASK, src, TASK.properties, max_examples=10)
    return lambda src: engine.run_layer(EXECUTOR, TASK, src, layer)


# ------------------------------------------------------------------ the reference


def test_reference_agrees_with_numpy_for_many_lengths():
    namespace: dict = {}
    exec(compile(TASK.reference_source, "<reference>", "exec"), namespace)
    rng = random.Random(0)
    for n in [*range(1, 70), 97, 255, 360, 1000, 4096]:
        x = [complex(rng.gauss(0, 1), rng.gauss(0, 1)) for _ in range(n)]
        tol = unit.tolerance(x)
        for func, want in ((namespace["fft"], np.fft.fft(x)), (namespace["ifft"], np.fft.ifft(x))):
            got = func(x)
            assert all(type(v) is complex for v in got)
            assert np.max(np.abs(np.array(got) - want)) <= tol


def test_task_declares_contract_signatures():
    assert {s.name: s.params for s in TASK.semantic.functions} == {"fft": ("x",), "ifft": ("X",)}
    assert TASK.edge_seconds >= 5


# ------------------------------------------------------------------ exact-type judging


def _obs(result, values, kind="list", seconds=0.01, runtime=0.02) -> Observation:
    after = np.array(values).tolist() if kind == "ndarray" else list(values)
    return Observation(value={"result": result, "input_after": after, "seconds": seconds}, seconds=runtime)


def test_judge_accepts_plain_complex_list():
    values = [1, 2, 3, 4]
    assert unit.judge_transform(values, "list", False, _obs(unit.expected(values, False), values)) is None


@pytest.mark.parametrize(
    "result",
    [
        np.array([10, -2 + 2j, -2, -2 - 2j]),  # an ndarray, not a list
        (10j, 0j, 0j, 0j),  # a tuple
        [Foreign("numpy.complex128", "np.complex128(10+0j)", 10 + 0j), -2 + 2j, -2 + 0j, -2 - 2j],
        [Foreign("solution.AlwaysEqual", "<AlwaysEqual>")] * 4,
        [10.0, -2 + 2j, -2 + 0j, -2 - 2j],  # a float where complex is promised
        [10 + 0j, -2 + 2j, -2 + 0j],  # wrong length
        [complex("nan"), -2 + 2j, -2 + 0j, -2 - 2j],
    ],
)
def test_judge_rejects_wrong_shapes_and_types(result):
    values = [1, 2, 3, 4]
    assert unit.judge_transform(values, "list", False, _obs(result, values)) is not None


def test_judge_rejects_foreign_result_container():
    values = [1, 2]
    assert unit.judge_transform(values, "list", False, _obs(Foreign("solution.Spectrum", "[]"), values))


def test_judge_rejects_mutated_input():
    values = [1, 2, 3, 4]
    obs = Observation(value={"result": unit.expected(values, False), "input_after": [1 + 0j, 2, 3, 4],
                             "seconds": 0.0})
    assert unit.judge_transform(values, "list", False, obs) == "the input was mutated"


def test_timing_bound_and_clock_cross_check():
    values = [1.0] * 4096
    good = unit.expected(values, False)

    def judge(seconds, runtime):
        obs = _obs(good, values, seconds=seconds, runtime=runtime)
        return unit.judge_transform(values, "list", False, obs, timed=True)

    assert judge(0.2, 0.3) is None
    slow = judge(1.4, 1.5)
    assert slow and "took" in slow
    faked = judge(0.0, 9.0)  # the driver's clock was tampered with; the runtime's was not
    assert faked and "runtime's clock" in faked
    assert judge(Foreign("x.F", "f"), 0.1)


def test_tolerance_follows_the_contract():
    assert unit.tolerance([0.5, -1, 0.25j]) == pytest.approx(3e-9)
    assert unit.tolerance([1, 2, 3]) == pytest.approx(9e-9)
    assert unit.tolerance([1e6j, 0]) == pytest.approx(2e-3)
    assert unit.tolerance([1e-3] * 5) == pytest.approx(5e-9)


# ------------------------------------------------------------------ representative defects


@pytest.mark.parametrize(
    ("defect", "layer", "needle"),
    [
        ("numpy_complex128_elements", 1, "numpy.complex128"),
        ("returns_numpy_array", 1, "expected a list"),
        ("ifft_missing_normalisation", 1, "ifft[0]"),
        ("wrong_exponent_sign", 1, "fft[1]"),
        ("only_powers_of_two", 1, "raised ValueError"),
        ("length_one_not_complex", 1, "is float, not complex"),
        ("mutates_input", 1, "mutated"),
        ("twiddle_precision", 1, "tolerance"),
        ("ifft_missing_conjugate", 1, "ifft"),
        ("single_precision", 1, "tolerance"),
        ("mutates_ndarray_input", 2, "mutated"),
        ("empty_input_no_valueerror", 4, "expected ValueError"),
        ("zero_input_division", 4, "ZeroDivisionError"),
        ("ifft_returns_floats", 4, "is float, not complex"),
        ("overflow_in_cleanup", 7, "OverflowError"),
        ("rejects_large_finite_input", 7, "ValueError"),
    ],
)
def test_material_rejects_defect(defect, layer, needle):
    violations = _material(layer)(_by_defect(defect))
    assert violations, defect
    assert any(needle in v.line() for v in violations), [v.line() for v in violations][:3]


# ------------------------------------------------------------------ the bundled corpus


@pytest.mark.parametrize("sid", [sid for sid, lab in LABELLED.items() if lab["label"] == "correct"])
def test_correct_samples_pass_fast_material(sid):
    code = SAMPLES[sid]["code"]
    for layer in (1, 2, 4):
        assert _material(layer)(code) == [], (sid, layer)
