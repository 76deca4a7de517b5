"""Task unit agentic/tool_loop: the reference passes its material, the material rejects
representative defects, and the bundled corpus is consistent.

Hacking samples (os._exit, monkeypatching) are left to the sandbox-backed corpus tests:
InProcessExecutor has no isolation.
"""

from __future__ import annotations

import json

import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate import engine
from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.sandbox.outcome import Call, Observation
from dpo_assets.sandbox.wire import Foreign
from dpo_assets.tasks.agentic.tool_loop import harness, material
from dpo_assets.tasks.catalog import get_task

TASK = get_task("agentic/tool_loop")
LAYERS = {"invariants": 1, "differential": 2, "properties": 3, "fuzz": 4, "edge": 7}


def _code_for(defect: str) -> str:
    labels = load_labels(TASK.task_id)
    for sample in load_samples(TASK.task_id).values():
        if labels[sample["sample_id"]]["defect"] == defect:
            return sample["code"]
    raise AssertionError(f"no bundled sample with defect {defect}")


# ---- the reference -------------------------------------------------------------------------


def test_reference_agrees_with_the_contract_model_on_differential_cases():
    observations = engine.reference_observations(TASK, [c.call for c in TASK.differential])
    for case, obs in zip(TASK.differential, observations):
        if case.call.driver == "agent":
            reason = material.expect(case.call.kwargs)(obs)
        else:
            reason = material.expect_repeat(case.call.kwargs["scenarios"])(obs)
        assert reason is None, (case.call.describe(), reason)


def test_task_declarations():
    assert TASK.semantic.functions[0].name == "run_agent"
    assert TASK.semantic.functions[0].params == ("llm", "tools", "task", "max_steps")
    assert {(r.function, r.call, r.target) for r in TASK.dataflow} == {
        ("run_agent", "llm", "messages"),
        ("run_agent", "tools", "messages"),
    }
    assert "error:" in TASK.prompt()


# ---- material rejects representative defects (non-hacking, in-process) ------------------


def _violations(layer: str, code: str) -> list[str]:
    return [v.line() for v in engine.run_layer(InProcessExecutor(), TASK, code, LAYERS[layer])]


@pytest.mark.parametrize(
    ("defect", "layer", "needle"),
    [
        ("off_by_one_steps", "invariants", "steps=0"),
        ("llm_called_max_steps_plus_one", "invariants", "llm called 4 times"),
        ("tool_result_not_str", "invariants", "expected str '5', got int 5"),
        ("module_level_history", "invariants", "messages after"),
        ("unknown_tool_keyerror", "invariants", "raised builtins.KeyError"),
        ("tool_exception_escapes", "fuzz", "raised builtins.TypeError"),
        ("non_json_crash", "fuzz", "JSONDecodeError"),
        ("catches_llm_exceptions", "fuzz", ""),
        ("max_steps_not_validated", "fuzz", "expected builtins.ValueError"),
        ("final_none_means_no_answer", "fuzz", "llm called"),
        ("membership_on_non_dict", "fuzz", "raised builtins.TypeError"),
        ("error_prefix_capitalised", "fuzz", "starting with 'error:'"),
        ("unhashable_tool_name_crash", "edge", "raised builtins.TypeError"),
        ("narrow_tool_except", "edge", "raised builtins."),
        ("default_max_steps_ten", "differential", "llm called 10 times"),
        ("reply_stripped", "differential", "expected '  {\"final\": 7}\\n'"),
        ("retries_failing_tool", "differential", "tool calls"),
        ("args_passed_positionally", "differential", "tool calls"),
        ("tool_result_json_dumps", "differential", "'\"hello world\"'"),
    ],
)
def test_material_rejects_defect(defect, layer, needle):
    found = _violations(layer, _code_for(defect))
    assert found, f"{defect} passed the {layer} material"
    assert any(needle in line for line in found), found[:3]


def test_correct_bundled_candidate_passes_in_process():
    code = load_samples(TASK.task_id)["tool_loop-correct-06"]["code"]
    for layer in ("invariants", "differential", "fuzz", "edge"):
        assert _violations(layer, code) == [], layer


# ---- the trusted judging pieces ----------------------------------------------------------


def _report(**over):
    kwargs = material.scenario([material.F(1)])
    report = json.loads(json.dumps(material.expected_report(kwargs)))
    report.update(over)
    return kwargs, report


def test_well_formed_rejects_foreign_and_subclass_values():
    kwargs, report = _report()
    assert material.well_formed(kwargs, report) is None
    bad = dict(report, result=Foreign("solution.Result", "<Result>"))
    assert "not a dict" in material.well_formed(kwargs, bad)
    result = dict(report["result"], steps=Foreign("solution.Count", "1"))
    assert "not int" in material.well_formed(kwargs, dict(report, result=result))
    result = dict(report["result"], steps=True)
    assert "not int" in material.well_formed(kwargs, dict(report, result=result))


def test_same_is_exact_and_tolerates_only_error_texts():
    assert material.same(1, True) is not None
    assert material.same([1.0], [1]) is not None
    assert material.same({"b": 1, "a": 2}, {"a": 2, "b": 1}) is None
    want = {"role": "tool", "content": "error: unknown tool 'x'"}
    assert material.same({"content": "error: nope", "role": "tool"}, want) is None
    assert material.same({"role": "tool", "content": "Error: nope"}, want) is not None
    assert material.same({"role": "user", "content": "error: nope"}, want) is not None
    five = {"role": "tool", "content": "5"}
    assert material.same(five, {"role": "tool", "content": "error: 5"}) is not None


def test_compare_reports_requires_the_llm_exception_itself():
    kwargs = material.scenario([material.F(1)], raise_at=0)
    expected = material.expected_report(kwargs)
    assert expected["outcome"] == "llm_error"
    assert material.compare_reports(dict(expected), expected) is None
    wrapped = dict(expected, llm_error_same=False)
    assert "different exception" in material.compare_reports(wrapped, expected)
    swallowed = dict(expected, outcome="returned")
    assert "did not propagate" in material.compare_reports(swallowed, expected)


def test_driver_does_not_trust_candidate_objects():
    class Lying(dict):
        def __eq__(self, other):
            return True

    report = harness.run_once(lambda llm, tools, task, max_steps=8: Lying(answer=1), replies=[])
    assert type(report["result"]) is Lying  # passed through untouched; the wire makes it Foreign
    obs = Observation(value={**report, "result": Foreign("x.Lying", "{}")})
    assert material.expect(material.scenario([]))(obs) is not None


def test_long_strings_travel_as_digests():
    text = "error: " + "x" * 10_000
    digest = harness.plain([text])[0]
    assert digest["long_str"] == len(text) and digest["head"].startswith("error:")
    assert material.same(digest, "error: short") is not None
    assert material.same({"role": "tool", "content": digest}, {"role": "tool", "content": "error: y"}) is None


def test_property_strategies_draw_valid_scenarios():
    for spec in TASK.properties:
        for kwargs in engine.draw_examples(spec, 5):
            assert material.expected_report(kwargs)["llm_calls"] <= kwargs["max_steps"]
            Call(spec.driver, kwargs).describe()


# ---- the bundled corpus --------------------------------------------------------------------


def test_defect_classes_are_distinct():
    defects = [lab["defect"] for lab in load_labels(TASK.task_id).values() if lab["defect"]]
    assert len(defects) == len(set(defects))


def test_material_rejects_certified_mutant_dropping_empty_named_tool_results():
    code = load_samples(TASK.task_id)["tool_loop-correct-01"]["code"]
    old = '        messages.append({"role": "tool", "content": content})\n    return'
    assert code.count(old) == 1
    guarded = "        if name:\n    " + old
    mutant = code.replace(old, guarded)
    found = _violations("fuzz", mutant)
    assert any("tools=['', 'add']" in line for line in found), found[:3]
