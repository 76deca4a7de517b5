"""Comparison statistics: pass@1, Δpp, category table, flips and McNemar's exact test."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pandas as pd
import pytest

from dpo_assets.scorecard.compare import (
    CATEGORIES,
    align,
    category_table,
    compare,
    delta_pp,
    exact_binomial_two_sided,
    flips,
    mcnemar_exact,
    pass_at_1,
)


def run(categories: list[str], prefix: str = "T") -> pd.DataFrame:
    """A run whose i-th problem ``{prefix}/{i}`` ended in ``categories[i]``."""
    return pd.DataFrame(
        {
            "task_id": [f"{prefix}/{i}" for i in range(len(categories))],
            "passed": [c == "PASS" for c in categories],
            "category": categories,
            "exception_type": [None if c == "PASS" else "SomeError" for c in categories],
        }
    )


def minlike_p(k: int, n: int) -> Fraction:
    """Two-sided binomial p at 1/2 by definition: the mass of every outcome no likelier than k."""
    if n == 0:
        return Fraction(1)
    return sum((Fraction(comb(n, i), 2**n) for i in range(n + 1) if comb(n, i) <= comb(n, k)), Fraction(0))


@pytest.mark.parametrize(
    ("b", "c", "expected"),
    [
        (0, 0, 1.0),
        (0, 1, 1.0),  # 2 * 1/2, capped
        (5, 5, 1.0),
        (0, 5, 0.0625),  # 2 * 1/32
        (0, 6, 0.03125),  # 2 * 1/64
        (1, 9, 0.021484375),  # 2 * (1 + 10)/1024
        (2, 8, 0.109375),  # 2 * (1 + 10 + 45)/1024
        (8, 2, 0.109375),
    ],
)
def test_exact_binomial_hand_values(b: int, c: int, expected: float) -> None:
    assert exact_binomial_two_sided(b, b + c) == expected


def test_exact_binomial_matches_the_definition() -> None:
    for n in range(25):
        for k in range(n + 1):
            assert exact_binomial_two_sided(k, n) == pytest.approx(float(minlike_p(k, n)), abs=1e-15)


def test_exact_binomial_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        exact_binomial_two_sided(3, 2)


def test_mcnemar_counts_only_discordant_problems() -> None:
    # 2 broken (PASS -> fail), 8 fixed (fail -> PASS), 5 pass in both, 4 fail in both
    base = run(["PASS"] * 2 + ["ASSERTION_FAIL"] * 8 + ["PASS"] * 5 + ["TIMEOUT"] * 4)
    trained = run(["NAME_ERROR"] * 2 + ["PASS"] * 8 + ["PASS"] * 5 + ["TYPE_ERROR"] * 4)
    result = mcnemar_exact(base, trained)
    assert (result.b, result.c, result.n) == (2, 8, 10)
    assert result.p_value == 0.109375
    assert result.label == "noise"


def test_mcnemar_six_fixes_none_broken_is_significant() -> None:
    base = run(["SYNTAX_ERROR"] * 6 + ["PASS"] * 20)
    trained = run(["PASS"] * 6 + ["PASS"] * 20)
    result = mcnemar_exact(base, trained)
    assert (result.b, result.c, result.p_value, result.label) == (0, 6, 0.03125, "significant")
    assert mcnemar_exact(base, trained, alpha=0.01).label == "noise"


def test_one_humaneval_flip_is_noise() -> None:
    base = run(["PASS"] * 100 + ["ASSERTION_FAIL"] * 64, prefix="HumanEval")
    trained = run(["PASS"] * 101 + ["ASSERTION_FAIL"] * 63, prefix="HumanEval")
    assert round(delta_pp(base, trained), 2) == 0.61
    result = mcnemar_exact(base, trained)
    assert (result.b, result.c, result.p_value, result.label) == (0, 1, 1.0, "noise")


def test_no_flips_gives_p_one() -> None:
    base = run(["PASS", "TIMEOUT", "NAME_ERROR"])
    trained = run(["PASS", "NAME_ERROR", "TIMEOUT"])
    result = mcnemar_exact(base, trained)
    assert (result.b, result.c, result.p_value) == (0, 0, 1.0)


def test_pass_at_1_and_delta() -> None:
    base = run(["PASS"] * 2 + ["ASSERTION_FAIL"] * 8)
    trained = run(["PASS"] * 5 + ["ASSERTION_FAIL"] * 5)
    assert pass_at_1(base) == 0.2
    assert pass_at_1(trained) == 0.5
    assert delta_pp(base, trained) == pytest.approx(30.0)
    assert delta_pp(trained, base) == pytest.approx(-30.0)
    with pytest.raises(ValueError):
        pass_at_1(run([]))


def test_runs_are_aligned_by_task_id_not_row_order() -> None:
    base = run(["PASS", "ASSERTION_FAIL", "TIMEOUT", "PASS"])
    trained = run(["ASSERTION_FAIL", "PASS", "TIMEOUT", "PASS"])
    shuffled = trained.iloc[[3, 1, 0, 2]].reset_index(drop=True)
    assert mcnemar_exact(base, shuffled) == mcnemar_exact(base, trained)
    assert flips(base, shuffled).equals(flips(base, trained))
    assert set(flips(base, shuffled)["task_id"]) == {"T/0", "T/1"}


def test_different_problem_sets_are_refused() -> None:
    base = run(["PASS", "PASS", "PASS"])
    trained = run(["PASS", "PASS"])
    with pytest.raises(ValueError, match=r"different problems.*1 only in base \['T/2'\]"):
        mcnemar_exact(base, trained)
    renamed = run(["PASS", "PASS", "PASS"], prefix="Mbpp")
    for function in (delta_pp, category_table, flips, mcnemar_exact):
        with pytest.raises(ValueError, match="different problems"):
            function(base, renamed)


def test_malformed_runs_are_refused() -> None:
    good = run(["PASS", "TIMEOUT"])
    duplicated = pd.concat([good, good.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="duplicate task_ids"):
        align(duplicated, duplicated)
    unknown = good.assign(category=["PASS", "SEGFAULT"])
    with pytest.raises(ValueError, match="unknown categories"):
        align(good, unknown)
    inconsistent = good.assign(passed=[True, True])
    with pytest.raises(ValueError, match="passed disagrees"):
        align(good, inconsistent)
    with pytest.raises(ValueError, match="lacks columns"):
        align(good, good.drop(columns="category"))


def test_category_table_lists_every_category_in_order() -> None:
    base = run(["PASS"] * 3 + ["NAME_ERROR"] * 2 + ["TIMEOUT"])
    trained = run(["PASS"] * 4 + ["NAME_ERROR"] + ["MISSING"])
    table = category_table(base, trained)
    assert list(table.columns) == ["category", "base", "trained", "delta"]
    assert table["category"].tolist() == list(CATEGORIES)
    counts = table.set_index("category")
    assert counts.loc["PASS"].tolist() == [3, 4, 1]
    assert counts.loc["NAME_ERROR"].tolist() == [2, 1, -1]
    assert counts.loc["TIMEOUT"].tolist() == [1, 0, -1]
    assert counts.loc["MISSING"].tolist() == [0, 1, 1]
    assert counts.loc["SYNTAX_ERROR"].tolist() == [0, 0, 0]
    assert table["base"].sum() == table["trained"].sum() == 6
    assert table["delta"].sum() == 0


def test_flips_name_direction_and_categories() -> None:
    base = run(["PASS", "NAME_ERROR", "PASS", "TIMEOUT", "ASSERTION_FAIL"])
    trained = run(["PASS", "PASS", "TYPE_ERROR", "SYNTAX_ERROR", "PASS"])
    table = flips(base, trained)
    assert list(table.columns) == ["task_id", "base_category", "trained_category", "direction"]
    assert table.values.tolist() == [
        ["T/1", "NAME_ERROR", "PASS", "fixed"],
        ["T/2", "PASS", "TYPE_ERROR", "broken"],
        ["T/4", "ASSERTION_FAIL", "PASS", "fixed"],
    ]  # T/3 changed category but failed both times: not a flip
    assert flips(base, base).empty
    assert list(flips(base, base).columns) == list(table.columns)


def test_compare_bundles_one_benchmark() -> None:
    base = run(["PASS"] * 2 + ["ASSERTION_FAIL"] * 8)
    trained = run(["PASS"] * 5 + ["ASSERTION_FAIL"] * 5)
    result = compare("mbpp", base, trained)
    assert result.benchmark == "mbpp" and result.problems == 10
    assert (result.base_pass_at_1, result.trained_pass_at_1) == (0.2, 0.5)
    assert result.delta_pp == pytest.approx(30.0)
    assert result.categories.equals(category_table(base, trained))
    assert result.flips["direction"].tolist() == ["fixed"] * 3
    assert (result.mcnemar.b, result.mcnemar.c) == (0, 3)
    assert result.mcnemar.p_value == 0.25  # 2 * 1/8
