"""``lora_checkpoint``: DPO training of a LoRA adapter on the pairs, in a process of its own.

Thin wiring over :mod:`dpo_assets.training`: the asset turns its config into
:class:`~dpo_assets.training.settings.TrainingSettings`, runs the worker process, and describes
the result (curves, held-out reward accuracy, throughput) in its metadata.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
from pydantic import Field

from dpo_assets import paths
from dpo_assets.defs.metadata import embedded_png
from dpo_assets.storage import atomic_text
from dpo_assets.training.curves import curves_chart, series
from dpo_assets.training.launch import run_training_process, work_dir_for
from dpo_assets.training.settings import QWEN2_TARGETS, REAL_BASE, TrainingSettings

GROUP = "training"
GPU_POOL = "gpu"


class LoraTrainingConfig(dg.Config):
    """Run config of ``lora_checkpoint`` (unset knobs: the base's profile, see settings.py)."""

    base_model: str = Field(
        default="",
        description=f"Hub id or local folder of the base (real run: {REAL_BASE}). Empty: the offline "
        "stand-in (tiny Qwen2 built once under data/models/).",
    )
    backend: str = Field(
        default="auto", description="auto | trl | unsloth (auto: unsloth on CUDA if installed)"
    )
    load_in_4bit: str = Field(default="auto", description="auto | on | off (auto: CUDA + bitsandbytes)")
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] = Field(default_factory=lambda: list(QWEN2_TARGETS))
    beta: float = 0.1
    learning_rate: float | None = Field(default=None, description="Empty: 5e-6 (real base), 2e-3 (stand-in)")
    epochs: float = 3.0
    per_device_batch_size: int | None = Field(default=None, description="Empty: from free device memory")
    gradient_accumulation_steps: int | None = Field(default=None, description="Empty: pairs_per_step / batch")
    pairs_per_step: int = 8
    max_length: int = 4096
    gradient_checkpointing: str = Field(default="auto", description="auto | on | off")
    precompute_ref_log_probs: str = Field(default="auto", description="auto | on | off")
    heldout_fraction: float = Field(default=0.15, description="Pairs kept out of training to score it")
    save_steps: int = Field(default=5, description="Checkpoint every N steps (an interrupted run resumes)")
    seed: int = 0

    def settings(self) -> TrainingSettings:
        data = self.model_dump()
        data["target_modules"] = tuple(data["target_modules"])
        return TrainingSettings(**data)


def latest_file() -> Path:
    """Where the newest adapter is named for the stages after training."""
    return paths.models_dir() / "lora" / "latest.json"


def write_latest(result: dict[str, Any], curves: Path) -> None:
    summary = {k: v for k, v in result.items() if k != "history"}
    with atomic_text(latest_file()) as handle:
        json.dump({**summary, "curves_png": str(curves)}, handle, indent=1)


def pairs_file() -> Path:
    return paths.pairs_dir() / "pairs.parquet"


def _log_event(context: dg.AssetExecutionContext, event: dict[str, Any]) -> None:
    if event.get("event") == "log" and "loss" in event:
        acc, margin = event.get("rewards/accuracies"), event.get("rewards/margins")
        context.log.info(
            f"step {event['step']}/{event.get('of', '?')}: loss {event['loss']:.4f}"
            + (f", reward accuracy {acc:.2f}" if acc is not None else "")
            + (f", margin {margin:.3f}" if margin is not None else "")
        )
    elif event.get("event") == "log" and "eval_rewards/accuracies" in event:
        context.log.info(
            f"held-out at step {event['step']}: reward accuracy {event['eval_rewards/accuracies']:.3f}"
        )
    elif event.get("event") == "error":
        context.log.error(event["message"])


def training_metadata(result: dict[str, Any], curves: Path) -> dict[str, Any]:
    history = result["history"]
    before, after = result["heldout_before"], result["heldout_after"]
    base = result["base"]
    meta: dict[str, Any] = {
        "adapter_dir": dg.MetadataValue.path(result["adapter_dir"]),
        "base_model": base["official_id"],
        "base_loaded_from": base["load_from"],
        "base_rewrite": base["rewrite"] or "none",
        "stand_in_base": base["stand_in"],
        "backend": result["backend"],
        "device": result["device"],
        "memory_plan": result["memory_plan"],
        "train_pairs": result["train_pairs"],
        "heldout_pairs": result["heldout_pairs"],
        "steps": result["steps"],
        "resumed_from_step": result["resumed_from_step"] if result["resumed_from_step"] is not None else "no",
        # The same settings and pairs were trained to the end before: nothing was trained again.
        "reused_finished_run": result["resumed_from_step"] == result["steps"],
        "wall_seconds": result["wall_seconds"],
        "tokens_per_second": result["tokens_per_second"],
        "final_loss": history[-1]["loss"] if history else float("nan"),
        "curves_png": dg.MetadataValue.path(str(curves)),
        "curves": embedded_png(curves, "training curves"),
    }
    for key in ("loss", "rewards/margins", "rewards/accuracies"):
        name = key.replace("rewards/", "reward_")
        meta[f"{name}_per_step"] = dg.MetadataValue.json([v for _, v in series(history, key)])
    if after:
        meta["heldout_reward_accuracy"] = after.get("rewards/accuracies", float("nan"))
        meta["heldout_reward_margin"] = after.get("rewards/margins", float("nan"))
        meta["heldout_loss"] = after.get("loss", float("nan"))
    if before:
        meta["heldout_reward_accuracy_before"] = before.get("rewards/accuracies", float("nan"))
    return meta


@dg.asset(
    group_name=GROUP,
    deps=["dpo_pairs"],
    pool=GPU_POOL,
    output_required=False,
    code_version="lora-checkpoint-v1",
    description="A LoRA adapter trained with DPO on data/pairs/pairs.parquet (TRL DPOTrainer + PEFT, "
    "Unsloth on CUDA when installed; the reference is the base with the adapter off). Runs in its own "
    "process, in the Dagster pool 'gpu'; an interrupted run resumes from its last checkpoint. Output: "
    "data/models/lora/<settings>-<pairs>/adapter (adapter_config.json + safetensors, tokenizer, log). "
    "With no pairs it is skipped (not materialized), and so is everything after it.",
)
def lora_checkpoint(
    context: dg.AssetExecutionContext, config: LoraTrainingConfig
) -> Iterator[dg.MaterializeResult]:
    pairs = pairs_file()
    if not pairs.is_file():
        raise FileNotFoundError(f"{pairs}: no pairs file; materialize dpo_pairs first")
    if pq.ParquetFile(pairs).metadata.num_rows == 0:
        context.log.warning(f"lora_checkpoint skipped: {pairs} holds no pairs (an empty certified pool?)")
        return
    settings = config.settings()
    work_dir = work_dir_for(paths.models_dir() / "lora", settings, pairs)
    context.log.info(f"training in {work_dir} (settings {settings.fingerprint()})")
    result = run_training_process(
        settings,
        pairs,
        work_dir,
        on_event=lambda event: _log_event(context, event),
        models_dir=paths.models_dir(),
    )
    curves = curves_chart(result["history"], work_dir / "curves.png", result["heldout_after"])
    meta = training_metadata(result, curves)
    context.log.info(
        f"adapter {result['adapter_dir']}: {result['steps']} steps in {result['wall_seconds']} s, "
        f"held-out reward accuracy {meta.get('heldout_reward_accuracy', 'n/a')}"
    )
    write_latest(result, curves)
    yield dg.MaterializeResult(metadata=meta)


training_assets = [lora_checkpoint]
