"""The DPO pairs as a ``datasets.Dataset`` in TRL's conversational preference format."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datasets import Dataset

PREFERENCE_COLUMNS = ("prompt", "chosen", "rejected")
_FORMATS = {".parquet": "parquet", ".jsonl": "json", ".json": "json"}


class PairsFileError(ValueError):
    """The pairs file is missing, of an unknown format, or not in the preference format."""


def load_pairs(path: Path | str) -> Dataset:
    """``pairs.parquet`` or ``pairs.jsonl`` (as written by ``dpo_pairs``) loaded with ``datasets``.

    Raises :class:`PairsFileError` naming the file when it is missing, empty of rows, or lacks
    the ``prompt``/``chosen``/``rejected`` message-list columns.
    """
    from datasets import load_dataset

    path = Path(path)
    kind = _FORMATS.get(path.suffix)
    if kind is None:
        raise PairsFileError(f"{path}: unknown pairs format {path.suffix!r} (use .parquet or .jsonl)")
    if not path.is_file():
        raise PairsFileError(f"{path}: no pairs file; materialize dpo_pairs first (dpo-assets run)")
    dataset = load_dataset(kind, data_files=str(path), split="train")
    missing = [c for c in PREFERENCE_COLUMNS if c not in dataset.column_names]
    if missing:
        raise PairsFileError(f"{path}: not DPO pairs, missing column(s) {', '.join(missing)}")
    if len(dataset) == 0:
        raise PairsFileError(f"{path}: holds no pairs")
    return dataset
