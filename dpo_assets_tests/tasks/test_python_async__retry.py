"""Task unit python_async/retry: the reference passes its material, the material rejects
representative defects, and the bundled corpus is consistent.

Hacking samples (os._exit, monkeypatching asyncio/time) are left to the sandbox-backed
corpus tests: InProcessExecutor has no isolation.
"""

from __future__ import annotations

import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate import engine
from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.sandbox.outcome import Observation
from dpo_assets.sandbox.wire import Foreign
from dpo_assets.tasks.catalog import get_task
from dpo_assets.tasks.python_async.retry import material

TASK = get_task("python_async/retry")
EXECUTION_LAYERS = engine.EXECUTION_LAYERS


def _code_for(defect: str) -> str:
    labels = load_labels(TASK.task_id)
    for sample in load_samples(TASK.task_id).values():
        if labels[sample["sample_id"]]["defect"] == defect:
            return sample["code"]
    raise AssertionError(f"no bundled sample with defect {defect}")


def _run_layer(source: str, layer: int) -> list[str]:
    return [v.line() for v in engine.run_layer(InProcessExecutor(), TASK, source, layer)]


# ---- the reference -------------------------------------------------------------------------


def test_semantic_rules():
    (signature,) = TASK.semantic.functions
    assert signature.name == "retry_async" and signature.is_async
    assert signature.params == ("fn", "attempts", "base_delay", "retry_on")
    assert TASK.semantic.must_await == {"asyncio.sleep"}
    assert TASK.semantic.forbidden_calls == {"time.sleep"}


# ---- the contract model --------------------------------------------------------------------


def test_expected_model():
    want = material.expected(
        {"outcomes": material.fails("ValueError", "KeyError", then=7), "base_delay": 0.5}
    )
    assert want == {"outcome": "returned", "result": 7, "calls": 3, "sleeps": [0.5, 1.0]}
    want = material.expected({"outcomes": material.fails("OSError"), "attempts": 4, "base_delay": 1.0})
    assert want["outcome"] == "raised" and want["exc_call"] == 3 and want["sleeps"] == [1.0, 2.0, 4.0]
    want = material.expected({"outcomes": material.fails("KeyError"), "retry_on": ["ValueError"]})
    assert want["calls"] == 1 and want["sleeps"] == []
    want = material.expected({"outcomes": material.fails("CancelledError"), "retry_on": ["BaseException"]})
    assert want["outcome"] == "cancelled" and want["calls"] == 1
    assert material.expected({"outcomes": [{"return": 1}], "attempts": 0})["exc"] == "builtins.ValueError"


def test_reference_matches_the_model_on_every_differential_case():
    observations = engine.reference_observations(TASK, [c.call for c in TASK.differential])
    for case, obs in zip(TASK.differential, observations):
        assert material.judge(case.call.kwargs, obs) is None, case.call.describe()


# ---- the judge on hand-made reports ----------------------------------------------------------

CALL = material.retry_call(material.fails("ValueError", "ValueError", then="ok"), base_delay=0.5)


def _reference_report() -> Observation:
    return engine.reference_observations(TASK, [CALL])[0]


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"result": Foreign("solution._Whatever", "<_Whatever>")}, "result"),
        ({"result_is_returned": False}, "not the object"),
        ({"sleeps": [0.5, 2.0]}, "sleep 1"),
        ({"sleeps": [0.5]}, "expected 2 sleeps"),
        ({"sleeps": [0.5, 1]}, "non-number"),
        ({"time_sleeps": [0.5]}, "time.sleep"),
        ({"calls": 4}, "fn called 4 times"),
        ({"tampered": ["sleep"]}, "replaced stdlib"),
        ({"outcome": "timeout"}, "hung"),
        (
            {
                "events": [
                    ["sleep", 0.0],
                    ["call", 0],
                    ["sleep", 0.5],
                    ["call", 1],
                    ["sleep", 1.0],
                    ["call", 2],
                ],
                "sleeps": [0.5, 1.0],
            },
            "before the first call",
        ),
    ],
)
def test_judge_rejects_tampered_reports(changes, needle):
    obs = _reference_report()
    reason = material.judge(CALL.kwargs, Observation(value={**obs.value, **changes}))
    assert reason is not None and needle in reason, reason


def test_judge_rejects_a_driver_error():
    obs = Observation(error_type="builtins.SystemExit", error_mro=("builtins.SystemExit",), error_message="0")
    assert material.judge(CALL.kwargs, obs) is not None


# ---- representative defects ------------------------------------------------------------------


@pytest.mark.parametrize(
    "defect, layer, needle",
    [
        ("time_sleep_blocks_loop", 1, "time.sleep"),
        ("sleeps_after_last_attempt", 1, "expected 2 sleeps"),
        ("backoff_exponent_off_by_one", 1, "sleep 0"),
        ("linear_backoff", 2, "sleep 2"),
        ("retries_cancelled_error", 4, "CancelledError"),
        ("ignores_retry_on", 4, "to propagate"),
        ("one_attempt_too_many", 1, "not the exception of call 2"),
        ("swallows_last_exception", 1, "to propagate"),
        ("attempts_not_validated", 4, "ValueError"),
        ("wraps_last_exception", 1, "to propagate"),
        ("reraises_first_exception", 1, "not the exception of call 2"),
        ("falsy_result_treated_as_failure", 4, "fn called"),
        ("validates_at_call_time", 4, "call time"),
        ("backoff_capped", 7, "sleep"),
        ("swallows_cancel_during_sleep", 4, "cancelled while sleeping"),
        ("skips_zero_delay_sleep", 4, "sleeps"),
        ("sleep_not_awaited", 1, "sleeps"),
    ],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # defects leave coroutines un-awaited
def test_material_rejects_defect(defect, layer, needle):
    lines = _run_layer(_code_for(defect), layer)
    assert lines, f"{defect} passed layer {layer}"
    assert any(needle in line for line in lines), lines[:3]


# ---- the corpus ------------------------------------------------------------------------------


@pytest.mark.parametrize("sample_id", ["retry-correct-03", "retry-correct-07"])
def test_correct_samples_pass_all_execution_material(sample_id):
    code = load_samples(TASK.task_id)[sample_id]["code"]
    for layer in EXECUTION_LAYERS:
        assert _run_layer(code, layer) == [], layer
