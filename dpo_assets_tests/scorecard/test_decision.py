"""GO/NO-GO: each rule breaks on its own and is named with its numbers; GO when all hold."""

from __future__ import annotations

import pandas as pd
import pytest

from dpo_assets.scorecard.compare import Comparison, compare
from dpo_assets.scorecard.decision import Decision, Thresholds, decide


def run(categories: list[str], prefix: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task_id": [f"{prefix}/{i}" for i in range(len(categories))],
            "passed": [c == "PASS" for c in categories],
            "category": categories,
            "exception_type": [None] * len(categories),
        }
    )


def benchmark(name: str, base: list[str], trained: list[str]) -> Comparison:
    return compare(name, run(base, name), run(trained, name))


def humaneval(changes: dict[int, str] | None = None) -> Comparison:
    """164 problems, 100 passed by base; by default the adapter fixes one (Δ = +0.61 pp)."""
    base = ["PASS"] * 100 + ["ASSERTION_FAIL"] * 64
    trained = base.copy()
    for index, category in (changes if changes is not None else {100: "PASS"}).items():
        trained[index] = category
    return benchmark("humaneval", base, trained)


def mbpp(changes: dict[int, str] | None = None) -> Comparison:
    """100 problems, 60 passed by base; by default nothing changes."""
    base = ["PASS"] * 60 + ["ASSERTION_FAIL"] * 30 + ["TIMEOUT"] * 10
    trained = base.copy()
    for index, category in (changes or {}).items():
        trained[index] = category
    return benchmark("mbpp", base, trained)


def only_failure(decision: Decision) -> str:
    assert not decision.go and decision.label == "NO-GO"
    assert len(decision.failed_rules) == 1, decision.failed_rules
    return decision.failed_rules[0]


def test_go_when_every_rule_holds() -> None:
    decision = decide({"humaneval": humaneval(), "mbpp": mbpp()})
    assert decision.go and decision.label == "GO"
    assert decision.failed_rules == []
    assert decision.passed_rules == [
        "HumanEval Δ = +0.61 pp > 0.00 pp",
        "MBPP Δ = +0.00 pp within ±1.00 pp",
        "humaneval no failure category grew by more than +1 (largest +0)",
        "mbpp no failure category grew by more than +1 (largest +0)",
    ]


def test_humaneval_must_improve() -> None:
    worse = humaneval({0: "ASSERTION_FAIL"})  # one problem broken: −1/164
    assert (
        only_failure(decide({"humaneval": worse, "mbpp": mbpp()}))
        == "HumanEval Δ = -0.61 pp, needs > 0.00 pp"
    )
    flat = humaneval({})
    assert (
        only_failure(decide({"humaneval": flat, "mbpp": mbpp()})) == "HumanEval Δ = +0.00 pp, needs > 0.00 pp"
    )


def test_humaneval_threshold_is_configurable() -> None:
    message = only_failure(
        decide({"humaneval": humaneval(), "mbpp": mbpp()}, Thresholds(humaneval_min_delta_pp=1.0))
    )
    assert message == "HumanEval Δ = +0.61 pp, needs > 1.00 pp"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({60: "PASS", 61: "PASS"}, "MBPP Δ = +2.00 pp outside ±1.00 pp"),
        ({0: "ASSERTION_FAIL", 1: "TIMEOUT"}, "MBPP Δ = -2.00 pp outside ±1.00 pp"),  # each +1
    ],
)
def test_mbpp_must_hold_either_way(changes: dict[int, str], message: str) -> None:
    assert only_failure(decide({"humaneval": humaneval(), "mbpp": mbpp(changes)})) == message


@pytest.mark.parametrize("changes", [{60: "PASS"}, {0: "ASSERTION_FAIL"}])
def test_mbpp_move_of_exactly_the_bound_holds(changes: dict[int, str]) -> None:
    decision = decide({"humaneval": humaneval(), "mbpp": mbpp(changes)})
    assert decision.go, decision.failed_rules


def test_failure_category_growth_on_humaneval() -> None:
    # three assertion failures become name errors; one more problem is fixed, so Δ stays > 0
    changes = {100: "PASS", 101: "NAME_ERROR", 102: "NAME_ERROR", 103: "NAME_ERROR"}
    decision = decide({"humaneval": humaneval(changes), "mbpp": mbpp()})
    assert only_failure(decision) == "humaneval NAME_ERROR grew by +3 (max +1)"
    assert "HumanEval Δ = +0.61 pp > 0.00 pp" in decision.passed_rules


def test_failure_category_growth_on_mbpp() -> None:
    changes = {60: "TYPE_ERROR", 61: "TYPE_ERROR"}  # still failing: Δ = 0, but TYPE_ERROR +2
    assert only_failure(decide({"humaneval": humaneval(), "mbpp": mbpp(changes)})) == (
        "mbpp TYPE_ERROR grew by +2 (max +1)"
    )


def test_every_grown_category_is_named() -> None:
    changes = {60: "TYPE_ERROR", 61: "TYPE_ERROR", 62: "SYNTAX_ERROR", 63: "SYNTAX_ERROR"}
    decision = decide({"humaneval": humaneval(), "mbpp": mbpp(changes)})
    assert decision.failed_rules == [
        "mbpp SYNTAX_ERROR grew by +2 (max +1)",
        "mbpp TYPE_ERROR grew by +2 (max +1)",
    ]


def test_growth_of_one_and_pass_or_missing_growth_are_allowed() -> None:
    he = humaneval({100: "PASS", 101: "PASS", 102: "NAME_ERROR"})  # PASS +2, NAME_ERROR +1
    mb = mbpp({60: "MISSING", 61: "MISSING", 62: "MISSING"})  # MISSING +3 is not a failure category
    decision = decide({"humaneval": he, "mbpp": mb})
    assert decision.go, decision.failed_rules
    assert "humaneval no failure category grew by more than +1 (largest +1)" in decision.passed_rules


def test_category_growth_threshold_is_configurable() -> None:
    he = humaneval({100: "PASS", 101: "NAME_ERROR"})
    decision = decide({"humaneval": he, "mbpp": mbpp()}, Thresholds(max_category_growth=0))
    assert only_failure(decision) == "humaneval NAME_ERROR grew by +1 (max +0)"


def test_several_broken_rules_are_all_reported() -> None:
    decision = decide({"humaneval": humaneval({}), "mbpp": mbpp({60: "PASS", 61: "PASS"})})
    assert decision.failed_rules == [
        "HumanEval Δ = +0.00 pp, needs > 0.00 pp",
        "MBPP Δ = +2.00 pp outside ±1.00 pp",
    ]
    assert len(decision.passed_rules) == 2


def test_a_missing_benchmark_is_no_go() -> None:
    message = only_failure(decide({"humaneval": humaneval()}))
    assert message.startswith("MBPP") and "no comparison" in message
