"""Task unit python_async/bounded_gather: the reference passes its material, the material
rejects representative defects, and the bundled corpus is consistent.

Hacking samples (os._exit, monkeypatching asyncio) are left to the sandbox-backed corpus
tests: InProcessExecutor has no isolation. Samples that hang or allocate per slot are not
run in-process either.
"""

from __future__ import annotations

import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate import engine
from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.sandbox.outcome import Call, Observation
from dpo_assets.sandbox.wire import Foreign
from dpo_assets.tasks.catalog import get_task
from dpo_assets.tasks.python_async.bounded_gather import material

TASK = get_task("python_async/bounded_gather")


def _code_for(defect: str) -> str:
    labels = load_labels(TASK.task_id)
    for sample in load_samples(TASK.task_id).values():
        if labels[sample["sample_id"]]["defect"] == defect:
            return sample["code"]
    raise AssertionError(f"no bundled sample with defect {defect}")


def _run_layer(source: str, layer: int) -> list[str]:
    return [v.line() for v in engine.run_layer(InProcessExecutor(), TASK, source, layer)]


# ---- the reference -------------------------------------------------------------------------


def test_semantic_rules_require_an_async_function():
    (signature,) = TASK.semantic.functions
    assert signature.name == "bounded_gather"
    assert signature.params == ("factories", "limit")
    assert signature.is_async


# ---- the judge on hand-made reports ----------------------------------------------------------


def _reference_report(call: Call) -> Observation:
    return engine.reference_observations(TASK, [call])[0]


def _with(obs: Observation, **changes) -> Observation:
    return Observation(value={**obs.value, **changes})


CALL = material.gather_call(material.jobs_of(2, 1, 3), 2)


def test_judge_accepts_the_reference_report():
    assert material.judge(CALL.kwargs, _reference_report(CALL)) is None


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"result": Foreign("solution._Matches", "<_Matches>")}, "results"),
        ({"result": (10, 20, 30)}, "results"),
        ({"result": [10, 20, 30.0]}, "results"),
        ({"result": [20, 10, 30]}, "results"),
        ({"identical": [True, False, True]}, "not the objects"),
        ({"peak": 3}, "outstanding"),
        ({"tampered": ["gather"]}, "replaced stdlib"),
        ({"input_kept": False}, "mutated"),
        ({"outcome": "timeout"}, "hung"),
        ({"raised_at": "call", "outcome": "raised", "exc_type": "builtins.ValueError"}, "call time"),
    ],
)
def test_judge_rejects_tampered_reports(changes, needle):
    reason = material.judge(CALL.kwargs, _with(_reference_report(CALL), **changes))
    assert reason is not None and needle in reason


def test_judge_rejects_a_driver_error():
    obs = Observation(error_type="builtins.SystemExit", error_mro=("builtins.SystemExit",), error_message="0")
    assert material.judge(CALL.kwargs, obs) is not None


def test_judge_rejects_a_call_after_the_first_failure():
    call = material.gather_call(material.jobs_of(2, 2, 2, 2, fail={0: "ValueError"}), 2)
    obs = _reference_report(call)
    assert material.judge(call.kwargs, obs, single_raise=True) is None
    events = obs.value["events"]
    first = next(k for k, (what, _) in enumerate(events) if what == "raise")
    late = [*events[: first + 1], ["call", 3], *events[first + 1 :]]
    reason = material.judge(call.kwargs, _with(obs, events=late))
    assert reason is not None and "after job 0 had failed" in reason


def test_judge_tolerates_a_same_tick_call_for_running_tasks_only_if_cancelled():
    call = material.gather_call(material.jobs_of(2, 2, 2, 2, fail={0: "ValueError"}), 2, factory_kind="task")
    obs = _reference_report(call)
    events = obs.value["events"]
    first = next(k for k, (what, _) in enumerate(events) if what == "raise")
    late = [*events[: first + 1], ["call", 3], ["start", 3], ["cancelled", 3], *events[first + 1 :]]
    statuses = [*obs.value["statuses"][:3], "cancelled"]
    assert material.judge(call.kwargs, _with(obs, events=late, statuses=statuses)) is None
    statuses[3] = "done"
    assert material.judge(call.kwargs, _with(obs, events=late, statuses=statuses)) is not None


def test_judge_rejects_jobs_finishing_after_bounded_gather_raised():
    call = material.gather_call(material.jobs_of(30, 1, fail={1: "KeyError"}), 2)
    obs = _reference_report(call)
    events = [e for e in obs.value["events"] if e != ["cancelled", 0]] + [["done", 0]]
    reason = material.judge(call.kwargs, _with(obs, events=events, statuses=["done", "raise"]))
    assert reason is not None and "progressed" in reason


# ---- representative defects ------------------------------------------------------------------


@pytest.mark.parametrize(
    "defect, layer, needle",
    [
        ("factories_called_up_front", 1, "outstanding at once"),
        ("results_in_completion_order", 1, "input order"),
        ("no_cancel_on_failure", 4, "progressed"),
        ("starts_new_after_failure", 4, "called after job"),
        ("refills_before_checking_failures", 4, "called after job"),
        ("limit_not_validated", 4, "expected ValueError"),
        ("limit_checked_at_call_time", 4, "call time"),
        ("empty_input_raises", 4, "expected the results"),
        ("raises_exception_group", 4, "not the exception a job raised"),
        ("chunked_batches_idle_slots", 7, "free slot stayed idle"),
        ("outer_cancel_leaves_tasks_running", 4, "progressed"),
        ("mutates_input", 1, "mutated"),
        ("create_task_requires_coroutine", 4, "TypeError"),
        ("returns_tuple", 1, "expected list"),
    ],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # defects leave coroutines un-awaited
def test_material_rejects_defect(defect, layer, needle):
    lines = _run_layer(_code_for(defect), layer)
    assert lines, f"{defect} passed layer {layer}"
    assert any(needle in line for line in lines), lines[:3]


# ---- the corpus ------------------------------------------------------------------------------


@pytest.mark.parametrize("sample_id", ["bounded_gather-correct-03", "bounded_gather-correct-08"])
def test_correct_samples_pass_fuzz_and_edge(sample_id):
    code = load_samples(TASK.task_id)[sample_id]["code"]
    assert _run_layer(code, 4) == []
    assert _run_layer(code, 7) == []


# ---- certified mutants of correct samples that the material now rejects ------------------------


def _mutant(sample_id: str, old: str, new: str) -> str:
    code = load_samples(TASK.task_id)[sample_id]["code"]
    assert code.count(old) == 1, (sample_id, old)
    return code.replace(old, new)


@pytest.mark.parametrize(
    "sample_id, old, new, layer, needle",
    [
        # the limit guard deleted: bounded_gather([], 0) returns [] instead of raising.
        (
            "bounded_gather-correct-05",
            '    if limit < 1:\n        raise ValueError("limit must be >= 1")\n',
            "",
            4,
            "limit=0: expected ValueError when awaited, got returned []",
        ),
        # cancelled siblings not awaited: they are still running when the failure propagates.
        (
            "bounded_gather-correct-07",
            "await asyncio.gather(*in_flight, return_exceptions=True)",
            "asyncio.gather(*in_flight, return_exceptions=True)",
            4,
            "still running when bounded_gather raised",
        ),
        (
            "bounded_gather-correct-03",
            "await asyncio.gather(*running, return_exceptions=True)",
            "asyncio.gather(*running, return_exceptions=True)",
            4,
            "still running when bounded_gather raised",
        ),
    ],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_material_rejects_certified_mutant(sample_id, old, new, layer, needle):
    lines = _run_layer(_mutant(sample_id, old, new), layer)
    assert any(needle in line for line in lines), lines[:3]


def test_settled_check_accepts_cancellation_awaited_before_leaving():
    rep = {
        "events": [["call", 0], ["start", 0], ["call", 1], ["start", 1], ["raise", 0], ["cancelled", 1],
                   ["leave", -1], ["exit", -1]],
    }
    assert material._settled_at_exit(rep) is None
    late = dict(rep, events=[e for e in rep["events"] if e != ["cancelled", 1]] + [["cancelled", 1]])
    assert "job 1 was still running" in material._settled_at_exit(late)
