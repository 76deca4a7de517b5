"""Pick batch size and gradient checkpointing from the memory a device has free.

TRL's defaults (1 pair per device, gradient checkpointing on, the reference recomputed every
step) fit anywhere and are slow: checkpointing re-runs each layer's forward pass, and the
reference pass repeats every epoch. With LoRA the trainable state is tiny, so on a large GPU
the activations of a few pairs fit without checkpointing; the reference log-probs never change,
so they are computed once. This module estimates the activation memory of one DPO pair and
takes the largest batch that fits, checkpointing only when nothing fits without it.

The estimate (bytes, bf16, per transformer layer and token) follows Korthikanti et al. 2022
for SDPA/flash attention (no stored score matrix): ``34 h`` plus the gated MLP's extra
``2 (i - 4h)``; the logits add ``4 V`` per token (fp32 log-softmax). A DPO pair is two
sequences (chosen and rejected).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

GIB = 1024**3
HEADROOM = 0.85  # of the free memory: allocator fragmentation, CUDA context, temporaries
FIXED_OVERHEAD = 2 * GIB
BATCH_CHOICES = (8, 4, 2, 1)
CPU_BATCH = 2


@dataclass(frozen=True)
class MemoryPlan:
    per_device_batch_size: int
    gradient_accumulation_steps: int
    gradient_checkpointing: bool
    precompute_ref_log_probs: bool
    reason: str


def _dims(config: Any) -> tuple[int, int, int, int, int]:
    hidden = int(config.hidden_size)
    inter = int(getattr(config, "intermediate_size", 4 * hidden))
    layers = int(config.num_hidden_layers)
    vocab = int(config.vocab_size)
    params = int(getattr(config, "num_parameters", 0) or estimate_parameters(config))
    return hidden, inter, layers, vocab, params


def estimate_parameters(config: Any) -> int:
    """Parameters of a Llama/Qwen2-style decoder from its config (embeddings counted twice
    unless tied)."""
    hidden, inter = int(config.hidden_size), int(getattr(config, "intermediate_size", 4 * config.hidden_size))
    heads = int(config.num_attention_heads)
    kv_heads = int(getattr(config, "num_key_value_heads", heads) or heads)
    head_dim = int(getattr(config, "head_dim", None) or hidden // heads)
    attention = hidden * head_dim * (2 * heads + 2 * kv_heads)
    mlp = 3 * hidden * inter
    embeddings = int(config.vocab_size) * hidden * (1 if getattr(config, "tie_word_embeddings", False) else 2)
    return int(config.num_hidden_layers) * (attention + mlp + 2 * hidden) + embeddings + hidden


def pair_activation_bytes(config: Any, tokens_per_sequence: int, checkpointing: bool) -> int:
    """Activation memory of one DPO pair (chosen + rejected sequence) in one training step."""
    hidden, inter, layers, vocab, _ = _dims(config)
    per_token_layer = 34 * hidden + 2 * max(0, inter - 4 * hidden)
    # With checkpointing only the layer inputs stay, plus one layer's activations at a time.
    per_token = 2 * hidden * layers + per_token_layer if checkpointing else per_token_layer * layers
    per_token += 4 * vocab
    return 2 * tokens_per_sequence * per_token


def weight_bytes(config: Any, quantized_4bit: bool) -> int:
    params = _dims(config)[4]
    return int(params * (0.55 if quantized_4bit else 2.0))


def plan_memory(
    config: Any,
    *,
    free_bytes: int | None,
    tokens_per_sequence: int,
    pairs_per_step: int = 8,
    quantized_4bit: bool = False,
) -> MemoryPlan:
    """The fastest settings that fit ``free_bytes`` (``None``: a CPU, memory is not the limit)."""
    if free_bytes is None:
        batch = min(CPU_BATCH, pairs_per_step)
        return MemoryPlan(batch, math.ceil(pairs_per_step / batch), False, True, "CPU: no checkpointing")
    budget = free_bytes * HEADROOM - weight_bytes(config, quantized_4bit) - FIXED_OVERHEAD
    for checkpointing in (False, True):
        per_pair = pair_activation_bytes(config, tokens_per_sequence, checkpointing)
        for batch in (b for b in BATCH_CHOICES if b <= pairs_per_step):
            if batch * per_pair <= budget:
                mode = "with" if checkpointing else "without"
                reason = (
                    f"{batch} pair(s) x {tokens_per_sequence} tokens {mode} checkpointing need "
                    f"{batch * per_pair / GIB:.1f} GiB of {max(budget, 0) / GIB:.1f} GiB available"
                )
                return MemoryPlan(batch, math.ceil(pairs_per_step / batch), checkpointing, True, reason)
    return MemoryPlan(
        1,
        pairs_per_step,
        True,
        True,
        f"tight: even 1 pair with checkpointing may not fit {budget / GIB:.1f} GiB",
    )


def free_device_memory() -> int | None:
    """Free bytes on the current CUDA device, or ``None`` without one."""
    import torch

    if not torch.cuda.is_available():
        return None
    free, _total = torch.cuda.mem_get_info()
    return int(free)
