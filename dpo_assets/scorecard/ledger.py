"""The iteration ledger: one Parquet row per training iteration's scorecard, and its Δpp chart.

Appending rewrites the whole (small) file atomically; appending an iteration_id that is already
there replaces that row in place, so re-materializing an iteration is idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dpo_assets.report.charts import save_figure
from dpo_assets.scorecard.compare import Comparison
from dpo_assets.scorecard.decision import Decision
from dpo_assets.storage import read_parquet, write_parquet

_BLUE, _ORANGE, _GREEN, _RED, _GREY = "#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8C8C8C"
_MARK = {"ha": "center", "va": "bottom", "fontsize": 9, "fontweight": "bold"}


@dataclass(frozen=True)
class LedgerEntry:
    """One iteration. pass@1 values are fractions in [0, 1]; deltas are percentage points."""

    iteration_id: str
    created_at: str  # ISO 8601, UTC
    pairs: int
    pool_size: int
    humaneval_base: float
    humaneval_trained: float
    humaneval_delta_pp: float
    mbpp_base: float
    mbpp_trained: float
    mbpp_delta_pp: float
    categories: str  # JSON: {"humaneval": [{category, base, trained, delta}, ...], "mbpp": [...]}
    humaneval_p_value: float
    mbpp_p_value: float
    decision: str  # "GO" or "NO-GO"
    failed_rules: str  # JSON list of strings
    adapter: str  # path of the adapter directory


_KINDS = {"str": "str", "int": "int64", "float": "float64"}
DTYPES: dict[str, str] = {f.name: _KINDS[f.type] for f in fields(LedgerEntry)}
COLUMNS: list[str] = list(DTYPES)


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def make_entry(
    iteration_id: str,
    comparisons: Mapping[str, Comparison],
    decision: Decision,
    *,
    pairs: int,
    pool_size: int,
    adapter: str | Path,
    created_at: str | None = None,
) -> LedgerEntry:
    """A ledger row from the "humaneval" and "mbpp" comparisons and the decision."""
    he, mb = comparisons["humaneval"], comparisons["mbpp"]
    categories = {key: c.categories.to_dict(orient="records") for key, c in comparisons.items()}
    return LedgerEntry(
        iteration_id=iteration_id,
        created_at=created_at or now_utc(),
        pairs=int(pairs),
        pool_size=int(pool_size),
        humaneval_base=he.base_pass_at_1,
        humaneval_trained=he.trained_pass_at_1,
        humaneval_delta_pp=he.delta_pp,
        mbpp_base=mb.base_pass_at_1,
        mbpp_trained=mb.trained_pass_at_1,
        mbpp_delta_pp=mb.delta_pp,
        categories=json.dumps(categories, default=int),
        humaneval_p_value=he.mcnemar.p_value,
        mbpp_p_value=mb.mcnemar.p_value,
        decision=decision.label,
        failed_rules=json.dumps(decision.failed_rules, ensure_ascii=False),
        adapter=str(adapter),
    )


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reindex(columns=COLUMNS).astype(DTYPES).reset_index(drop=True)


def load(path: Path) -> pd.DataFrame:
    """The ledger at ``path``, oldest iteration first; an empty frame with the columns if none."""
    if not path.exists():
        return _typed(pd.DataFrame(columns=COLUMNS))
    return _typed(read_parquet(path))


def append(path: Path, entry: LedgerEntry) -> pd.DataFrame:
    """Add ``entry`` to the ledger (replacing a row with the same iteration_id); returns the ledger."""
    if entry.decision not in ("GO", "NO-GO"):
        raise ValueError(f"decision must be 'GO' or 'NO-GO', got {entry.decision!r}")
    rows = load(path).to_dict(orient="records")
    positions = [i for i, r in enumerate(rows) if r["iteration_id"] == entry.iteration_id]
    if positions:
        rows[positions[0]] = asdict(entry)
        rows = [r for i, r in enumerate(rows) if i not in positions[1:]]
    else:
        rows.append(asdict(entry))
    ledger = _typed(pd.DataFrame(rows, columns=COLUMNS))
    write_parquet(path, ledger)
    return ledger


def delta_chart(ledger: pd.DataFrame, path: Path) -> Path:
    """Δpp vs base per iteration: HumanEval and MBPP bars side by side, a zero line, and each
    iteration's GO (green) / NO-GO (red) in a row above the plot. ``ledger`` as :func:`load`."""
    figure = Figure(figsize=(max(6.0, 1.2 * len(ledger) + 2.5), 4.5))
    axes = figure.add_subplot()
    if ledger.empty:
        note = "no iterations yet"
        axes.text(0.5, 0.5, note, ha="center", va="center", transform=axes.transAxes, color=_GREY)
        axes.set_xticks([])
        axes.set_yticks([])
    else:
        x = np.arange(len(ledger))
        width = 0.38
        series = [("HumanEval", "humaneval_delta_pp", _BLUE), ("MBPP", "mbpp_delta_pp", _ORANGE)]
        for k, (label, column, color) in enumerate(series):
            values = ledger[column].astype(float).to_numpy()
            bars = axes.bar(x + (k - 0.5) * width, values, width, label=label, color=color)
            axes.bar_label(bars, fmt="%+.2f", fontsize=7, padding=1)
        axes.axhline(0.0, color="black", linewidth=0.8)
        values = ledger[["humaneval_delta_pp", "mbpp_delta_pp"]].astype(float).to_numpy()
        low, high = min(0.0, float(values.min())), max(0.0, float(values.max()))
        span = (high - low) or 1.0
        axes.set_ylim(low - 0.15 * span, high + 0.25 * span)
        marks = axes.get_xaxis_transform()  # x in data, y in axes units: a row just above the plot
        for i, decision in enumerate(ledger["decision"]):
            color = _GREEN if decision == "GO" else _RED
            axes.text(i, 1.01, decision, transform=marks, color=color, **_MARK)
        center, half = (len(ledger) - 1) / 2, max(1.5, len(ledger) / 2)  # slim bars for a short ledger
        axes.set_xlim(center - half, center + half)
        axes.set_xticks(x, ledger["iteration_id"].astype(str), rotation=30, ha="right")
        axes.set_ylabel("Δ pass@1 vs base (pp)")
        axes.legend(frameon=False, loc="best")
    axes.set_title("Δpp vs base per iteration", pad=20)
    figure.tight_layout()
    return save_figure(figure, path)
