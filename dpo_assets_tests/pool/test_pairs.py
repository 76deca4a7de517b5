"""Rejected partners for certified samples, the per-domain cap and TRL rows (pure logic)."""

from __future__ import annotations

import pandas as pd
import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.pool.pairs import (
    DOMAIN_CAP,
    LAYER_PREFERENCE,
    NO_PARTNER,
    PAIR_COLUMNS,
    TRL_METADATA,
    UNPAIRED_COLUMNS,
    domain_mix,
    pick_partners,
    rejected_by_layer,
    rejected_candidates,
    to_trl_rows,
)
from dpo_assets.tasks.catalog import get_task, load_catalog, task_ids

LU = "numerical_linear_algebra/lu"
CHOL = "numerical_linear_algebra/cholesky"
FFT = "fft/transform"
REPAIR = "pytest_traceback_repair/moving_average"


def chosen_row(sid: str, task: str, coverage: float = 90.0, broken: str | None = None) -> dict:
    return {
        "sample_id": sid,
        "task_id": task,
        "code": f"def solve():\n    return {sid!r}\n",
        "broken_code": broken,
        "traceback": None if broken is None else f"FAILED test for {broken}",
        "coverage": coverage,
    }


def rejected_row(sid: str, task: str, layer: int, broken: str | None = None) -> dict:
    return {
        "sample_id": sid,
        "task_id": task,
        "code": f"def solve():\n    return {sid!r}  # wrong\n",
        "layer": layer,
        "reason": f"layer {layer} says no",
        "broken_code": broken,
    }


def check_accounting(chosen: pd.DataFrame, pairs: pd.DataFrame, unpaired: pd.DataFrame) -> None:
    assert len(pairs) + len(unpaired) == len(chosen)
    assert sorted([*pairs["chosen_id"], *unpaired["sample_id"]]) == sorted(chosen["sample_id"])
    assert pairs["rejected_id"].is_unique
    assert list(pairs.columns) == PAIR_COLUMNS and list(unpaired.columns) == UNPAIRED_COLUMNS


def test_near_miss_wins_over_early_failure() -> None:
    chosen = pd.DataFrame([chosen_row("c1", LU)])
    rejected = pd.DataFrame([rejected_row("r1", LU, 1), rejected_row("r7", LU, 7), rejected_row("r2", LU, 2)])
    for seed in range(10):
        pairs, unpaired = pick_partners(chosen, rejected, seed=seed)
        assert pairs["rejected_id"].tolist() == ["r7"] and unpaired.empty
        assert pairs["rejected_layer"].tolist() == [7]


def test_layer_preference_order_and_layer_zero_never() -> None:
    assert LAYER_PREFERENCE == (7, 8, 6, 5, 4, 3, 2, 1)
    chosen = pd.DataFrame([chosen_row(f"c{i}", LU, coverage=100 - i) for i in range(9)])
    rejected = pd.DataFrame([rejected_row(f"r{layer}", LU, layer) for layer in range(9)])
    pairs, unpaired = pick_partners(chosen, rejected, seed=3)
    check_accounting(chosen, pairs, unpaired)
    # served by coverage: the best sample gets the nearest miss
    assert pairs["rejected_layer"].tolist() == list(LAYER_PREFERENCE)
    assert pairs["chosen_id"].tolist() == [f"c{i}" for i in range(8)]
    assert unpaired.values.tolist() == [["c8", LU, "numerical_linear_algebra", 92.0, NO_PARTNER]]


def test_same_task_only_and_no_partner_reused() -> None:
    chosen = pd.DataFrame([chosen_row("lu1", LU), chosen_row("lu2", LU), chosen_row("ch1", CHOL)])
    rejected = pd.DataFrame(
        [rejected_row("r-lu", LU, 4), rejected_row("r-ch1", CHOL, 7), rejected_row("r-ch2", CHOL, 2)]
    )
    pairs, unpaired = pick_partners(chosen, rejected, seed=0)
    check_accounting(chosen, pairs, unpaired)
    task_of = dict(zip(rejected["sample_id"], rejected["task_id"], strict=True))
    assert all(task_of[r] == t for r, t in zip(pairs["rejected_id"], pairs["task_id"], strict=True))
    assert dict(zip(pairs["chosen_id"], pairs["rejected_id"], strict=True)) == {"lu1": "r-lu", "ch1": "r-ch1"}
    assert unpaired[["sample_id", "reason"]].values.tolist() == [["lu2", NO_PARTNER]]


def test_identical_code_is_never_a_partner() -> None:
    chosen = pd.DataFrame([chosen_row("c1", LU)])
    twin = {**rejected_row("twin", LU, 8), "code": chosen.at[0, "code"] + "\n\n"}
    pairs, _ = pick_partners(chosen, pd.DataFrame([twin, rejected_row("r3", LU, 3)]), seed=0)
    assert pairs["rejected_id"].tolist() == ["r3"]


def test_seeded_choice_within_a_tier() -> None:
    chosen = pd.DataFrame([chosen_row("c1", LU)])
    rejected = pd.DataFrame([rejected_row(f"r{i}", LU, 4) for i in range(12)])
    picks = {seed: pick_partners(chosen, rejected, seed=seed)[0]["rejected_id"].item() for seed in range(20)}
    # deterministic for a seed, independent of row order
    shuffled = rejected.sample(frac=1.0, random_state=5).reset_index(drop=True)
    assert all(
        pick_partners(chosen, shuffled, seed=s)[0]["rejected_id"].item() == p for s, p in picks.items()
    )
    assert all(
        pick_partners(chosen, rejected, seed=s)[0]["rejected_id"].item() == p for s, p in picks.items()
    )
    # and the seed matters
    assert len(set(picks.values())) > 1


def test_repair_partner_shares_the_broken_module() -> None:
    chosen = pd.DataFrame(
        [chosen_row("c-a", REPAIR, 99, broken="A"), chosen_row("c-b", REPAIR, 98, broken="B")]
    )
    rejected = pd.DataFrame(
        [
            rejected_row("r-a7", REPAIR, 7, broken="C"),  # nearest miss, but another prompt
            rejected_row("r-a1", REPAIR, 1, broken="A"),
            rejected_row("r-b2", REPAIR, 2, broken="B"),
        ]
    )
    pairs, unpaired = pick_partners(chosen, rejected, seed=0)
    check_accounting(chosen, pairs, unpaired)
    assert dict(zip(pairs["chosen_id"], pairs["rejected_id"], strict=True)) == {"c-a": "r-a1", "c-b": "r-b2"}
    assert pairs["same_broken_code"].all()
    # none left with the same module: fall back to the task, flagged
    more = pd.concat([chosen, pd.DataFrame([chosen_row("c-a2", REPAIR, 50, broken="A")])], ignore_index=True)
    pairs, unpaired = pick_partners(more, rejected, seed=0)
    check_accounting(more, pairs, unpaired)
    fallback = pairs.set_index("chosen_id").loc["c-a2"]
    assert fallback["rejected_id"] == "r-a7" and not fallback["same_broken_code"]


def test_domain_cap_keeps_highest_coverage() -> None:
    chosen = pd.DataFrame(
        [
            chosen_row("lu-low", LU, 81.0),
            chosen_row("lu-high", LU, 99.0),
            chosen_row("ch-mid", CHOL, 90.0),
            chosen_row("fft-1", FFT, 85.0),
            chosen_row("fft-2", FFT, 80.0),
        ]
    )
    rejected = pd.DataFrame(
        [rejected_row(f"r-lu{i}", LU, 4) for i in range(2)]
        + [rejected_row("r-ch", CHOL, 3), rejected_row("r-fft", FFT, 2)]
    )
    pairs, unpaired = pick_partners(chosen, rejected, seed=1, cap_per_domain=2)
    check_accounting(chosen, pairs, unpaired)
    assert sorted(pairs["chosen_id"]) == ["ch-mid", "fft-1", "lu-high"]
    reasons = dict(zip(unpaired["sample_id"], unpaired["reason"], strict=True))
    assert reasons == {"lu-low": DOMAIN_CAP, "fft-2": NO_PARTNER}
    assert domain_mix(pairs).values.tolist() == [["fft", 1, 0.3333], ["numerical_linear_algebra", 2, 0.6667]]
    # no cap: everyone with a partner is paired
    pairs, unpaired = pick_partners(chosen, rejected, seed=1)
    assert len(pairs) == 4 and unpaired["reason"].tolist() == [NO_PARTNER]
    # cap 0: nothing paired, all capped
    pairs, unpaired = pick_partners(chosen, rejected, seed=1, cap_per_domain=0)
    assert pairs.empty and set(unpaired["reason"]) == {DOMAIN_CAP, NO_PARTNER}
    with pytest.raises(ValueError):
        pick_partners(chosen, rejected, seed=1, cap_per_domain=-1)


def test_empty_inputs() -> None:
    chosen = pd.DataFrame([chosen_row("c1", LU)])
    pairs, unpaired = pick_partners(
        chosen, pd.DataFrame(columns=["sample_id", "task_id", "code", "layer"]), seed=0
    )
    check_accounting(chosen, pairs, unpaired)
    assert pairs.empty and rejected_by_layer(pairs) == {} and domain_mix(pairs).empty
    assert to_trl_rows(pairs, load_catalog()) == []


def test_rejected_candidates_from_ledger_and_intake() -> None:
    ledger = pd.DataFrame(
        {
            "sample_id": ["a", "b", "c"],
            "task_id": [LU, LU, LU],
            "layer": [0, 3, 8],
            "reason": ["duplicate", "property", "coverage"],
        }
    )
    samples = pd.DataFrame(
        {
            "sample_id": ["b", "c", "d"],
            "code": ["b()", "c()", "d()"],
            "broken_code": [None] * 3,
            "traceback": [None] * 3,
        }
    )
    out = rejected_candidates(ledger, samples)
    assert out[["sample_id", "layer", "code"]].values.tolist() == [["b", 3, "b()"], ["c", 8, "c()"]]


def test_trl_rows_are_well_formed() -> None:
    repair = get_task(REPAIR)
    broken = repair.broken_source
    chosen = pd.DataFrame([chosen_row("c-r", REPAIR, broken=broken), chosen_row("c-lu", LU)])
    rejected = pd.DataFrame([rejected_row("r-r", REPAIR, 4, broken=broken), rejected_row("r-lu", LU, 7)])
    pairs, _ = pick_partners(chosen, rejected, seed=0)
    rows = to_trl_rows(pairs, load_catalog())
    assert len(rows) == 2
    for row in rows:
        assert set(row) == {"prompt", "chosen", "rejected", *TRL_METADATA}
        assert [m["role"] for m in row["prompt"]] == ["user"]
        assert [m["role"] for m in row["chosen"]] == [m["role"] for m in row["rejected"]] == ["assistant"]
        for message in (*row["prompt"], *row["chosen"], *row["rejected"]):
            assert isinstance(message["content"], str) and message["content"].strip()
        for side in ("chosen", "rejected"):
            text = row[side][0]["content"]
            assert text.startswith("```python\n") and text.endswith("\n```")
        assert row["chosen"] != row["rejected"]
    by_task = {r["task_id"]: r for r in rows}
    lu = by_task[LU]
    assert lu["prompt"][0]["content"] == get_task(LU).prompt()
    assert (lu["chosen_id"], lu["rejected_id"], lu["rejected_layer"], lu["domain"]) == (
        "c-lu",
        "r-lu",
        7,
        "numerical_linear_algebra",
    )
    prompt = by_task[REPAIR]["prompt"][0]["content"]
    assert prompt == repair.prompt(broken, f"FAILED test for {broken}")
    assert broken.strip() in prompt and "The module below fails its tests." in prompt


def bundled_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chosen: the samples labelled correct; rejected: the others, failed at their first ``caught_by``."""
    chosen, rejected = [], []
    for task in task_ids():
        labels = load_labels(task)
        for sid, row in load_samples(task).items():
            if labels[sid]["label"] == "correct":
                chosen.append(row)
            else:
                rejected.append(
                    {**row, "layer": min(labels[sid]["caught_by"]), "reason": labels[sid]["defect"]}
                )
    return pd.DataFrame(chosen), pd.DataFrame(rejected)


def test_bundled_corpus_every_correct_sample_gets_a_partner() -> None:
    chosen, rejected = bundled_split()
    pairs, unpaired = pick_partners(chosen, rejected, seed=0)
    check_accounting(chosen, pairs, unpaired)
    assert len(chosen) == 106 and len(pairs) == 106 and unpaired.empty
    assert (pairs["task_id"] == pairs["rejected_id"].map(rejected.set_index("sample_id")["task_id"])).all()
    layers = rejected_by_layer(pairs)
    assert sum(layers.values()) == 106 and 0 not in layers
    # each task's pairs use its nearest misses: no partner from a lower tier while a higher one is unused
    rank = {layer: r for r, layer in enumerate(LAYER_PREFERENCE)}
    for task, group in pairs.groupby("task_id"):
        unused = rejected[(rejected["task_id"] == task) & ~rejected["sample_id"].isin(group["rejected_id"])]
        if get_task(task).is_repair:
            assert group["same_broken_code"].all()  # every repair prompt has its own near misses
            continue
        worst_used = max(rank[layer] for layer in group["rejected_layer"])
        assert all(rank[layer] >= worst_used for layer in unused["layer"])
    mix = domain_mix(pairs)
    assert mix["pairs"].sum() == 106 and mix["share"].sum() == pytest.approx(1.0, abs=1e-3)
    rows = to_trl_rows(pairs, load_catalog())
    assert len(rows) == 106
    # deterministic for a seed; the rows' order only decides who is served first
    again, _ = pick_partners(chosen, rejected, seed=0)
    pd.testing.assert_frame_equal(again, pairs)
    reordered, _ = pick_partners(chosen.iloc[::-1].reset_index(drop=True), rejected, seed=0)
    assert sorted(reordered["rejected_id"]) == sorted(pairs["rejected_id"])
