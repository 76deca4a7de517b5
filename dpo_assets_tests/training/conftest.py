"""Training fixtures: a small pairs file made from the bundled corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from dpo_assets.training.bundled_pairs import bundled_pairs

SMALL_PAIRS = bundled_pairs(4)  # read now: data_root later points the data folder elsewhere


@pytest.fixture
def small_pairs(tmp_path: Path) -> Path:
    """12 pairs (4 per short task) as pairs.parquet."""
    path = tmp_path / "pairs.parquet"
    SMALL_PAIRS.to_parquet(path, index=False)
    return path
