"""Base vs trained on one benchmark: pass@1, Δpp, failure categories, flips and McNemar's exact test.

A run is a DataFrame with one row per problem: ``task_id`` (str), ``passed`` (bool),
``category`` (one of :data:`CATEGORIES`) and ``exception_type`` (str or None). Two runs are
compared problem by problem, aligned on ``task_id``; they must cover the same problems.

McNemar's test looks only at the discordant problems: ``b`` passed before and fails now, ``c``
failed before and passes now. Under "the adapter changes nothing" each flip goes either way
with probability 1/2, so the two-sided exact p-value is the binomial tail on ``b + c``. A single
flip can never be significant: a +0.61 pp move on HumanEval (1 of 164 problems, b=0, c=1) has
p = 1.0, which is noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

CATEGORIES: tuple[str, ...] = (
    "PASS",
    "SYNTAX_ERROR",
    "NAME_ERROR",
    "ASSERTION_FAIL",
    "LOOKUP_ERROR",
    "TYPE_ERROR",
    "TIMEOUT",
    "OTHER_RUNTIME",
    "MISSING",
)
COLUMNS: tuple[str, ...] = ("task_id", "passed", "category", "exception_type")


@dataclass(frozen=True)
class McNemar:
    """McNemar's exact test on the discordant problems of two aligned runs."""

    b: int  # base passed, trained fails
    c: int  # base failed, trained passes
    p_value: float
    alpha: float = 0.05

    @property
    def n(self) -> int:
        return self.b + self.c

    @property
    def label(self) -> str:
        return "significant" if self.p_value < self.alpha else "noise"


@dataclass(frozen=True)
class Comparison:
    """Everything the scorecard says about one benchmark."""

    benchmark: str
    problems: int
    base_pass_at_1: float  # fraction in [0, 1]
    trained_pass_at_1: float
    delta_pp: float  # percentage points, trained − base
    categories: pd.DataFrame  # category_table()
    flips: pd.DataFrame  # flips()
    mcnemar: McNemar


def _check(frame: pd.DataFrame, name: str) -> None:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} run lacks columns {missing}")
    duplicated = frame["task_id"][frame["task_id"].duplicated()].unique().tolist()
    if duplicated:
        raise ValueError(f"{name} run has duplicate task_ids: {duplicated[:5]}")
    unknown = sorted(set(frame["category"]) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"{name} run has unknown categories {unknown}; expected {list(CATEGORIES)}")
    inconsistent = frame["task_id"][frame["passed"].astype(bool) != (frame["category"] == "PASS")]
    if len(inconsistent):
        raise ValueError(
            f"{name} run: passed disagrees with category == 'PASS' for {inconsistent.tolist()[:5]}"
        )


def align(base: pd.DataFrame, trained: pd.DataFrame) -> pd.DataFrame:
    """The two runs side by side in base's row order: task_id, passed_base, category_base, ...

    Raises ValueError when a run is malformed or the two cover different problem sets."""
    _check(base, "base")
    _check(trained, "trained")
    base_ids, trained_ids = set(base["task_id"]), set(trained["task_id"])
    if base_ids != trained_ids:
        only_base = sorted(base_ids - trained_ids)
        only_trained = sorted(trained_ids - base_ids)
        raise ValueError(
            "base and trained runs cover different problems: "
            f"{len(only_base)} only in base {only_base[:5]}, "
            f"{len(only_trained)} only in trained {only_trained[:5]}"
        )
    merged = base[list(COLUMNS)].merge(
        trained[list(COLUMNS)],
        on="task_id",
        how="left",
        suffixes=("_base", "_trained"),
        validate="one_to_one",
    )
    merged["passed_base"] = merged["passed_base"].astype(bool)
    merged["passed_trained"] = merged["passed_trained"].astype(bool)
    return merged


def pass_at_1(frame: pd.DataFrame) -> float:
    """Share of problems passed (greedy, one sample each), in [0, 1]."""
    if frame.empty:
        raise ValueError("pass@1 of an empty run is undefined")
    return float(frame["passed"].astype(bool).sum()) / len(frame)


def delta_pp(base: pd.DataFrame, trained: pd.DataFrame) -> float:
    """trained − base pass@1 in percentage points, over the aligned problems."""
    merged = align(base, trained)
    if merged.empty:
        raise ValueError("no problems to compare")
    gained = int(merged["passed_trained"].sum()) - int(merged["passed_base"].sum())
    return 100.0 * gained / len(merged)


def category_table(base: pd.DataFrame, trained: pd.DataFrame) -> pd.DataFrame:
    """Problems per category in each run, every category in :data:`CATEGORIES` order (zeros too)."""
    merged = align(base, trained)
    counts = {
        run: merged[f"category_{run}"].value_counts().reindex(CATEGORIES, fill_value=0).astype("int64")
        for run in ("base", "trained")
    }
    table = pd.DataFrame(
        {
            "category": list(CATEGORIES),
            "base": counts["base"].to_numpy(),
            "trained": counts["trained"].to_numpy(),
        }
    )
    table["delta"] = table["trained"] - table["base"]
    return table


def flips(base: pd.DataFrame, trained: pd.DataFrame) -> pd.DataFrame:
    """Problems whose pass/fail changed: task_id, base_category, trained_category, direction
    ("fixed": failed → passes, "broken": passed → fails), in base's row order."""
    merged = align(base, trained)
    changed = merged[merged["passed_base"] != merged["passed_trained"]]
    return pd.DataFrame(
        {
            "task_id": changed["task_id"].tolist(),
            "base_category": changed["category_base"].tolist(),
            "trained_category": changed["category_trained"].tolist(),
            "direction": ["fixed" if p else "broken" for p in changed["passed_trained"]],
        },
        columns=["task_id", "base_category", "trained_category", "direction"],
    )


def exact_binomial_two_sided(k: int, n: int) -> float:
    """Two-sided exact binomial p-value of ``k`` successes in ``n`` trials at p = 1/2.

    The distribution is symmetric, so this is twice the smaller tail, capped at 1 (the same as
    ``scipy.stats.binomtest(k, n, 0.5).pvalue``)."""
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(k, n - k) + 1))
    return float(min(Fraction(1), Fraction(2 * tail, 2**n)))


def mcnemar_exact(base: pd.DataFrame, trained: pd.DataFrame, alpha: float = 0.05) -> McNemar:
    """McNemar's exact test on the aligned runs; p = 1.0 when no problem flipped."""
    merged = align(base, trained)
    b = int((merged["passed_base"] & ~merged["passed_trained"]).sum())
    c = int((~merged["passed_base"] & merged["passed_trained"]).sum())
    return McNemar(b=b, c=c, p_value=exact_binomial_two_sided(b, b + c), alpha=alpha)


def compare(benchmark: str, base: pd.DataFrame, trained: pd.DataFrame, alpha: float = 0.05) -> Comparison:
    """The :class:`Comparison` of two runs of ``benchmark``."""
    align(base, trained)  # fail early, with the clear message
    return Comparison(
        benchmark=benchmark,
        problems=len(base),
        base_pass_at_1=pass_at_1(base),
        trained_pass_at_1=pass_at_1(trained),
        delta_pp=delta_pp(base, trained),
        categories=category_table(base, trained),
        flips=flips(base, trained),
        mcnemar=mcnemar_exact(base, trained, alpha=alpha),
    )
