"""DPO on the pairs with a LoRA adapter: TRL ``DPOTrainer`` + PEFT, or Unsloth on a GPU.

The reference model is the base with the adapter switched off (``ref_model=None``), never a
second copy. Checkpoints land in ``<work_dir>/checkpoints`` every ``save_steps`` optimiser
steps; a second call with the same work folder resumes from the last one. The finished
adapter (``adapter_config.json`` + ``adapter_model.safetensors``, tokenizer, training log)
is written to ``<work_dir>/adapter`` atomically.

Import cost: torch/transformers/TRL load inside the functions, so the Dagster code location
stays light; Unsloth is imported (first, as it requires) only on the Unsloth backend.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dpo_assets.storage import atomic_text
from dpo_assets.training.base_model import BaseModel, resolve_base
from dpo_assets.training.memory_plan import free_device_memory, plan_memory
from dpo_assets.training.settings import TrainingSettings, steps_for

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
LOG_FILE = "training_log.jsonl"
RESULT_FILE = "training_result.json"
CURVE_KEYS = ("loss", "rewards/margins", "rewards/accuracies")

LogSink = Callable[[dict[str, Any]], None]
_SWITCH = {"on": True, "off": False}


class TrainingError(RuntimeError):
    """The run cannot start or finish (bad configuration, missing backend, no pairs)."""


@dataclass
class TrainingResult:
    adapter_dir: str
    base: dict[str, Any]
    backend: str
    device: str
    settings: dict[str, Any]
    memory_plan: str
    train_pairs: int
    heldout_pairs: int
    steps: int
    resumed_from_step: int | None
    wall_seconds: float
    train_tokens: int
    tokens_per_second: float
    heldout_before: dict[str, float]
    heldout_after: dict[str, float]
    history: list[dict[str, Any]]
    unsloth_imported: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- choices


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def select_backend(settings: TrainingSettings, *, cuda: bool, unsloth_installed: bool) -> str:
    """``unsloth`` when configured, or on auto when CUDA and unsloth are both present; else ``trl``."""
    if settings.backend == "unsloth":
        if not (cuda and unsloth_installed):
            missing = "a CUDA device" if not cuda else "the unsloth package (pip install '.[gpu]')"
            raise TrainingError(f"backend 'unsloth' was configured, but {missing} is missing")
        return "unsloth"
    if settings.backend == "auto" and cuda and unsloth_installed and not settings.uses_stand_in:
        return "unsloth"
    return "trl"


def wants_4bit(settings: TrainingSettings, *, cuda: bool, bitsandbytes_installed: bool) -> bool:
    if settings.load_in_4bit == "off" or settings.uses_stand_in:
        return False
    available = cuda and bitsandbytes_installed
    if settings.load_in_4bit == "on" and not available:
        raise TrainingError("load_in_4bit='on' needs a CUDA device and bitsandbytes")
    return available


def split_pairs(task_ids: list[str], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, held-out) row indices: ``fraction`` of each task's pairs held out (seeded), at
    least one per task with 4+ pairs, and never all of a task."""
    by_task: dict[str, list[int]] = {}
    for index, task in enumerate(task_ids):
        by_task.setdefault(task, []).append(index)
    rng = random.Random(seed)
    heldout: list[int] = []
    for task in sorted(by_task):
        rows = by_task[task]
        take = min(len(rows) - 1, round(len(rows) * fraction)) if fraction > 0 else 0
        if fraction > 0 and take == 0 and len(rows) >= 4:
            take = 1
        heldout += rng.sample(rows, take)
    held = set(heldout)
    return [i for i in range(len(task_ids)) if i not in held], sorted(heldout)


# --------------------------------------------------------------------------- model loading


def _load_trl(base: BaseModel, settings: TrainingSettings, cuda: bool, four_bit: bool):
    import torch
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs: dict[str, Any] = {"dtype": torch.bfloat16 if cuda else torch.float32}
    if four_bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=torch.bfloat16,
            bnb_4bit_use_double_quant=True,
        )
    if cuda:
        kwargs["device_map"] = {"": 0}
    model = AutoModelForCausalLM.from_pretrained(base.load_from, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(base.load_from)
    peft_config = LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=list(settings.target_modules),
        task_type="CAUSAL_LM",
    )
    return model, tokenizer, peft_config


def _load_unsloth(base: BaseModel, settings: TrainingSettings, four_bit: bool):  # pragma: no cover - GPU
    from unsloth import FastLanguageModel  # must come before TRL

    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=base.load_from, max_seq_length=settings.max_length, load_in_4bit=four_bit, dtype=None
    )
    model = FastLanguageModel.get_peft_model(
        model,
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=list(settings.target_modules),
        use_gradient_checkpointing="unsloth" if settings.gradient_checkpointing == "on" else False,
        random_state=settings.seed,
    )
    return model, tokenizer, None


# --------------------------------------------------------------------------- training


def _token_counts(dataset) -> tuple[int, int]:
    """(tokens per epoch: prompt+chosen and prompt+rejected of every pair, longest sequence)."""
    total, longest = 0, 0
    for prompt, chosen, rejected in zip(
        dataset["prompt_ids"], dataset["chosen_ids"], dataset["rejected_ids"]
    ):
        a, b = len(prompt) + len(chosen), len(prompt) + len(rejected)
        total += a + b
        longest = max(longest, a, b)
    return total, longest


def _longest_sequence(tokenizer, pairs, max_length: int) -> int:
    """The longest chat-templated prompt + answer among ``pairs`` (what a batch pads to)."""
    longest = 0
    for row in pairs:
        for answer in (row["chosen"], row["rejected"]):
            ids = tokenizer.apply_chat_template(row["prompt"] + answer, tokenize=True)
            longest = max(longest, len(ids["input_ids"] if hasattr(ids, "keys") else ids))
    return min(longest, max_length)


def _heldout_metrics(trainer) -> dict[str, float]:
    """Loss, reward accuracy and margin on the held-out pairs (prepared at init)."""
    if trainer.eval_dataset is None or len(trainer.eval_dataset) == 0:
        return {}
    metrics = trainer.evaluate()
    wanted = ("eval_loss", "eval_rewards/accuracies", "eval_rewards/margins")
    return {key.removeprefix("eval_"): float(metrics[key]) for key in wanted if key in metrics}


def _progress_callback(sink: LogSink, total_steps: int):
    """A Trainer callback sending each log, with the step and the step count, to ``sink``."""
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs:
                sink({"step": state.global_step, "of": total_steps, **logs})

    return Progress()


def _clean_history(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in entry.items() if isinstance(v, int | float)}
        for entry in log_history
        if "loss" in entry and "step" in entry
    ]


def _last_checkpoint(folder: Path) -> tuple[str | None, int | None]:
    from transformers.trainer_utils import get_last_checkpoint

    if not folder.is_dir():
        return None, None
    last = get_last_checkpoint(str(folder))
    return (last, int(last.rsplit("-", 1)[-1])) if last else (None, None)


def _save_adapter(trainer, tokenizer, target: Path, base: BaseModel, history: list[dict[str, Any]]) -> None:
    """Adapter + tokenizer + log into ``target``, atomically, naming the official base."""
    scratch = target.with_name(f".{target.name}.partial")
    shutil.rmtree(scratch, ignore_errors=True)
    trainer.model.save_pretrained(str(scratch), selected_adapters=["default"])
    tokenizer.save_pretrained(str(scratch))
    nested = scratch / "default"  # PEFT nests non-"default" adapters; keep the flat layout
    if nested.is_dir():
        shutil.rmtree(nested)
    config_path = scratch / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config["base_model_name_or_path"] = base.official_id
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    with atomic_text(scratch / LOG_FILE) as handle:
        for entry in history:
            handle.write(json.dumps(entry) + "\n")
    missing = [name for name in ADAPTER_FILES if not (scratch / name).is_file()]
    if missing:
        raise TrainingError(f"the adapter save lacks {', '.join(missing)} in {scratch}")
    if target.exists():
        shutil.rmtree(target)
    os.replace(scratch, target)


@dataclass
class BuiltTrainer:
    trainer: Any
    settings: TrainingSettings  # with the batch resolved
    total_steps: int
    plan_text: str


def build_trainer(
    settings: TrainingSettings,
    model: Any,
    tokenizer: Any,
    peft_config: Any,
    train_set: Any,
    heldout_set: Any,
    output_dir: Path,
    *,
    cuda: bool,
    quantized_4bit: bool = False,
    on_log: LogSink | None = None,
) -> BuiltTrainer:
    """A ``DPOTrainer`` for ``settings``: batch and checkpointing from the memory plan unless set,
    the reference log-probs precomputed unless switched off; ``on_log`` gets every Trainer log."""
    import torch
    from trl import DPOConfig, DPOTrainer

    plan = plan_memory(
        model.config,
        free_bytes=free_device_memory() if cuda else None,
        tokens_per_sequence=_longest_sequence(tokenizer, train_set, settings.max_length),
        pairs_per_step=settings.pairs_per_step,
        quantized_4bit=quantized_4bit,
    )
    settings = settings.with_batch(plan.per_device_batch_size)
    checkpointing = _SWITCH.get(settings.gradient_checkpointing, plan.gradient_checkpointing)
    precompute = _SWITCH.get(settings.precompute_ref_log_probs, plan.precompute_ref_log_probs)
    total_steps = steps_for(len(train_set), settings)
    options = dict(
        output_dir=str(output_dir),
        num_train_epochs=settings.epochs,
        per_device_train_batch_size=settings.per_device_batch_size,
        per_device_eval_batch_size=settings.per_device_batch_size,
        gradient_accumulation_steps=settings.gradient_accumulation_steps,
        learning_rate=settings.resolved_learning_rate(),
        beta=settings.beta,
        max_length=settings.max_length,
        gradient_checkpointing=checkpointing,
        precompute_ref_log_probs=precompute,
        bf16=cuda and torch.cuda.is_bf16_supported(),
        use_cpu=not cuda,
        logging_steps=1,
        save_strategy="steps",
        save_steps=settings.save_steps,
        save_total_limit=2,
        report_to=[],
        seed=settings.seed,
        data_seed=settings.seed,
        disable_tqdm=True,
    )
    args = DPOConfig(**{**options, **settings.extra})  # extra: further DPOConfig fields win
    trainer = DPOTrainer(
        model=model,
        ref_model=None,
        args=args,
        train_dataset=train_set,
        eval_dataset=heldout_set,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[_progress_callback(on_log, total_steps)] if on_log else [],
    )
    plan_text = (
        f"{plan.reason}; gradient checkpointing {'on' if checkpointing else 'off'}, "
        f"reference log-probs {'precomputed' if precompute else 'per step'}"
    )
    return BuiltTrainer(trainer, settings, total_steps, plan_text)


def train_dpo(
    settings: TrainingSettings,
    pairs_path: Path,
    work_dir: Path,
    *,
    on_log: LogSink | None = None,
    models_dir: Path | None = None,
) -> TrainingResult:
    """Train a LoRA adapter with DPO on ``pairs_path`` (Parquet/JSONL from ``dpo_pairs``).

    ``work_dir`` holds checkpoints (resume point), the adapter and the result; callers key it
    by the settings' and the pairs' fingerprints so a resume never mixes runs.
    """
    from dpo_assets.training.dataset import load_pairs

    pairs = load_pairs(pairs_path)
    train_rows, heldout_rows = split_pairs(list(pairs["task_id"]), settings.heldout_fraction, settings.seed)
    if not train_rows:
        raise TrainingError(f"{pairs_path}: no pairs left to train on after holding out {len(heldout_rows)}")
    cuda = cuda_available()
    backend = select_backend(
        settings, cuda=cuda, unsloth_installed=importlib.util.find_spec("unsloth") is not None
    )
    four_bit = wants_4bit(
        settings, cuda=cuda, bitsandbytes_installed=importlib.util.find_spec("bitsandbytes") is not None
    )
    base = resolve_base(settings.base_model, models_dir)
    if backend == "unsloth":  # pragma: no cover - GPU
        model, tokenizer, peft_config = _load_unsloth(base, settings, four_bit)
    else:
        model, tokenizer, peft_config = _load_trl(base, settings, cuda, four_bit)

    heldout_set = pairs.select(heldout_rows) if heldout_rows else None
    built = build_trainer(
        settings,
        model,
        tokenizer,
        peft_config,
        pairs.select(train_rows),
        heldout_set,
        work_dir / "checkpoints",
        cuda=cuda,
        quantized_4bit=four_bit,
        on_log=on_log,
    )
    trainer, settings, plan_text = built.trainer, built.settings, built.plan_text
    total_steps = built.total_steps
    if "ref" in getattr(trainer.model, "peft_config", {}):
        raise TrainingError("TRL created a 'ref' adapter copy: the base must come without an adapter")
    train_tokens, longest = _token_counts(trainer.train_dataset)
    resume_from, resumed_step = _last_checkpoint(work_dir / "checkpoints")
    before = _heldout_metrics(trainer) if resume_from is None else {}
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume_from)
    wall = time.perf_counter() - started
    after = _heldout_metrics(trainer)
    history = _clean_history(trainer.state.log_history)
    adapter_dir = work_dir / "adapter"
    _save_adapter(trainer, tokenizer, adapter_dir, base, history)
    trained_steps = trainer.state.global_step - (resumed_step or 0)
    epochs_done = trained_steps / max(total_steps, 1) * settings.epochs
    tokens = int(train_tokens * epochs_done)
    result = TrainingResult(
        adapter_dir=str(adapter_dir),
        base=asdict(base),
        backend=backend,
        device=_device_name(cuda),
        settings=settings.to_json(),
        memory_plan=f"{plan_text}; longest sequence {longest} tokens",
        train_pairs=len(train_rows),
        heldout_pairs=len(heldout_rows),
        steps=trainer.state.global_step,
        resumed_from_step=resumed_step,
        wall_seconds=round(wall, 2),
        train_tokens=tokens,
        tokens_per_second=round(tokens / wall, 1) if wall > 0 else math.nan,
        heldout_before=before,
        heldout_after=after,
        history=history,
        unsloth_imported="unsloth" in sys.modules,
    )
    with atomic_text(work_dir / RESULT_FILE) as handle:
        json.dump(result.to_json(), handle, indent=1)
    return result


def _device_name(cuda: bool) -> str:
    import torch

    if cuda:
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {os.cpu_count()} cores, torch {torch.__version__}"
