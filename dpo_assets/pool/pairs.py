"""DPO preference pairs: each certified sample with a rejected partner of the same task.

Partners come from the rejection ledger (candidates the gate rejected, with the layer that
rejected them) joined with their code. Preference, for each chosen sample:

1. repair tasks: a candidate with the same ``broken_code`` (the same prompt); only when none is
   left, any candidate of the task (``same_broken_code`` False in the pair);
2. near misses first: by failed layer, in ``LAYER_PREFERENCE`` order (7, 8, 6, 5, 4, 3, 2, 1);
   layer 0 (intake: not even a valid sample) is never a partner;
3. within a tier, a seeded random pick (the candidates of a task are shuffled by a
   ``random.Random`` seeded with ``seed`` and the task id, after sorting by sample id, so the
   result does not depend on row order).

A candidate is used at most once, and never paired with code identical to the chosen one.
Chosen samples are served best first (highest ``coverage``, then input order), so the best
samples get the nearest misses; with ``cap_per_domain`` the same order decides which pairs a
domain keeps. Every chosen sample ends in ``pairs`` or in ``unpaired`` (with a reason).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from dpo_assets.pool.dedup import exact_key
from dpo_assets.tasks.base import Task

LAYER_PREFERENCE: tuple[int, ...] = (7, 8, 6, 5, 4, 3, 2, 1)
_RANK = {layer: rank for rank, layer in enumerate(LAYER_PREFERENCE)}
NO_PARTNER = "no_rejected_partner"
DOMAIN_CAP = "domain_cap"
PAIR_COLUMNS = [
    "task_id", "domain", "chosen_id", "rejected_id", "rejected_layer", "rejected_reason",
    "same_broken_code", "chosen_coverage", "chosen_code", "rejected_code", "broken_code", "traceback",
]  # fmt: skip
UNPAIRED_COLUMNS = ["sample_id", "task_id", "domain", "coverage", "reason"]
TRL_METADATA = ["task_id", "domain", "chosen_id", "rejected_id", "rejected_layer"]


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def domain_of(task_id: str) -> str:
    """``monte_carlo/metropolis`` -> ``monte_carlo`` (as ``Task.domain``)."""
    return task_id.split("/", 1)[0]


def rejected_candidates(ledger: pd.DataFrame, samples: pd.DataFrame) -> pd.DataFrame:
    """The ledger's rejections (layers 1-8) with their code from the intake survivors table.

    Columns: sample_id, task_id, layer, reason, code, broken_code, traceback.
    """
    rejected = ledger[ledger["layer"].astype(int) > 0]
    keep = [c for c in ("sample_id", "task_id", "layer", "reason") if c in rejected.columns]
    code = samples[[c for c in ("sample_id", "code", "broken_code", "traceback") if c in samples.columns]]
    out = rejected[keep].merge(code, on="sample_id", how="inner", validate="many_to_one")
    return out.reset_index(drop=True)


def _priority(chosen: pd.DataFrame) -> list[int]:
    coverage = (
        pd.to_numeric(chosen["coverage"], errors="coerce").fillna(-np.inf).to_numpy()
        if "coverage" in chosen.columns
        else np.zeros(len(chosen))
    )
    return sorted(range(len(chosen)), key=lambda i: (-coverage[i], i))


def _candidate_order(candidates: pd.DataFrame, seed: int) -> dict[str, list[int]]:
    """Per task: positions of usable candidates (layers 1-8, non-empty code), preferred first."""
    layers = pd.to_numeric(candidates["layer"], errors="coerce").fillna(0).astype(int).tolist()
    ids = candidates["sample_id"].astype(str).tolist()
    codes = _column(candidates, "code")
    by_task: dict[str, list[int]] = defaultdict(list)
    for i, task in enumerate(candidates["task_id"].astype(str)):
        if layers[i] in _RANK and _text(codes[i]):
            by_task[task].append(i)
    ordered = {}
    for task, rows in by_task.items():
        rows.sort(key=lambda i: ids[i])
        random.Random(f"{seed}:{task}").shuffle(rows)
        rows.sort(key=lambda i: _RANK[layers[i]])  # stable: seeded order within a tier
        ordered[task] = rows
    return ordered


def pick_partners(
    chosen: pd.DataFrame,
    rejected_candidates: pd.DataFrame,
    seed: int,
    cap_per_domain: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pairs, unpaired): a rejected partner for each chosen sample (rules: module docstring).

    ``chosen``: sample_id, task_id, code, optional broken_code, traceback, coverage.
    ``rejected_candidates``: sample_id, task_id, code, layer, optional reason, broken_code
    (see ``rejected_candidates``). ``unpaired`` reasons: ``no_rejected_partner``, ``domain_cap``.
    """
    if cap_per_domain is not None and cap_per_domain < 0:
        raise ValueError("cap_per_domain must be >= 0")
    order = _priority(chosen)
    c_ids = chosen["sample_id"].astype(str).tolist()
    c_tasks = chosen["task_id"].astype(str).tolist()
    c_codes = chosen["code"].astype(str).tolist()
    c_broken = [_text(v) for v in _column(chosen, "broken_code")]
    r_broken = [_text(v) for v in _column(rejected_candidates, "broken_code")]
    r_codes = [_text(v) or "" for v in _column(rejected_candidates, "code")]
    preferred = _candidate_order(rejected_candidates, seed)
    used: set[int] = set()
    partner: dict[int, tuple[int, bool]] = {}

    def take(i: int, same_broken: bool) -> None:
        mine = exact_key(c_codes[i])
        for j in preferred.get(c_tasks[i], []):
            if j in used or (same_broken and r_broken[j] != c_broken[i]):
                continue
            if exact_key(r_codes[j]) == mine:
                continue
            used.add(j)
            partner[i] = (j, same_broken)
            return

    # Pass 1 keeps prompts identical (same broken module); pass 2 falls back to the task.
    for i in order:
        if c_broken[i] is not None:
            take(i, same_broken=True)
    for i in order:
        if i not in partner:
            take(i, same_broken=False)

    per_domain: Counter[str] = Counter()
    pair_rows, unpaired_rows = [], []
    coverage = _column(chosen, "coverage")
    r = rejected_candidates
    r_ids, r_layers, r_reasons = (
        r["sample_id"].astype(str).tolist(),
        _column(r, "layer"),
        _column(r, "reason"),
    )
    traces = _column(chosen, "traceback")
    for i in order:
        domain = domain_of(c_tasks[i])
        cov = None if _text(coverage[i]) is None else float(coverage[i])
        if i not in partner or (cap_per_domain is not None and per_domain[domain] >= cap_per_domain):
            reason = NO_PARTNER if i not in partner else DOMAIN_CAP
            unpaired_rows.append((c_ids[i], c_tasks[i], domain, cov, reason))
            continue
        per_domain[domain] += 1
        j, _ = partner[i]
        pair_rows.append(
            (
                c_tasks[i], domain, c_ids[i], r_ids[j], int(r_layers[j]), _text(r_reasons[j]) or "",
                c_broken[i] is not None and r_broken[j] == c_broken[i], cov, c_codes[i], r_codes[j],
                c_broken[i], _text(traces[i]),
            )
        )  # fmt: skip
    pairs = pd.DataFrame(pair_rows, columns=PAIR_COLUMNS).astype(
        {"rejected_layer": "int64", "chosen_coverage": "float64", "same_broken_code": "bool"}
    )
    unpaired = pd.DataFrame(unpaired_rows, columns=UNPAIRED_COLUMNS).astype({"coverage": "float64"})
    assert len(pairs) + len(unpaired) == len(chosen), "pair accounting: a chosen sample was lost"
    return pairs, unpaired


def fenced(code: str) -> str:
    """``code`` as a fenced python block (the assistant turn)."""
    return f"```python\n{code.strip(chr(10))}\n```"


def to_trl_rows(pairs: pd.DataFrame, tasks: Mapping[str, Task]) -> list[dict[str, Any]]:
    """TRL conversational preference rows (``prompt``/``chosen``/``rejected`` message lists)
    plus metadata (task_id, domain, chosen_id, rejected_id, rejected_layer).

    The prompt is the chosen sample's: ``Task.prompt(broken_code, traceback)`` (repair tasks
    show that broken module and report; other tasks ignore both).
    """
    rows = []
    for pair in pairs.to_dict("records"):
        task = tasks[pair["task_id"]]
        prompt = task.prompt(_text(pair.get("broken_code")), _text(pair.get("traceback")))
        rows.append(
            {
                "prompt": [{"role": "user", "content": prompt}],
                "chosen": [{"role": "assistant", "content": fenced(pair["chosen_code"])}],
                "rejected": [{"role": "assistant", "content": fenced(pair["rejected_code"])}],
                "task_id": pair["task_id"],
                "domain": task.domain,
                "chosen_id": pair["chosen_id"],
                "rejected_id": pair["rejected_id"],
                "rejected_layer": int(pair["rejected_layer"]),
            }
        )
    return rows


def domain_mix(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs per domain with their share (columns domain, pairs, share), by domain."""
    if pairs.empty:
        return pd.DataFrame({"domain": [], "pairs": [], "share": []}).astype({"pairs": "int64"})
    mix = pairs.groupby("domain", as_index=False).size().rename(columns={"size": "pairs"})
    mix["share"] = (mix["pairs"] / mix["pairs"].sum()).round(4)
    return mix.sort_values("domain").reset_index(drop=True)


def rejected_by_layer(pairs: pd.DataFrame) -> dict[int, int]:
    """Pairs by the layer that rejected the partner, by layer."""
    counts = Counter(int(v) for v in pairs["rejected_layer"]) if len(pairs) else Counter()
    return dict(sorted(counts.items()))
