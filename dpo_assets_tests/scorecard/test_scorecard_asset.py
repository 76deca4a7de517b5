"""The stand-in's whole model side on a small subset: train a few steps, then the scorecard
(generation with base and base + adapter, sandboxed scoring, comparison, GO / NO-GO, ledger)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dpo_assets.defs.scorecard_assets import scorecard
from dpo_assets.defs.training_assets import lora_checkpoint
from dpo_assets.evaldata import problems as ev
from dpo_assets.paths import REPO_ROOT
from dpo_assets.scorecard.compare import CATEGORIES

OFFLINE = REPO_ROOT.parent / "shared" / "data"
TRAIN = {"epochs": 1.0, "pairs_per_step": 6, "max_length": 2048, "heldout_fraction": 0.0}
SCORE = {"limit": 4, "max_new_tokens": 24, "batch_size": 4}


@pytest.mark.slow
@pytest.mark.skipif(not OFFLINE.is_dir(), reason="offline benchmark copies not found")
def test_train_then_score_on_a_small_subset(
    data_root: Path, tiny_base: Path, small_pairs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ev.ENV_VAR, str(OFFLINE))
    shutil.copytree(tiny_base, data_root / "models" / "tiny-qwen2")
    (data_root / "pairs").mkdir()
    shutil.copy(small_pairs, data_root / "pairs" / "pairs.parquet")
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        result = dg.materialize(
            [lora_checkpoint, scorecard],
            instance=instance,
            run_config={"ops": {"lora_checkpoint": {"config": TRAIN}, "scorecard": {"config": SCORE}}},
            raise_on_error=False,
        )
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "go_no_go")
    meta = {k: v.value for k, v in result.asset_materializations_for_node("scorecard")[0].metadata.items()}
    decision = meta["decision"]
    assert decision in {"GO", "NO-GO"} and check.passed == (decision == "GO")
    assert check.description.startswith(decision) and result.success  # a NO-GO is a finding, not an error
    if decision == "NO-GO":
        assert any(rule in check.description for rule in ("HumanEval Δ", "MBPP Δ", "grew by"))
    for bench in ("humaneval", "mbpp"):
        assert meta[f"{bench}_problems"] == 4
        assert 0.0 <= meta[f"{bench}_base_pass_at_1"] <= 1.0
        assert "p=" in meta[f"{bench}_mcnemar"]
    folder = Path(meta["folder"])
    for variant in ("base", "trained"):
        for bench in ("humaneval", "mbpp"):
            rows = [
                json.loads(line)
                for line in (folder / f"results_{variant}_{bench}.jsonl").read_text().splitlines()
            ]
            assert len(rows) == 4 and all(r["category"] in CATEGORIES for r in rows)
            samples = (folder / f"samples_{variant}_{bench}.jsonl").read_text().splitlines()
            assert len(samples) == 4
    ledger = pd.read_parquet(meta["ledger"])
    assert list(ledger["iteration_id"]) == [meta["iteration"]] and ledger["decision"][0] == decision
    assert (Path(meta["ledger"]).parent / "delta_per_iteration.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((folder / "decision.json").read_text())["decision"] == decision


def test_benchmark_data_falls_back_like_decontamination(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dpo_assets.defs.scorecard_assets import benchmark_data_dir

    monkeypatch.delenv(ev.ENV_VAR, raising=False)
    expected = str(ev.default_offline_dir()) if ev.default_offline_dir() else None
    assert benchmark_data_dir("") == expected  # the offline copies, else the packages (None)
    assert benchmark_data_dir(str(tmp_path)) == str(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        benchmark_data_dir(str(tmp_path / "missing"))
