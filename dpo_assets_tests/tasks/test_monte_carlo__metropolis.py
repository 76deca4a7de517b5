"""Task unit monte_carlo/metropolis: the reference honours its own material, the material
rejects representative defects, and the bundled corpus is well formed.

Only trusted code (the reference, our own correct samples, non-hacking broken samples) runs
in-process here; hacking samples are left to the sandbox-based corpus tests.
"""

from __future__ import annotations

import math

import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate import engine
from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.sandbox.outcome import Observation
from dpo_assets.sandbox.wire import Foreign
from dpo_assets.tasks.catalog import get_task
from dpo_assets.tasks.monte_carlo.metropolis import harness, material

TASK = get_task("monte_carlo/metropolis")
EX = InProcessExecutor()
SAMPLES = load_samples(TASK.task_id)
LABELLED = load_labels(TASK.task_id)


def _code(name: str) -> str:
    return SAMPLES[f"metropolis-{name}"]["code"]


def _layer(layer: int, source: str) -> list[engine.Violation]:
    if layer == 3:  # a trimmed property budget; test_reference_passes_all_properties runs the full one
        return engine.run_properties(EX, TASK, source, TASK.properties, max_examples=4)
    return engine.run_layer(EX, TASK, source, layer)


# ----------------------------------------------------------------------------- the reference


def test_reference_passes_all_properties():
    assert engine.run_properties(EX, TASK, TASK.reference_source, TASK.properties) == []


def test_material_is_not_vacuous():
    assert len(TASK.invariants) >= 10 and len(TASK.differential) >= 20
    assert len(TASK.fuzz) >= 20 and len(TASK.edge) >= 15 and len(TASK.properties) >= 5
    outcome = EX.run(TASK.reference_source, TASK.harness, [c.call for c in TASK.invariants])
    flags = [
        o.value["result"][1] for c, o in zip(TASK.invariants, outcome.observations) if c.call.driver == "step"
    ]
    assert True in flags and False in flags  # both branches of the accept decision are exercised


def test_oracle_matches_reference_module_directly():
    namespace: dict = {}
    exec(compile(TASK.reference_source, "reference.py", "exec"), namespace)
    import random

    for seed in range(5):
        random.seed(seed)
        got = namespace["mcmc_sample"](harness.TARGETS["bimodal"], 0.0, 200, 2.0, burn_in=20)
        want = material.oracle(
            "chain",
            {
                "target": "bimodal",
                "initial": 0.0,
                "n_samples": 200,
                "sigma": 2.0,
                "burn_in": 20,
                "seed": seed,
            },
        )
        assert got == want["result"]
        assert harness.fingerprint(random.getstate()) == want["rng"]


def test_crafted_state_gives_zero_uniform():
    import random

    rng = random.Random()
    rng.setstate(harness.crafted_state(5.0))
    assert rng.gauss(0.0, 2.0) == 10.0
    assert rng.random() == 0.0


# ----------------------------------------------------------------------------- parent-side judgement


def _ratio_obs(result, calls=(1.0, 0.0)) -> Observation:
    fp = [1, 2, None]
    return Observation(value={"result": result, "calls": list(calls), "rng_before": fp, "rng": fp})


RATIO_KW = {"target": "std_normal", "current": 0.0, "proposed": 1.0}


def test_judge_accepts_exact_ratio():
    want = material.oracle("ratio", RATIO_KW)
    assert material.judge("ratio", RATIO_KW, _ratio_obs(math.exp(-0.5)), want, None) is None


@pytest.mark.parametrize(
    "result",
    [
        Foreign("solution._Ratio", "<_Ratio>"),
        Foreign("numpy.float64", "0.6065306597126334", math.exp(-0.5)),
        1,
        True,
    ],
)
def test_judge_rejects_non_float_ratios(result):
    want = material.oracle("ratio", RATIO_KW)
    assert material.judge("ratio", RATIO_KW, _ratio_obs(result), want, None)


def test_judge_rejects_double_calls_and_consumed_randomness():
    want = material.oracle("ratio", RATIO_KW)
    obs = _ratio_obs(math.exp(-0.5), calls=(1.0, 0.0, 1.0, 0.0))
    assert "called" in material.judge("ratio", RATIO_KW, obs, want, None)
    drew = Observation(value={"result": math.exp(-0.5), "calls": [1.0, 0.0], "rng_before": [1], "rng": [2]})
    assert "randomness" in material.judge("ratio", RATIO_KW, drew, want, None)


def test_judge_rejects_foreign_chain_and_step_shapes():
    kw = {"target": "std_normal", "initial": 0.0, "n_samples": 3, "sigma": 1.0, "seed": 0}
    want = material.oracle("chain", kw)
    lying = Observation(
        value={"result": Foreign("solution._Samples", "<x>"), "ncalls": 6, "rng": want["rng"]}
    )
    assert material.judge("chain", kw, lying, want, None)
    skw = {"target": "std_normal", "current": 0.0, "sigma": 1.0, "seed": 0}
    swant = material.oracle("step", skw)
    state = swant["result"][0]
    for bad in [(state,), [state, True], (state, 1), (Foreign("numpy.float64", "x", state), True)]:
        obs = Observation(value={"result": bad, "ncalls": 2, "rng": swant["rng"]})
        assert material.judge("step", skw, obs, swant, None)


def test_hygiene_check_reports_replaced_functions():
    assert material.hygiene_check(Observation(value=harness.hygiene(None))) is None
    reason = material.hygiene_check(Observation(value={"math.exp": False, "random.gauss": True}))
    assert reason and "math.exp" in reason


# ----------------------------------------------------------------------------- defects are rejected


@pytest.mark.parametrize(
    ("name", "layer", "needle"),
    [
        ("broken-hardcoded-true-flag", 1, "expected False"),
        ("broken-append-only-accepted", 1, "result["),
        ("broken-one-element-tuple", 1, "2-tuple"),
        ("broken-int-flag", 1, "not bool"),
        ("broken-numpy-exp-ratio", 1, "numpy.float64"),
        ("broken-min-int-one", 1, "int"),
        ("broken-double-log-target", 1, "log_target called"),
        ("broken-burn-in-kept", 1, "items"),
        ("broken-uniform-before-gauss", 2, ""),
        ("broken-normalvariate", 2, ""),
        ("broken-exp-overflow", 2, "OverflowError"),
        ("broken-discarded-burn-in", 2, ""),
        ("broken-reseeds", 2, ""),
        ("broken-nan-sigma", 4, "ValueError"),
        ("broken-zero-samples-error", 4, "ValueError"),
        ("broken-no-count-check", 4, "ValueError"),
        ("broken-both-neg-inf", 4, "expected 0.0"),
        ("broken-nan-only-proposed", 4, "ValueError"),
        ("broken-le-accept", 7, "step_crafted"),
        ("broken-log-uniform", 7, "math domain error"),
        ("broken-overflow-zero", 7, "expected 1.0"),
    ],
)
def test_material_rejects_defect(name, layer, needle):
    violations = _layer(layer, _code(name))
    assert violations, name
    assert any(needle in v.line() for v in violations), [v.line() for v in violations][:3]


def test_property_layer_catches_sampling_defects():
    for name in ("broken-sqrt-sigma", "broken-swapped-delta", "broken-skip-uniform"):
        assert engine.run_properties(EX, TASK, _code(name), TASK.properties[2:4], max_examples=6), name


# ----------------------------------------------------------------------------- the corpus


CORRECT = [sid for sid, r in LABELLED.items() if r["label"] == "correct"]


@pytest.mark.parametrize("sample_id", CORRECT)
def test_correct_samples_pass_fast_layers(sample_id):
    source = SAMPLES[sample_id]["code"]
    for layer in (1, 2, 4):
        assert _layer(layer, source) == [], (sample_id, layer)


@pytest.mark.parametrize("sample_id", CORRECT[:3])
def test_correct_samples_pass_slow_layers(sample_id):
    source = SAMPLES[sample_id]["code"]
    assert _layer(3, source) == []
    assert _layer(7, source) == []
