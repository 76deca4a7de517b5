"""The issue's learning bar: DPO on the stand-in raises reward accuracy on held-out pairs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dpo_assets.tasks import task_ids
from dpo_assets.training.bundled_pairs import bundled_pairs
from dpo_assets.training.settings import TrainingSettings
from dpo_assets.training.trainer import train_dpo

ALL_PAIRS = bundled_pairs(12, tuple(task_ids()))  # every task: correct vs broken, by label


@pytest.mark.slow
def test_training_lifts_heldout_reward_accuracy_clearly_above_chance(tiny_base: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(tiny_base, models / "tiny-qwen2")
    pairs = tmp_path / "pairs.parquet"
    ALL_PAIRS.to_parquet(pairs, index=False)
    settings = TrainingSettings(heldout_fraction=0.25, save_steps=1000)  # the defaults otherwise
    result = train_dpo(settings, pairs, tmp_path / "run", models_dir=models)
    before, after = result.heldout_before, result.heldout_after
    print(f"held-out pairs {result.heldout_pairs}: reward accuracy {before} -> {after}")
    assert result.heldout_pairs >= 20
    assert before["rewards/accuracies"] == 0.0  # the adapter starts as the identity: no margin
    assert after["rewards/accuracies"] >= 0.65
    assert after["rewards/margins"] > 0
