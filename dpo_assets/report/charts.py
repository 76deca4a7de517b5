"""The report's charts as PNG files (matplotlib's Agg canvas: no display, no pyplot state).

Each function draws from plain tables, writes the PNG atomically and returns its path. The
PNGs carry no software or time stamp, so the same numbers give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dpo_assets.storage import atomic_path

DPI = 100
_BLUE, _ORANGE, _GREEN, _RED, _GREY = "#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8C8C8C"


def save_figure(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    return path


def _empty_note(axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color=_GREY)
    axes.set_xticks([])
    axes.set_yticks([])


def funnel_chart(table: pd.DataFrame, path: Path) -> Path:
    """Rows left after the raw lines, intake (layer 0) and each gate layer, as horizontal bars
    annotated with the count and the layer's shrinkage.

    ``table``: one row per layer with columns layer, name, in, passed, shrinkage_pct (as
    ``Funnel.table()``), layer 0 first."""
    labels = ["raw lines", *(f"{int(r.layer)} {r.name}" for r in table.itertuples())]
    counts = [int(table["in"].iloc[0]) if len(table) else 0, *(int(v) for v in table["passed"])]
    notes = ["", *(f"−{float(p):.1f}%" if float(p) else "±0%" for p in table["shrinkage_pct"])]
    figure = Figure(figsize=(8, max(3.0, 0.45 * len(labels) + 1.4)))
    axes = figure.add_subplot()
    y = np.arange(len(labels))
    axes.barh(y, counts, color=[_GREY, *[_BLUE] * (len(labels) - 2), _GREEN][: len(labels)])
    axes.set_yticks(y, labels)
    axes.invert_yaxis()
    top = max(counts, default=0) or 1
    axes.set_xlim(0, top * 1.3)
    for i, (count, note) in enumerate(zip(counts, notes)):
        label = f"{count:,}" + (f"  ({note})" if note else "")
        axes.text(count + top * 0.01, i, label, va="center", fontsize=9)
    raw, certified = counts[0], counts[-1]
    kept = f"{100.0 * certified / raw:.1f}%" if raw else "n/a"
    axes.set_title(f"Gate funnel: {raw:,} raw lines → {certified:,} certified ({kept} kept)")
    axes.set_xlabel("rows remaining")
    figure.tight_layout()
    return save_figure(figure, path)


def domain_mix_chart(mix: pd.DataFrame, path: Path) -> Path:
    """Each domain's share (%) of the raw lines, of the certified pool and, when the column is
    there, of the pairs, as grouped bars.

    ``mix``: columns domain, raw_share_pct, certified_share_pct, optional pairs_share_pct."""
    series = [("raw lines", "raw_share_pct", _GREY), ("certified", "certified_share_pct", _BLUE)]
    if "pairs_share_pct" in mix.columns:
        series.append(("pairs", "pairs_share_pct", _GREEN))
    figure = Figure(figsize=(max(6.0, 1.1 * len(mix) + 2), 4.5))
    axes = figure.add_subplot()
    if mix.empty:
        _empty_note(axes, "no samples")
    else:
        x = np.arange(len(mix))
        width = 0.8 / len(series)
        for k, (label, column, color) in enumerate(series):
            values = mix[column].astype(float).to_numpy()
            bars = axes.bar(x + (k - (len(series) - 1) / 2) * width, values, width, label=label, color=color)
            axes.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
        axes.set_xticks(x, mix["domain"].astype(str), rotation=30, ha="right")
        axes.set_ylabel("share (%)")
        axes.set_ylim(0, max(10.0, float(mix[[c for _, c, _ in series]].max().max())) * 1.15)
        axes.legend(frameon=False)
    axes.set_title("Domain mix before and after the gate")
    figure.tight_layout()
    return save_figure(figure, path)


def pairs_chart(
    by_domain: pd.DataFrame,
    by_layer: Mapping[int, int],
    unpaired: int,
    path: Path,
    layer_names: Mapping[int, str] | None = None,
) -> Path:
    """Pairs per domain (left) and the layer that rejected each pair's partner (right); the
    title counts the pairs and the unpaired chosen samples.

    ``by_domain``: columns domain, pairs; ``by_layer``: failed layer -> pairs; ``layer_names``
    label the layers (``7 edge``)."""
    figure = Figure(figsize=(10, 4.5))
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    if by_domain.empty:
        _empty_note(left, "no pairs")
    else:
        x = np.arange(len(by_domain))
        bars = left.bar(x, by_domain["pairs"].astype(int), color=_GREEN)
        left.bar_label(bars, fontsize=8, padding=1)
        left.set_xticks(x, by_domain["domain"].astype(str), rotation=30, ha="right")
        left.yaxis.set_major_locator(MaxNLocator(integer=True))
        left.margins(y=0.12)  # room for the labels above the bars
        left.set_ylabel("pairs")
    left.set_title("pairs per domain")
    if not by_layer:
        _empty_note(right, "no partners")
    else:
        layers = sorted(by_layer)
        names = layer_names or {}
        labels = [f"{n} {names[n]}" if n in names else str(n) for n in layers]
        x = np.arange(len(layers))
        bars = right.bar(x, [by_layer[n] for n in layers], color=_RED)
        right.set_xticks(x, labels, rotation=30, ha="right")
        right.bar_label(bars, fontsize=8, padding=1)
        right.yaxis.set_major_locator(MaxNLocator(integer=True))
        right.margins(y=0.12)
        right.set_xlabel("layer that rejected the partner")
        right.set_ylabel("pairs")
    right.set_title("rejected partner by failed layer")
    total = int(by_domain["pairs"].sum()) if len(by_domain) else 0
    figure.suptitle(f"DPO pairs: {total:,} pairs, {unpaired:,} chosen samples unpaired")
    figure.tight_layout()
    return save_figure(figure, path)
