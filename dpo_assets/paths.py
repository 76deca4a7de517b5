"""Where the project keeps its data, overridable with environment variables."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Root of the data folder (``DPO_ASSETS_DATA``, default ``<repo>/data``)."""
    return Path(os.environ.get("DPO_ASSETS_DATA", REPO_ROOT / "data"))


def bundled_dir() -> Path:
    """The bundled corpus: raw-sample JSONL shipped with the project."""
    return data_dir() / "bundled"


def labels_dir() -> Path:
    """Ground-truth labels of the bundled corpus (used by tests and reports)."""
    return data_dir() / "labels"


def inbox_dir() -> Path:
    """Drop raw-sample JSONL here; the next ``raw_samples`` run takes it in."""
    return data_dir() / "inbox"


def storage_dir() -> Path:
    """Where materialized assets (Parquet) are written (``DPO_ASSETS_STORAGE``)."""
    return Path(os.environ.get("DPO_ASSETS_STORAGE", data_dir() / "runs"))


def review_dir() -> Path:
    """The review queue a human reads (``queue.md``) and the sign-off file (``signoff.json``)."""
    return data_dir() / "review"


def pairs_dir() -> Path:
    """The DPO preference pairs (``pairs.parquet``, ``pairs.jsonl``)."""
    return data_dir() / "pairs"


def models_dir() -> Path:
    """Model folders built or cached by the project (the offline stand-in base model)."""
    return data_dir() / "models"


def reports_dir() -> Path:
    """Iteration reports: ``latest/`` and one folder per run (``index.html``, ``index.md``, PNGs)."""
    return data_dir() / "reports"
