"""The stand-in checkpoint as a full GGUF (the merged-weights path), read back with gguf.GGUFReader."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader, TokenType

from dpo_assets.export.gguf_model import QWEN2_SPLIT, ModelExportError, _tokenizer_pre, export_model_gguf


def _fields(reader: GGUFReader) -> dict:
    return {name: field.contents() for name, field in reader.fields.items() if not name.startswith("GGUF.")}


def test_writes_the_qwen2_keys_tensors_and_vocabulary(tiny_base: Path, tmp_path: Path) -> None:
    config = json.loads((tiny_base / "config.json").read_text())
    report = export_model_gguf(tiny_base, tmp_path / "m.gguf", out_type="f16")
    reader = GGUFReader(str(tmp_path / "m.gguf"))
    fields = _fields(reader)
    assert fields["general.architecture"] == "qwen2"
    assert fields["qwen2.block_count"] == config["num_hidden_layers"] == 2
    assert fields["qwen2.attention.head_count_kv"] == config["num_key_value_heads"]
    assert fields["qwen2.embedding_length"] == config["hidden_size"]
    assert fields["tokenizer.ggml.model"] == "gpt2" and fields["tokenizer.ggml.pre"] == "qwen2"
    tokens = fields["tokenizer.ggml.tokens"]
    assert len(tokens) == config["vocab_size"] == report.vocab_size
    assert tokens[1:3] == ["<|im_start|>", "<|im_end|>"]
    types = fields["tokenizer.ggml.token_type"]
    assert types[:3] == [TokenType.CONTROL] * 3 and types[100] == TokenType.NORMAL
    assert fields["tokenizer.ggml.eos_token_id"] == 2 and "<|im_start|>" in fields["tokenizer.chat_template"]
    assert len(fields["tokenizer.ggml.merges"]) > 1000

    tensors = {t.name: t for t in reader.tensors}
    assert len(tensors) == 3 + 2 * 12  # embeddings, output norm, output + 12 per block (q/k/v biases)
    assert tensors["blk.1.attn_q.bias"].tensor_type == GGMLQuantizationType.F32
    assert tensors["blk.0.attn_norm.weight"].tensor_type == GGMLQuantizationType.F32
    assert tensors["blk.0.ffn_down.weight"].tensor_type == GGMLQuantizationType.F16
    from safetensors.numpy import load_file

    weights = load_file(str(tiny_base / "model.safetensors"))
    np.testing.assert_allclose(
        np.asarray(tensors["blk.0.attn_norm.weight"].data),
        weights["model.layers.0.input_layernorm.weight"],
    )
    got = np.asarray(tensors["token_embd.weight"].data).reshape(config["vocab_size"], -1)
    np.testing.assert_allclose(got, weights["model.embed_tokens.weight"], atol=1e-3)


def test_merges_the_adapter_into_the_weights(tiny_base: Path, tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(str(tiny_base)),
        LoraConfig(r=4, lora_alpha=8, target_modules=["down_proj"], init_lora_weights=False),
    )
    model.save_pretrained(str(tmp_path / "adapter"))
    merged = model.merge_and_unload().state_dict()["model.layers.1.mlp.down_proj.weight"].numpy()
    report = export_model_gguf(
        tiny_base, tmp_path / "m.gguf", adapter_dir=tmp_path / "adapter", out_type="f32"
    )
    assert report.merged_adapter == str(tmp_path / "adapter")
    tensors = {t.name: t for t in GGUFReader(str(tmp_path / "m.gguf")).tensors}
    got = np.asarray(tensors["blk.1.ffn_down.weight"].data).reshape(merged.shape)
    np.testing.assert_allclose(got, merged, rtol=1e-6)
    base = AutoModelForCausalLM.from_pretrained(str(tiny_base)).state_dict()[
        "model.layers.1.mlp.down_proj.weight"
    ]
    assert not np.allclose(got, base.numpy())


def test_pads_the_vocabulary_to_the_embedding_rows(tiny_base: Path, tmp_path: Path) -> None:
    padded = tmp_path / "padded"
    shutil.copytree(tiny_base, padded)
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(padded), dtype=torch.float32)
    rows = model.config.vocab_size
    model.resize_token_embeddings(rows + 4)
    model.save_pretrained(str(padded))
    export_model_gguf(padded, tmp_path / "m.gguf", out_type="f32")
    fields = _fields(GGUFReader(str(tmp_path / "m.gguf")))
    assert fields["tokenizer.ggml.tokens"][-4:] == [f"[PAD{i}]" for i in range(rows, rows + 4)]
    assert fields["tokenizer.ggml.token_type"][-1] == TokenType.UNUSED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda folder: _edit_config(folder, model_type="llama"), "only qwen2"),
        (lambda folder: (folder / "tokenizer.json").unlink(), "no tokenizer.json"),
        (lambda folder: (folder / "config.json").unlink(), "no config.json"),
        (lambda folder: None, "out_type 'q4'"),
    ],
    ids=["architecture", "tokenizer", "config", "out-type"],
)
def test_refuses_what_it_cannot_write(tiny_base: Path, tmp_path: Path, change, message: str) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_base, folder)
    change(folder)
    with pytest.raises(ModelExportError, match=message):
        export_model_gguf(folder, tmp_path / "m.gguf", out_type="q4" if "out_type" in message else "f16")
    assert not (tmp_path / "m.gguf").exists()


def _edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **changes}))


def test_names_the_pre_tokenizer_transformers_applies_and_refuses_unknown_ones() -> None:
    qwen = {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT}},
            {"type": "ByteLevel", "use_regex": False},
        ],
    }
    assert _tokenizer_pre(qwen) == "qwen2"
    assert _tokenizer_pre({"type": "ByteLevel", "use_regex": True}) == "gpt-2"
    with pytest.raises(ModelExportError, match="pre-tokenizer"):
        _tokenizer_pre({"type": "Whitespace"})
