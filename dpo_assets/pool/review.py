"""The review queue: a few certified samples a person reads before training, and the sign-off.

The cheapest insurance against a gate blind spot is a human reading a handful of chosen
samples. :func:`pick_queue` draws ``size`` of them at random (seeded) from the bottom quartile
of layer-8 coverage, where blind spots hide best; :func:`render_sample` shows each as
Markdown (task, code, coverage, what each gate layer checked); a reviewer records a verdict
per sample id in a small JSON file (:func:`load_signoff`), and :func:`review_status` says
whether the current queue is signed off.

Sign-off file (``data/review/signoff.json`` by default)::

    {"<sample_id>": {"verdict": "approved" | "rejected", "reviewer": "name", "note": "..."}}
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dpo_assets.tasks.base import Task

DEFAULT_SIZE = 7
VERDICTS = ("approved", "rejected")


def bottom_quartile(pool: pd.DataFrame) -> pd.DataFrame:
    """The rows whose coverage is at most the pool's 25th percentile (all rows if it is small)."""
    if pool.empty:
        return pool
    coverage = pool["coverage"].astype(float).fillna(0.0)
    cut = float(coverage.quantile(0.25, interpolation="higher"))
    return pool[coverage <= cut]


def pick_queue(pool: pd.DataFrame, size: int = DEFAULT_SIZE, seed: int = 0) -> pd.DataFrame:
    """``size`` samples drawn at random (seeded) from the bottom coverage quartile, topped up
    from the rest of the pool (lowest coverage first) when the quartile is smaller."""
    if size < 0:
        raise ValueError("the review queue size must be >= 0")
    ordered = pool.sort_values(["coverage", "sample_id"], kind="stable")
    quartile = bottom_quartile(ordered)
    ids = sorted(quartile["sample_id"])
    picked = random.Random(seed).sample(ids, min(size, len(ids)))
    if len(picked) < size:
        rest = [i for i in ordered["sample_id"] if i not in set(picked)]
        picked += rest[: size - len(picked)]
    by_id = pool.set_index("sample_id", drop=False)
    return by_id.loc[picked].reset_index(drop=True)


def gate_checks(task: Task) -> dict[str, str]:
    """What each gate layer checked for ``task``: every queued sample passed all of it."""
    examples = sum(spec.max_examples for spec in task.properties)
    return {
        "layer 1 invariant": f"{len(task.invariants)} invariant calls held",
        "layer 2 differential": f"{len(task.differential)} cases agreed with the reference",
        "layer 3 property": f"{len(task.properties)} Hypothesis properties, up to {examples} examples",
        "layer 4 fuzz": f"{len(task.fuzz)} adversarial cases",
        "layer 5 semantic": "no known bug pattern in the AST",
        "layer 6 dataflow": f"{len(task.dataflow)} state-update rules held",
        "layer 7 edge": f"{len(task.edge)} edge cases within {task.edge_seconds:g} s",
        "layer 8 coverage": "the task's pytest suite passed (coverage above)",
    }


def render_sample(row: Mapping, checks: Mapping[str, str] | None = None) -> str:
    """One queued sample as Markdown: task, coverage, what each layer checked, the code."""
    coverage = row.get("coverage")
    cov = (
        "not measured"
        if coverage is None or (isinstance(coverage, float) and math.isnan(coverage))
        else (f"{float(coverage):.1f} %")
    )
    lines = [f"### `{row['sample_id']}` ({row['task_id']})", "", f"- layer-8 coverage: **{cov}**"]
    for layer, text in (checks or {}).items():
        lines.append(f"- {layer}: {text}")
    lines += ["", "```python", str(row["code"]).rstrip(), "```", ""]
    return "\n".join(lines)


def render_queue(queue: pd.DataFrame, checks: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The whole queue as one Markdown page, with how to sign it off."""
    head = [
        "# Review queue",
        "",
        f"{len(queue)} certified samples from the bottom coverage quartile. Read each and record a "
        "verdict per sample id in the sign-off file (`approved` or `rejected`, your name, a note).",
        "",
    ]
    body = [render_sample(row, (checks or {}).get(row["task_id"])) for row in queue.to_dict("records")]
    return "\n".join(head + body)


@dataclass(frozen=True)
class SignOff:
    verdict: str
    reviewer: str = ""
    note: str = ""


class SignOffError(ValueError):
    """The sign-off file is not what :mod:`dpo_assets.pool.review` documents."""


def load_signoff(path: Path) -> dict[str, SignOff]:
    """The verdicts recorded in ``path`` (a missing file: none yet)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SignOffError(f"{path}: cannot read the sign-off file: {exc}") from None
    if not isinstance(data, dict):
        raise SignOffError(f"{path}: expected an object mapping sample ids to verdicts")
    out: dict[str, SignOff] = {}
    for sample_id, entry in data.items():
        if not isinstance(entry, dict) or entry.get("verdict") not in VERDICTS:
            raise SignOffError(f"{path}: {sample_id!r} needs a verdict, one of {', '.join(VERDICTS)}")
        out[sample_id] = SignOff(entry["verdict"], str(entry.get("reviewer", "")), str(entry.get("note", "")))
    return out


@dataclass
class ReviewStatus:
    """Where the current queue stands: ``signed`` only when every sample is approved."""

    approved: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def signed(self) -> bool:
        return not self.rejected and not self.missing

    def describe(self) -> str:
        if self.signed:
            return f"all {len(self.approved)} queued samples approved"
        parts = []
        if self.rejected:
            parts.append(f"rejected by the reviewer: {', '.join(self.rejected)}")
        if self.missing:
            parts.append(f"not reviewed yet: {', '.join(self.missing)}")
        return "; ".join(parts)


def review_status(queue_ids: Sequence[str], signoff: Mapping[str, SignOff]) -> ReviewStatus:
    status = ReviewStatus()
    for sample_id in queue_ids:
        entry = signoff.get(sample_id)
        if entry is None:
            status.missing.append(sample_id)
        elif entry.verdict == "approved":
            status.approved.append(sample_id)
        else:
            status.rejected.append(sample_id)
    return status
