"""PEFT LoRA -> GGUF adapter: read back with gguf.GGUFReader; refusals; folded scales; q/k permutation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFReader
from safetensors.numpy import save_file

from dpo_assets.export.gguf_adapter import AdapterConversionError, _permute, convert_adapter

QWEN = {"model_type": "qwen2", "num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
        "num_key_value_heads": 2, "tie_word_embeddings": False}  # fmt: skip
LLAMA = {**QWEN, "model_type": "llama", "num_key_value_heads": 4}
MODULES = {"self_attn.q_proj": (64, 64), "self_attn.k_proj": (32, 64), "mlp.down_proj": (64, 176)}


def _base(tmp_path: Path, config: dict) -> Path:
    folder = tmp_path / f"base-{config['model_type']}"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def _adapter(tmp_path: Path, base: Path, rank: int = 4, **config) -> tuple[Path, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    tensors = {}
    for layer in range(2):
        for module, (out, inp) in MODULES.items():
            prefix = f"base_model.model.model.layers.{layer}.{module}"
            tensors[f"{prefix}.lora_A.weight"] = rng.standard_normal((rank, inp)).astype(np.float32)
            tensors[f"{prefix}.lora_B.weight"] = rng.standard_normal((out, rank)).astype(np.float32)
    folder = tmp_path / "adapter"
    folder.mkdir(exist_ok=True)
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    settings = {"peft_type": "LORA", "r": rank, "lora_alpha": 8, "base_model_name_or_path": str(base),
                "target_modules": ["q_proj", "k_proj", "down_proj"], **config}  # fmt: skip
    (folder / "adapter_config.json").write_text(json.dumps(settings))
    return folder, tensors


def _read(path: Path) -> tuple[dict, dict]:
    reader = GGUFReader(str(path))
    fields = {name: field.contents() for name, field in reader.fields.items() if not name.startswith("GGUF.")}
    tensors = {t.name: t for t in reader.tensors}
    return fields, tensors


def test_reads_back_with_the_keys_names_shapes_and_alpha(tmp_path: Path) -> None:
    adapter, tensors = _adapter(tmp_path, _base(tmp_path, QWEN))
    report = convert_adapter(adapter, tmp_path / "a.gguf", out_type="f32")
    fields, written = _read(tmp_path / "a.gguf")
    assert fields["general.architecture"] == "qwen2" and fields["general.type"] == "adapter"
    assert fields["adapter.type"] == "lora" and fields["adapter.lora.alpha"] == 8.0
    assert set(written) == {f"blk.{i}.{n}.weight.lora_{ab}" for i in range(2)
                            for n in ("attn_q", "attn_k", "ffn_down") for ab in "ab"}  # fmt: skip
    a = tensors["base_model.model.model.layers.1.self_attn.k_proj.lora_A.weight"]
    b = tensors["base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight"]
    np.testing.assert_array_equal(np.asarray(written["blk.1.attn_k.weight.lora_a"].data).reshape(a.shape), a)
    np.testing.assert_array_equal(np.asarray(written["blk.1.attn_k.weight.lora_b"].data).reshape(b.shape), b)
    assert report.tensors["blk.1.attn_k.weight.lora_b"] == (32, 4) and not report.folded_scales


@pytest.mark.parametrize(("out_type", "expected"), [("f16", 1), ("q8_0", 8)])
def test_f16_and_q8_0(tmp_path: Path, out_type: str, expected: int) -> None:
    adapter, _ = _adapter(tmp_path, _base(tmp_path, QWEN), rank=4)
    convert_adapter(adapter, tmp_path / "a.gguf", out_type=out_type)
    _, written = _read(tmp_path / "a.gguf")
    assert int(written["blk.0.attn_q.weight.lora_a"].tensor_type) == expected  # 64 columns: quantisable
    assert int(written["blk.0.ffn_down.weight.lora_a"].tensor_type) == 1  # 176 columns: q8_0 falls back
    assert int(written["blk.0.attn_q.weight.lora_b"].tensor_type) == 1  # 4 columns: q8_0 falls back to f16


def test_rslora_and_alpha_pattern_are_folded_into_lora_b(tmp_path: Path) -> None:
    adapter, tensors = _adapter(tmp_path, _base(tmp_path, QWEN), rank=4, use_rslora=True,
                                alpha_pattern={"down_proj": 2})  # fmt: skip
    report = convert_adapter(adapter, tmp_path / "a.gguf", out_type="f32")
    _, written = _read(tmp_path / "a.gguf")
    b = tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"]
    got = np.asarray(written["blk.0.attn_q.weight.lora_b"].data).reshape(b.shape)
    # llama.cpp applies alpha / r = 8 / 4; rsLoRA wants 8 / sqrt(4): the factor is folded into B.
    np.testing.assert_allclose(got, b * (8 / 2) / (8 / 4), rtol=1e-6)
    assert report.folded_scales["model.layers.0.mlp.down_proj"] == pytest.approx((2 / 2) / (8 / 4))


def test_llama_permutes_q_and_k_rows_of_lora_b_only(tmp_path: Path) -> None:
    adapter, tensors = _adapter(tmp_path, _base(tmp_path, LLAMA))
    convert_adapter(adapter, tmp_path / "a.gguf", out_type="f32")
    _, written = _read(tmp_path / "a.gguf")
    prefix = "base_model.model.model.layers.0.self_attn.q_proj"
    a, b = tensors[f"{prefix}.lora_A.weight"], tensors[f"{prefix}.lora_B.weight"]
    got = np.asarray(written["blk.0.attn_q.weight.lora_b"].data).reshape(b.shape)
    np.testing.assert_allclose(got @ a, _permute(b @ a, 4, 4), rtol=1e-5)  # = the base weight's permutation
    assert not np.array_equal(got, b)
    down = tensors["base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"]
    np.testing.assert_array_equal(
        np.asarray(written["blk.0.ffn_down.weight.lora_b"].data).reshape(down.shape), down
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"use_dora": True}, "DoRA"),
        ({"modules_to_save": ["lm_head"]}, "modules_to_save"),
    ],
)
def test_refuses_what_llama_cpp_cannot_load(tmp_path: Path, change: dict, message: str) -> None:
    adapter, _ = _adapter(tmp_path, _base(tmp_path, QWEN), **change)
    with pytest.raises(AdapterConversionError, match=message):
        convert_adapter(adapter, tmp_path / "a.gguf")
    assert not (tmp_path / "a.gguf").exists()


def test_a_pre_quantised_base_id_is_read_as_the_official_base_and_noted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import transformers

    requested = []

    class FakeConfig:
        def to_dict(self) -> dict:
            return dict(QWEN)

    def from_pretrained(model_id: str) -> FakeConfig:
        requested.append(model_id)
        return FakeConfig()

    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", staticmethod(from_pretrained))
    adapter, _ = _adapter(
        tmp_path, tmp_path, base_model_name_or_path="unsloth/Qwen2.5-Coder-7B-Instruct-bnb-4bit"
    )
    report = convert_adapter(adapter, tmp_path / "a.gguf")
    assert requested == ["Qwen/Qwen2.5-Coder-7B-Instruct"]
    assert report.notes == [
        "adapter base unsloth/Qwen2.5-Coder-7B-Instruct-bnb-4bit is pre-quantised; "
        "its config was read from the official Qwen/Qwen2.5-Coder-7B-Instruct"
    ]
    assert _read(tmp_path / "a.gguf")[0]["general.architecture"] == "qwen2"


def test_an_unreadable_base_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    adapter, _ = _adapter(tmp_path, tmp_path, base_model_name_or_path="no-such-org/no-such-model")
    with pytest.raises(
        AdapterConversionError, match="cannot read the base config of 'no-such-org/no-such-model'"
    ):
        convert_adapter(adapter, tmp_path / "a.gguf")
    assert not (tmp_path / "a.gguf").exists()


def test_refuses_nan_embeddings_and_a_tied_lm_head(tmp_path: Path) -> None:
    base = _base(tmp_path, {**QWEN, "tie_word_embeddings": True})
    adapter, tensors = _adapter(tmp_path, base)
    bad = dict(tensors)
    bad["base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"][0, 0] = np.nan
    save_file(bad, str(adapter / "adapter_model.safetensors"))
    with pytest.raises(AdapterConversionError, match="NaN or Inf"):
        convert_adapter(adapter, tmp_path / "a.gguf")
    for extra in ("lm_head", "model.embed_tokens"):
        more = {**tensors, f"base_model.model.{extra}.lora_A.weight": np.ones((4, 64), np.float32),
                f"base_model.model.{extra}.lora_B.weight": np.ones((100, 4), np.float32)}  # fmt: skip
        more["base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"][0, 0] = 0.0
        save_file(more, str(adapter / "adapter_model.safetensors"))
        with pytest.raises(AdapterConversionError, match=r"embeddings|tied"):
            convert_adapter(adapter, tmp_path / "a.gguf")


def test_the_trained_stand_in_adapter_converts(tiny_base: Path, tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"])
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_base), lora)
    model.save_pretrained(str(tmp_path / "adapter"))
    report = convert_adapter(tmp_path / "adapter", tmp_path / "a.gguf", base=str(tiny_base))
    fields, written = _read(tmp_path / "a.gguf")
    assert fields["general.architecture"] == "qwen2" and len(written) == 2 * 2 * 3 == len(report.tensors)
