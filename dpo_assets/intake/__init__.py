"""Layer 0: raw-sample intake from the bundled corpus and the inbox."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dpo_assets.intake.frames import domain_mix, read_sources, rejection_counts, to_frames
from dpo_assets.intake.validate import LineResult, Rejection, Sample, intake_lines
from dpo_assets.stage import StageFrames
from dpo_assets.tasks import load_catalog

__all__ = [
    "LineResult", "Rejection", "Sample", "discover_inputs", "domain_mix", "intake_files",
    "intake_lines", "rejection_counts",
]


def discover_inputs(*folders: Path) -> list[Path]:
    """Every ``*.jsonl`` file directly in ``folders``, sorted by name within each folder."""
    found: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            found.extend(sorted(p for p in folder.glob("*.jsonl") if p.is_file()))
    return found


def is_known_task(task_id: str) -> bool:
    return task_id in load_catalog()


def intake_files(paths: Iterable[Path], root: Path | None = None) -> tuple[list[LineResult], StageFrames]:
    """Run layer 0 over ``paths``: one result per line, plus the survivor/rejection tables."""
    results = list(intake_lines(read_sources(paths, root), is_known_task))
    return results, to_frames(results)
