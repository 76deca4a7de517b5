"""What a DPO training run is: base model, LoRA, optimisation, data split (plain, serialisable).

Defaults are the reference run's: LoRA on every attention and MLP projection of
``Qwen/Qwen2.5-Coder-7B-Instruct``, beta 0.1, 3 epochs of 8 pairs per step (2 per device x 4
accumulation: 115 pairs -> 45 steps). An empty ``base_model`` means the offline stand-in
(:mod:`dpo_assets.training.tiny_base`), for which the unset optimisation knobs take the
``STAND_IN`` values, since a model of 0.6 M random parameters needs a far larger step.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

REAL_BASE = "Qwen/Qwen2.5-Coder-7B-Instruct"
QWEN2_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
Backend = Literal["auto", "trl", "unsloth"]
Switch = Literal["auto", "on", "off"]


@dataclass(frozen=True)
class TrainingSettings:
    """One DPO run; ``None`` knobs take the base's profile (real model or stand-in)."""

    base_model: str = ""  # hub id or local folder; "" = the offline stand-in
    backend: Backend = "auto"  # unsloth when CUDA and unsloth are importable, else TRL + PEFT
    load_in_4bit: Switch = "auto"  # auto: when CUDA and bitsandbytes are present (not the stand-in)
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] = QWEN2_TARGETS
    beta: float = 0.1
    learning_rate: float | None = None  # real: 5e-6; stand-in: 2e-3
    epochs: float = 3.0
    per_device_batch_size: int | None = None  # None: chosen from free memory (2 on CPU)
    gradient_accumulation_steps: int | None = None  # None: 8 pairs per step / batch size
    pairs_per_step: int = 8
    max_length: int = 4096
    gradient_checkpointing: Switch = "auto"  # auto: off when memory allows (it costs ~1/3 speed)
    precompute_ref_log_probs: Switch = "auto"  # auto: on (the reference never changes)
    heldout_fraction: float = 0.15  # pairs kept out of training to measure reward accuracy
    save_steps: int = 5  # checkpoint every N optimiser steps (resume point)
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # further DPOConfig fields, verbatim

    @property
    def uses_stand_in(self) -> bool:
        return not self.base_model

    def resolved_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return STAND_IN_LEARNING_RATE if self.uses_stand_in else REAL_LEARNING_RATE

    def with_batch(self, per_device: int) -> TrainingSettings:
        """These settings with ``per_device`` pairs per forward pass and the accumulation that
        keeps ``pairs_per_step`` (unless both were set explicitly)."""
        if self.per_device_batch_size is not None and self.gradient_accumulation_steps is not None:
            return self
        per_device = self.per_device_batch_size or per_device
        accumulation = self.gradient_accumulation_steps or max(1, math.ceil(self.pairs_per_step / per_device))
        return replace(self, per_device_batch_size=per_device, gradient_accumulation_steps=accumulation)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["target_modules"] = list(self.target_modules)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainingSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "target_modules" in known:
            known["target_modules"] = tuple(known["target_modules"])
        return cls(**known)

    def fingerprint(self) -> str:
        """A short hash of everything that changes the trained adapter (not ``save_steps``)."""
        data = {k: v for k, v in self.to_json().items() if k != "save_steps"}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


REAL_LEARNING_RATE = 5e-6
STAND_IN_LEARNING_RATE = 2e-3


def steps_for(pairs: int, settings: TrainingSettings) -> int:
    """Optimiser steps the HF Trainer will run for ``pairs`` training pairs."""
    assert settings.per_device_batch_size and settings.gradient_accumulation_steps, "resolve the batch first"
    batches = math.ceil(pairs / settings.per_device_batch_size)
    per_epoch = math.ceil(batches / settings.gradient_accumulation_steps)
    return math.ceil(per_epoch * settings.epochs)
