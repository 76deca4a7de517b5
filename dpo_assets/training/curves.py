"""The training curves (loss, reward margin, reward accuracy per step) as a PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from dpo_assets.report.charts import save_figure

PANELS = (
    ("loss", "DPO loss", "#4C72B0"),
    ("rewards/margins", "reward margin (chosen - rejected)", "#55A868"),
    ("rewards/accuracies", "reward accuracy (train batch)", "#DD8452"),
)


def series(history: Sequence[dict[str, Any]], key: str) -> list[tuple[int, float]]:
    """(step, value) of ``key`` in the training log, in step order."""
    return sorted(
        (int(entry["step"]), float(entry[key])) for entry in history if key in entry and "step" in entry
    )


def curves_chart(
    history: Sequence[dict[str, Any]], path: Path, heldout: dict[str, float] | None = None
) -> Path:
    """Three panels over the optimiser steps; the held-out accuracy, when given, as a line."""
    figure = Figure(figsize=(11, 3.4))
    for index, (key, title, colour) in enumerate(PANELS, start=1):
        axes = figure.add_subplot(1, len(PANELS), index)
        points = series(history, key)
        if points:
            axes.plot(
                [s for s, _ in points], [v for _, v in points], marker="o", markersize=2.5, color=colour
            )
        axes.set_title(title, fontsize=10)
        axes.set_xlabel("step")
        axes.grid(alpha=0.3)
        if key == "rewards/accuracies":
            axes.set_ylim(-0.05, 1.05)
            axes.axhline(0.5, color="#8C8C8C", linewidth=0.8, linestyle=":")
            if heldout and "rewards/accuracies" in heldout:
                axes.axhline(heldout["rewards/accuracies"], color="#C44E52", linewidth=1.2, linestyle="--",
                             label=f"held-out after: {heldout['rewards/accuracies']:.2f}")  # fmt: skip
                axes.legend(loc="lower right", fontsize=8, frameon=False)
    figure.tight_layout()
    return save_figure(figure, path)
