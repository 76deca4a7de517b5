"""GO/NO-GO: does the adapter earn its place? Fixed rules over the per-benchmark comparisons.

1. HumanEval improves: Δ > ``humaneval_min_delta_pp``.
2. MBPP holds: |Δ| <= ``mbpp_max_abs_delta_pp`` (a control: a large move either way is suspect).
3. No failure category (PASS and MISSING aside) grows by more than ``max_category_growth``
   problems, on either benchmark.

Every rule is reported, held or broken, with its numbers; GO only when all hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dpo_assets.scorecard.compare import Comparison

BENCHMARKS: dict[str, str] = {"humaneval": "HumanEval", "mbpp": "MBPP"}
NOT_FAILURES = frozenset({"PASS", "MISSING"})
_EPS = 1e-9  # Δpp is a ratio of counts: forgive the last bit of float rounding at the bounds


@dataclass(frozen=True)
class Thresholds:
    humaneval_min_delta_pp: float = 0.0  # HumanEval Δ must be strictly above this
    mbpp_max_abs_delta_pp: float = 1.0  # MBPP Δ must stay within ±this
    max_category_growth: int = 1  # no failure category may grow by more problems than this


@dataclass(frozen=True)
class Decision:
    go: bool
    failed_rules: list[str] = field(default_factory=list)
    passed_rules: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "GO" if self.go else "NO-GO"


def _humaneval_rule(comparison: Comparison, t: Thresholds) -> tuple[bool, str]:
    delta, bound = comparison.delta_pp, t.humaneval_min_delta_pp
    if delta > bound + _EPS:
        return True, f"HumanEval Δ = {delta:+.2f} pp > {bound:.2f} pp"
    return False, f"HumanEval Δ = {delta:+.2f} pp, needs > {bound:.2f} pp"


def _mbpp_rule(comparison: Comparison, t: Thresholds) -> tuple[bool, str]:
    delta, bound = comparison.delta_pp, t.mbpp_max_abs_delta_pp
    if abs(delta) <= bound + _EPS:
        return True, f"MBPP Δ = {delta:+.2f} pp within ±{bound:.2f} pp"
    return False, f"MBPP Δ = {delta:+.2f} pp outside ±{bound:.2f} pp"


def _category_rules(name: str, comparison: Comparison, t: Thresholds) -> tuple[list[str], list[str]]:
    table = comparison.categories
    failures = table[~table["category"].isin(NOT_FAILURES)]
    grown = failures[failures["delta"] > t.max_category_growth]
    broken = [
        f"{name} {row.category} grew by {int(row.delta):+d} (max {t.max_category_growth:+d})"
        for row in grown.itertuples()
    ]
    if broken:
        return [], broken
    worst = int(failures["delta"].max()) if len(failures) else 0
    held = f"{name} no failure category grew by more than {t.max_category_growth:+d} (largest {worst:+d})"
    return [held], []


def decide(comparisons: Mapping[str, Comparison], thresholds: Thresholds | None = None) -> Decision:
    """Apply the rules to ``comparisons`` keyed "humaneval" and "mbpp"; a missing one is a NO-GO."""
    t = thresholds or Thresholds()
    passed: list[str] = []
    failed: list[str] = []
    for key, display in BENCHMARKS.items():
        if key not in comparisons:
            failed.append(f"{display}: no comparison (benchmark not scored)")
            continue
        comparison = comparisons[key]
        ok, message = (_humaneval_rule if key == "humaneval" else _mbpp_rule)(comparison, t)
        (passed if ok else failed).append(message)
    for key in BENCHMARKS:
        if key in comparisons:
            held, broken = _category_rules(key, comparisons[key], t)
            passed += held
            failed += broken
    return Decision(go=not failed, failed_rules=failed, passed_rules=passed)
