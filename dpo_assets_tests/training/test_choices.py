"""Pure choices of a training run: base id, backend, 4-bit, held-out split, memory plan, steps."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dpo_assets.training.base_model import is_prequantised, official_base_id, resolve_base
from dpo_assets.training.memory_plan import (
    GIB,
    estimate_parameters,
    pair_activation_bytes,
    plan_memory,
)
from dpo_assets.training.settings import REAL_BASE, TrainingSettings, steps_for
from dpo_assets.training.trainer import TrainingError, select_backend, split_pairs, wants_4bit

# Qwen2.5-Coder-7B-Instruct and -0.5B as published in their config.json.
QWEN_7B = SimpleNamespace(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                          num_attention_heads=28, num_key_value_heads=4, vocab_size=152064,
                          tie_word_embeddings=False)  # fmt: skip
QWEN_05B = SimpleNamespace(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                           num_attention_heads=14, num_key_value_heads=2, vocab_size=151936,
                           tie_word_embeddings=True)  # fmt: skip


@pytest.mark.parametrize(
    ("configured", "official"),
    [
        ("unsloth/Qwen2.5-Coder-7B-Instruct-bnb-4bit", "Qwen/Qwen2.5-Coder-7B-Instruct"),
        ("unsloth/Qwen2.5-Coder-7B-Instruct-unsloth-bnb-4bit", "Qwen/Qwen2.5-Coder-7B-Instruct"),
        ("unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit", "meta-llama/Meta-Llama-3.1-8B-Instruct"),
        ("someorg/MyCoder-7B-bnb-4bit", "someorg/MyCoder-7B"),
        (REAL_BASE, REAL_BASE),
    ],
)
def test_official_base_id_drops_prequantised_repositories(configured: str, official: str) -> None:
    assert official_base_id(configured) == official
    assert is_prequantised(configured) == (configured != official)


def test_resolve_base_records_the_rewrite_and_keeps_local_folders(tmp_path) -> None:
    quantised = resolve_base("unsloth/Qwen2.5-Coder-7B-Instruct-bnb-4bit")
    assert quantised.load_from.endswith("-bnb-4bit") and quantised.official_id == REAL_BASE
    assert "rewritten to Qwen/Qwen2.5-Coder-7B-Instruct" in quantised.rewrite
    assert resolve_base(REAL_BASE).rewrite is None
    local = resolve_base(str(tmp_path))
    assert local.load_from == local.official_id == str(tmp_path) and not local.stand_in


def test_backend_choice() -> None:
    auto, stand_in = TrainingSettings(base_model=REAL_BASE), TrainingSettings()
    assert select_backend(auto, cuda=True, unsloth_installed=True) == "unsloth"
    assert select_backend(auto, cuda=True, unsloth_installed=False) == "trl"
    assert select_backend(auto, cuda=False, unsloth_installed=True) == "trl"
    assert select_backend(stand_in, cuda=True, unsloth_installed=True) == "trl"  # Unsloth wants real bases
    forced = TrainingSettings(base_model=REAL_BASE, backend="unsloth")
    with pytest.raises(TrainingError, match="a CUDA device is missing"):
        select_backend(forced, cuda=False, unsloth_installed=True)
    with pytest.raises(TrainingError, match="unsloth package"):
        select_backend(forced, cuda=True, unsloth_installed=False)
    assert (
        select_backend(
            TrainingSettings(base_model=REAL_BASE, backend="trl"), cuda=True, unsloth_installed=True
        )
        == "trl"
    )


def test_4bit_only_with_cuda_and_bitsandbytes() -> None:
    real = TrainingSettings(base_model=REAL_BASE)
    assert wants_4bit(real, cuda=True, bitsandbytes_installed=True)
    assert not wants_4bit(real, cuda=False, bitsandbytes_installed=True)
    assert not wants_4bit(TrainingSettings(), cuda=True, bitsandbytes_installed=True)
    assert not wants_4bit(TrainingSettings(base_model=REAL_BASE, load_in_4bit="off"), cuda=True,
                          bitsandbytes_installed=True)  # fmt: skip
    with pytest.raises(TrainingError, match="needs a CUDA device and bitsandbytes"):
        wants_4bit(
            TrainingSettings(base_model=REAL_BASE, load_in_4bit="on"), cuda=False, bitsandbytes_installed=True
        )


def test_split_holds_out_per_task_seeded_and_never_a_whole_task() -> None:
    tasks = ["a"] * 20 + ["b"] * 5 + ["c"] * 1 + ["d"] * 2
    train, held = split_pairs(tasks, 0.15, seed=3)
    assert sorted(train + held) == list(range(len(tasks))) and not set(train) & set(held)
    per_task = {t: sum(1 for i in held if tasks[i] == t) for t in "abcd"}
    assert per_task == {"a": 3, "b": 1, "c": 0, "d": 0}
    assert split_pairs(tasks, 0.15, seed=3) == (train, held)
    assert split_pairs(tasks, 0.15, seed=4)[1] != held
    assert split_pairs(tasks, 0.0, seed=3) == (list(range(len(tasks))), [])


def test_reference_workload_is_45_steps() -> None:
    settings = TrainingSettings(base_model=REAL_BASE).with_batch(2)
    assert (settings.per_device_batch_size, settings.gradient_accumulation_steps) == (2, 4)
    assert steps_for(115, settings) == 45
    assert steps_for(115, TrainingSettings().with_batch(1)) == 45
    explicit = TrainingSettings(per_device_batch_size=4, gradient_accumulation_steps=1).with_batch(2)
    assert (explicit.per_device_batch_size, explicit.gradient_accumulation_steps) == (4, 1)


def test_learning_rate_profile_and_fingerprint() -> None:
    assert TrainingSettings().resolved_learning_rate() == 2e-3
    assert TrainingSettings(base_model=REAL_BASE).resolved_learning_rate() == 5e-6
    assert TrainingSettings(learning_rate=1e-4).resolved_learning_rate() == 1e-4
    assert TrainingSettings().fingerprint() == TrainingSettings(save_steps=99).fingerprint()
    assert TrainingSettings().fingerprint() != TrainingSettings(beta=0.2).fingerprint()
    again = TrainingSettings.from_json(TrainingSettings(lora_r=8).to_json())
    assert again == TrainingSettings(lora_r=8)


def test_parameter_estimate_matches_the_published_sizes() -> None:
    assert estimate_parameters(QWEN_7B) == pytest.approx(7.6e9, rel=0.02)
    assert estimate_parameters(QWEN_05B) == pytest.approx(0.49e9, rel=0.03)


def test_memory_plan_prefers_no_checkpointing_and_the_largest_batch_that_fits() -> None:
    big = plan_memory(QWEN_7B, free_bytes=79 * GIB, tokens_per_sequence=1300)
    assert not big.gradient_checkpointing and big.precompute_ref_log_probs
    assert big.per_device_batch_size * big.gradient_accumulation_steps >= 8
    small = plan_memory(QWEN_7B, free_bytes=24 * GIB, tokens_per_sequence=1300)
    assert small.per_device_batch_size <= big.per_device_batch_size
    tight = plan_memory(QWEN_7B, free_bytes=20 * GIB, tokens_per_sequence=4096)
    assert tight.gradient_checkpointing and tight.per_device_batch_size == 1
    quantised = plan_memory(QWEN_7B, free_bytes=20 * GIB, tokens_per_sequence=1300, quantized_4bit=True)
    assert quantised.per_device_batch_size >= tight.per_device_batch_size
    cpu = plan_memory(QWEN_7B, free_bytes=None, tokens_per_sequence=1300)
    assert (cpu.per_device_batch_size, cpu.gradient_accumulation_steps, cpu.gradient_checkpointing) == (
        2,
        4,
        False,
    )
    with_ckpt = pair_activation_bytes(QWEN_7B, 2600, checkpointing=True)
    assert with_ckpt < pair_activation_bytes(QWEN_7B, 2600, checkpointing=False) / 3
