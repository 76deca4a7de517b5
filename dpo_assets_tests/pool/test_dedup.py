"""Exact and near duplicates in the chosen pool (pure logic, no sandbox)."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.corpus.rewrites import REWRITES
from dpo_assets.pool.dedup import DUPLICATE_COLUMNS, dedup, duplicate_counts, structural_key
from dpo_assets.tasks.catalog import task_ids

TASK = "numerical_linear_algebra/lu"

BASE = '''"""Running statistics."""

import math


def running_mean(values, window: int) -> list[float]:
    """Mean of each full window."""
    if window < 1:
        raise ValueError("window must be at least 1")
    items = [float(v) for v in values]
    means = []
    for start in range(len(items) - window + 1):
        chunk = items[start:start + window]
        means.append(math.fsum(chunk) / window)
    return means


def spread(values) -> float:
    total = 0.0
    for v in values:
        total += abs(v)
    return total / max(len(values), 1)
'''

# layout and comments only
REFORMATTED = BASE.replace(
    "items[start:start + window]", "items[ start : start+window ]  # the window"
).replace("means = []", "means = [\n    ]")
# locals renamed, docstrings changed, a message reworded, annotations dropped
RENAMED = (
    BASE.replace("items", "xs")
    .replace("means", "out")
    .replace("chunk", "w")
    .replace("total", "acc")
    .replace('"""Mean of each full window."""', '"""Averages over sliding windows (full ones only)."""')
    .replace('"""Running statistics."""', '"""Stats."""')
    .replace("window must be at least 1", "bad window")
    .replace(" -> list[float]", "")
    .replace("window: int", "window")
)
# one constant changed in an otherwise identical module (high token overlap, different AST)
EDITED = BASE.replace("max(len(values), 1)", "max(len(values), 2)")
DIFFERENT = """import numpy as np


def running_mean(values, window):
    arr = np.asarray(values, dtype=float)
    if window < 1:
        raise ValueError("window must be at least 1")
    csum = np.concatenate([[0.0], np.cumsum(arr)])
    return list((csum[window:] - csum[:-window]) / window)
"""


def frame(*codes: str, task: str = TASK, coverage: list[float] | None = None) -> pd.DataFrame:
    rows = pd.DataFrame(
        {"sample_id": [f"s{i}" for i in range(len(codes))], "task_id": task, "code": list(codes)}
    )
    if coverage is not None:
        rows["coverage"] = coverage
    return rows


def check_accounting(pool: pd.DataFrame, kept: pd.DataFrame, duplicates: pd.DataFrame) -> None:
    assert len(kept) + len(duplicates) == len(pool)
    assert set(kept["sample_id"]) | set(duplicates["sample_id"]) == set(pool["sample_id"])
    assert not set(kept["sample_id"]) & set(duplicates["sample_id"])
    assert list(kept.columns) == list(pool.columns)
    assert list(duplicates.columns) == [*pool.columns, *DUPLICATE_COLUMNS]
    assert set(duplicates["duplicate_of"]) <= set(kept["sample_id"])
    # kept rows stay in input order
    order = {sid: i for i, sid in enumerate(pool["sample_id"])}
    assert [order[s] for s in kept["sample_id"]] == sorted(order[s] for s in kept["sample_id"])


def test_exact_duplicates_up_to_layout_and_comments() -> None:
    pool = frame(BASE, REFORMATTED, BASE + "\n\n# trailing comment\n")
    kept, dups = dedup(pool)
    check_accounting(pool, kept, dups)
    assert kept["sample_id"].tolist() == ["s0"]
    assert dups[["sample_id", "duplicate_of", "kind", "method"]].values.tolist() == [
        ["s1", "s0", "exact", "normalized"],
        ["s2", "s0", "exact", "normalized"],
    ]


def test_unparsable_code_falls_back_to_whitespace() -> None:
    broken = "def f(:\n    return  1\n"
    pool = frame(broken, "def f(:\n  return 1", "def g(:\n    return 1\n")
    kept, dups = dedup(pool)
    check_accounting(pool, kept, dups)
    assert kept["sample_id"].tolist() == ["s0", "s2"]
    assert dups[["sample_id", "duplicate_of", "kind", "method"]].values.tolist() == [
        ["s1", "s0", "exact", "whitespace"]
    ]


def test_near_duplicates_renamed_locals_docstrings_messages_hints() -> None:
    pool = frame(BASE, RENAMED)
    kept, dups = dedup(pool, jaccard_threshold=None)
    check_accounting(pool, kept, dups)
    assert dups[["sample_id", "duplicate_of", "kind", "method", "similarity"]].values.tolist() == [
        ["s1", "s0", "near", "ast", 1.0]
    ]
    assert structural_key(BASE) == structural_key(RENAMED)


def test_near_duplicate_by_token_jaccard() -> None:
    pool = frame(BASE, EDITED)
    assert structural_key(BASE) != structural_key(EDITED)
    kept, dups = dedup(pool)
    check_accounting(pool, kept, dups)
    assert dups[["sample_id", "kind", "method"]].values.tolist() == [["s1", "near", "minhash"]]
    assert 0.9 <= dups["similarity"].iloc[0] < 1.0
    # MinHash off: only exact and structural duplicates count
    kept, dups = dedup(pool, jaccard_threshold=None)
    assert len(kept) == 2 and dups.empty


def test_different_programs_are_kept() -> None:
    # parameter names, public function names and behavioural strings are part of the program
    renamed_param = BASE.replace("window", "size")
    other_role = BASE.replace('raise ValueError("window must be at least 1")', 'return ["window"]')
    pool = frame(BASE, DIFFERENT, renamed_param, other_role, BASE.replace("spread", "dispersion"))
    kept, dups = dedup(pool, jaccard_threshold=None)
    check_accounting(pool, kept, dups)
    assert dups.empty
    kept, dups = dedup(frame(BASE, DIFFERENT))
    assert dups.empty


def test_behavioural_strings_are_not_canonicalised() -> None:
    tool = 'def f(m):\n    m.append({"role": "tool", "content": "x"})\n'
    user = 'def f(m):\n    m.append({"role": "user", "content": "x"})\n'
    assert structural_key(tool) != structural_key(user)


def test_same_code_in_other_tasks_is_not_a_duplicate() -> None:
    pool = pd.concat([frame(BASE), frame(BASE, task="fft/transform")], ignore_index=True)
    pool["sample_id"] = ["a", "b"]
    kept, dups = dedup(pool)
    assert len(kept) == 2 and dups.empty


def test_highest_coverage_wins_ties_by_input_order() -> None:
    pool = frame(BASE, RENAMED, REFORMATTED, coverage=[85.0, 97.0, 97.0])
    kept, dups = dedup(pool)
    check_accounting(pool, kept, dups)
    assert kept["sample_id"].tolist() == ["s1"]
    assert dict(zip(dups["sample_id"], dups["duplicate_of"], strict=True)) == {"s0": "s1", "s2": "s1"}
    assert duplicate_counts(dups) == {"near/ast": 2}
    # without a coverage column: first in input order
    kept, _ = dedup(pool.drop(columns="coverage"))
    assert kept["sample_id"].tolist() == ["s0"]


def test_empty_pool() -> None:
    pool = frame()
    kept, dups = dedup(pool)
    assert kept.empty and dups.empty and list(dups.columns) == [*pool.columns, *DUPLICATE_COLUMNS]
    assert duplicate_counts(dups) == {}


def correct_bundled() -> pd.DataFrame:
    rows = []
    for task in task_ids():
        labels = load_labels(task)
        rows += [r for sid, r in load_samples(task).items() if labels[sid]["label"] == "correct"]
    return pd.DataFrame(rows)


def test_bundled_correct_samples_are_all_distinct() -> None:
    pool = correct_bundled()
    kept, dups = dedup(pool)
    assert len(pool) == 106
    assert len(kept) == 106 and dups.empty


@pytest.mark.parametrize(
    "rewrite",
    [
        "rename_locals",
        "strip_docstrings",
        "alter_docstrings",
        "remove_type_hints",
        "add_type_hints",
        "reformat",
    ],
)
def test_semantics_preserving_rewrites_of_bundled_samples_are_caught(rewrite: str) -> None:
    """The corpus generator's cosmetic rewrites of every correct sample are duplicates of it."""
    pool = correct_bundled()
    variants = []
    for row in pool.to_dict("records"):
        out = REWRITES[rewrite](row["code"], random.Random(7))
        if out is not None:
            variants.append({**row, "sample_id": f"{row['sample_id']}~{rewrite}", "code": out})
    assert variants
    both = pd.concat([pool, pd.DataFrame(variants)], ignore_index=True)
    kept, dups = dedup(both, jaccard_threshold=None)
    check_accounting(both, kept, dups)
    assert len(kept) == 106
    assert (dups["sample_id"].str.split("~").str[0] == dups["duplicate_of"]).all()


def test_renaming_is_per_scope() -> None:
    """Renaming a local in one function only still matches (names are canonical per scope)."""
    code = "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n\n\n"
    code += "def g(xs):\n    total = 1\n    for x in xs:\n        total *= x\n    return total\n"
    renamed_in_f = code.replace("total", "acc", 3)
    assert renamed_in_f.count("acc") == 3 and renamed_in_f.count("total") == 3
    assert structural_key(code) == structural_key(renamed_in_f)
    # but a module-level name read by a function is one name everywhere
    glob = "LIMIT = 3\n\n\ndef f(xs):\n    return xs[:LIMIT]\n"
    assert structural_key(glob) == structural_key(glob.replace("LIMIT", "_CAP"))
    assert structural_key(glob) != structural_key("LIMIT = 3\n\n\ndef f(xs):\n    return xs[:OTHER]\n")
