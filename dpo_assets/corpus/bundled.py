"""The bundled corpus and its labels, per task (read-only helpers)."""

from __future__ import annotations

import json
from pathlib import Path

from dpo_assets import paths

LABEL_KINDS = ("correct", "broken", "hacking")


def task_file_stem(task_id: str) -> str:
    """``monte_carlo/metropolis`` -> ``monte_carlo__metropolis`` (the corpus file names)."""
    return task_id.replace("/", "__")


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_samples(task_id: str) -> dict[str, dict]:
    """The bundled raw samples of ``task_id``, by sample id, in file order."""
    rows = _read_jsonl(paths.bundled_dir() / f"{task_file_stem(task_id)}.jsonl")
    return {row["sample_id"]: row for row in rows}


def load_labels(task_id: str) -> dict[str, dict]:
    """The labels of ``task_id``'s bundled samples, by sample id, in file order."""
    rows = _read_jsonl(paths.labels_dir() / f"{task_file_stem(task_id)}.jsonl")
    return {row["sample_id"]: row for row in rows}
