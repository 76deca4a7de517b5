"""lora_checkpoint: a few real DPO steps on the stand-in base, in a process of its own; resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from safetensors import safe_open

from dpo_assets.defs.training_assets import LoraTrainingConfig, lora_checkpoint
from dpo_assets.training.launch import run_training_process, work_dir_for
from dpo_assets.training.settings import TrainingSettings
from dpo_assets.training.trainer import ADAPTER_FILES, LOG_FILE, TrainingError

FAST = {"epochs": 1.0, "pairs_per_step": 4, "max_length": 2048, "save_steps": 1, "heldout_fraction": 0.25}


def _stand_in(tiny_base: Path, models: Path) -> Path:
    """``models`` with the session's stand-in copied in (no rebuild per test)."""
    shutil.copytree(tiny_base, models / "tiny-qwen2")
    return models


def test_trains_a_few_steps_and_writes_the_adapter(
    data_root: Path, tiny_base: Path, small_pairs: Path, tmp_path: Path
) -> None:
    models = _stand_in(tiny_base, data_root / "models")
    (data_root / "pairs").mkdir()
    shutil.copy(small_pairs, data_root / "pairs" / "pairs.parquet")
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        result = dg.materialize(
            [lora_checkpoint],
            instance=instance,
            run_config={"ops": {"lora_checkpoint": {"config": FAST}}},
            selection=[lora_checkpoint],
        )
    assert result.success
    meta = {
        k: v.value for k, v in result.asset_materializations_for_node("lora_checkpoint")[0].metadata.items()
    }
    adapter = Path(meta["adapter_dir"])
    assert adapter.parent.parent == models / "lora"
    assert sorted(p.name for p in adapter.iterdir() if p.is_dir()) == []  # no ref/ or default/ copy
    for name in (*ADAPTER_FILES, LOG_FILE, "tokenizer.json"):
        assert (adapter / name).is_file(), name
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(models / "tiny-qwen2") == meta["base_model"]
    assert config["r"] == 16 and config["lora_alpha"] == 32 and config["peft_type"] == "LORA"
    assert set(config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                             "down_proj"}  # fmt: skip
    with safe_open(str(adapter / "adapter_model.safetensors"), "pt") as weights:
        names = list(weights.keys())
    assert names and all("lora_A" in n or "lora_B" in n for n in names)
    assert not any(".ref." in n for n in names)

    # 9 training pairs (3 per task held out 1), 4 per step: 3 steps; each step logged.
    assert meta["train_pairs"] == 9 and meta["heldout_pairs"] == 3 and meta["steps"] == 3
    assert meta["reused_finished_run"] is False
    for key in ("loss_per_step", "reward_margins_per_step", "reward_accuracies_per_step"):
        assert len(meta[key]) == 3, key
    assert meta["heldout_reward_accuracy_before"] == 0.0  # policy == reference: no margin yet
    assert 0.0 <= meta["heldout_reward_accuracy"] <= 1.0
    assert meta["device"].startswith("cpu") and meta["backend"] == "trl" and meta["stand_in_base"]
    assert meta["wall_seconds"] > 0 and meta["tokens_per_second"] > 0
    assert Path(meta["curves_png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert meta["curves"].startswith("![training curves](data:image/png;base64,")
    result = json.loads((adapter.parent / "training_result.json").read_text())
    assert result["unsloth_imported"] is False  # the CPU path never imports unsloth
    logged = [json.loads(line) for line in (adapter / LOG_FILE).read_text().splitlines()]
    assert [entry["step"] for entry in logged] == [1, 2, 3]


def test_a_killed_training_resumes_from_its_last_checkpoint(
    tiny_base: Path, small_pairs: Path, tmp_path: Path
) -> None:
    models = _stand_in(tiny_base, tmp_path / "models")
    settings = TrainingSettings(**{**FAST, "epochs": 2.0, "pairs_per_step": 3})  # 6 steps
    work = work_dir_for(tmp_path / "lora", settings, small_pairs)
    work.mkdir(parents=True)
    (work / "settings.json").write_text(json.dumps(settings.to_json()))
    child = subprocess.Popen(
        [sys.executable, "-m", "dpo_assets.training.worker", "--settings", str(work / "settings.json"),
         "--pairs", str(small_pairs), "--work-dir", str(work), "--models-dir", str(models)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (work / "checkpoints" / "checkpoint-2").is_dir():
        assert child.poll() is None, "training ended before its second checkpoint"
        assert time.monotonic() < deadline, "no second checkpoint within 120 s"
        time.sleep(0.2)
    time.sleep(0.5)  # let the checkpoint's files land
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    assert not (work / "adapter").exists()

    events: list[dict] = []
    result = run_training_process(settings, small_pairs, work, on_event=events.append, models_dir=models)
    assert result["resumed_from_step"] >= 2 and result["steps"] == 6
    resumed_steps = [e["step"] for e in events if e.get("event") == "log" and "loss" in e]
    assert resumed_steps and min(resumed_steps) > result["resumed_from_step"]
    assert max(resumed_steps) == 6
    assert [h["step"] for h in result["history"]] == list(range(1, 7))  # the log spans both processes
    assert (work / "adapter" / "adapter_model.safetensors").is_file()


def test_a_missing_pairs_file_is_a_clear_error(tiny_base: Path, tmp_path: Path) -> None:
    models = _stand_in(tiny_base, tmp_path / "models")
    with pytest.raises(TrainingError, match=r"no pairs file; materialize dpo_pairs first"):
        run_training_process(TrainingSettings(), tmp_path / "pairs.parquet", tmp_path / "run",
                             on_event=lambda e: None, models_dir=models)  # fmt: skip


def test_config_maps_onto_settings() -> None:
    settings = LoraTrainingConfig(lora_r=8, target_modules=["q_proj"], learning_rate=1e-4).settings()
    assert settings == TrainingSettings(lora_r=8, target_modules=("q_proj",), learning_rate=1e-4)


def test_training_sits_in_the_gpu_pool_of_one(tmp_path: Path) -> None:
    from dpo_assets.defs import defs
    from dpo_assets.paths import REPO_ROOT

    asset = defs.get_assets_def("lora_checkpoint")
    assert asset.node_def.pool == "gpu" and next(iter(asset.specs)).group_name == "training"
    shutil.copy(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
    job = defs.resolve_job_def("curation_job")
    curated = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert {"dpo_pairs", "iteration_report"} <= curated and "lora_checkpoint" not in curated
