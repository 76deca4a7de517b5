"""The offline stand-in base model: a tiny Qwen2 with a ChatML byte-level BPE tokenizer."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from dpo_assets.training.tiny_base import (
    BUILD_RECORD,
    IM_END,
    IM_START,
    TinyShape,
    ensure_tiny_base,
    is_built,
    train_tokenizer,
)

CODE = 'def mean(xs: list[float]) -> float:\n    """Average."""\n    return sum(xs) / len(xs)\n'


def _digest(folder: Path, name: str) -> str:
    return hashlib.sha256((folder / name).read_bytes()).hexdigest()


def test_loads_through_the_auto_classes_like_a_hub_model(tiny_base: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    model = AutoModelForCausalLM.from_pretrained(tiny_base)
    assert model.config.model_type == "qwen2" and not model.config.tie_word_embeddings
    assert model.config.vocab_size == len(tokenizer)
    assert tokenizer.eos_token == IM_END and tokenizer.pad_token == "<|endoftext|>"
    assert model.config.eos_token_id == tokenizer.eos_token_id
    ids = tokenizer(CODE)["input_ids"]
    assert tokenizer.decode(ids) == CODE  # byte-level: lossless on code
    assert len(ids) < len(CODE) / 2  # the BPE learned code-like merges
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits
    assert logits.shape == (1, len(ids), len(tokenizer)) and torch.isfinite(logits).all()


def test_chat_template_is_chatml_with_a_default_system_turn(tiny_base: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    prompt = [{"role": "user", "content": "Write mean()."}]
    text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    assert text.startswith(f"{IM_START}system\n") and text.endswith(f"{IM_START}assistant\n")
    assert f"{IM_START}user\nWrite mean().{IM_END}\n" in text
    answer = [*prompt, {"role": "assistant", "content": CODE}]
    full = tokenizer.apply_chat_template(answer, tokenize=False)
    assert full == text + CODE + f"{IM_END}\n"
    # The prompt's tokens are a prefix of prompt + answer: no merge across the boundary.
    prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True)["input_ids"]
    full_ids = tokenizer.apply_chat_template(answer)["input_ids"]
    assert full_ids[: len(prompt_ids)] == prompt_ids
    special = {IM_START, IM_END}
    assert special <= set(tokenizer.all_special_tokens)
    assert all(len(tokenizer(tok, add_special_tokens=False)["input_ids"]) == 1 for tok in special)


LIGHT = TinyShape(pretrain_epochs=0.1)  # a few pretraining steps: rebuilds stay cheap


def test_build_is_deterministic_and_cached(tmp_path: Path) -> None:
    first, again = ensure_tiny_base(tmp_path / "first", LIGHT), ensure_tiny_base(tmp_path / "again", LIGHT)
    for name in ("tokenizer.json", "model.safetensors", "config.json"):
        assert _digest(again, name) == _digest(first, name), name
    before = (again / "model.safetensors").stat().st_mtime_ns
    assert ensure_tiny_base(again, LIGHT) == again
    assert (again / "model.safetensors").stat().st_mtime_ns == before  # not rebuilt
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no scratch left


def test_an_unfinished_or_other_shape_build_is_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"half a file")  # an interrupted build: no record
    assert not is_built(folder)
    ensure_tiny_base(folder, LIGHT)
    assert is_built(folder) and (folder / "model.safetensors").stat().st_size > 1000
    wider = TinyShape(hidden_size=32, intermediate_size=64, pretrain_epochs=0.0)
    ensure_tiny_base(folder, wider)
    assert json.loads((folder / BUILD_RECORD).read_text())["shape"]["hidden_size"] == 32
    assert AutoModelForCausalLM.from_pretrained(folder).config.hidden_size == 32


def test_the_stand_in_is_pretrained_on_the_corpus_conversations(tiny_base: Path) -> None:
    record = json.loads((tiny_base / BUILD_RECORD).read_text())
    first, last = record["pretrain_loss"]
    assert record["pretrain_steps"] > 50 and last < first / 2  # it learned the corpus
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    model = AutoModelForCausalLM.from_pretrained(tiny_base)
    random = AutoModelForCausalLM.from_config(model.config)
    chat = [{"role": "user", "content": "Write the module."}, {"role": "assistant", "content": CODE}]
    ids = torch.tensor([tokenizer.apply_chat_template(chat)["input_ids"]])
    with torch.no_grad():
        assert model(ids, labels=ids).loss < random(ids, labels=ids).loss


def test_tokenizer_vocabulary_is_bounded_and_keeps_special_tokens_first() -> None:
    tokenizer = train_tokenizer([CODE] * 50, vocab_size=300)
    assert len(tokenizer) <= 300
    assert tokenizer.convert_tokens_to_ids(["<|endoftext|>", IM_START, IM_END]) == [0, 1, 2]


@pytest.mark.parametrize("text", ["", "ünïcödé ✓ 🚀", "\t\n  \r\n"])
def test_round_trips_any_text(tiny_base: Path, text: str) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
