"""A Hugging Face Qwen2 checkpoint as a full llama.cpp GGUF, with the ``gguf`` library only.

Two uses: the *second shipping path* (the LoRA merged into the base and shipped as one model,
for Ollama versions that refuse ``ADAPTER`` at create time), and the base model of the
llama.cpp equivalence test of the GGUF adapter. It writes what llama.cpp's
``convert_hf_to_gguf.py`` writes for Qwen2: the architecture keys, every tensor under its
llama.cpp name (1-D tensors and biases stay f32), and the byte-level BPE vocabulary (tokens in
id order, padded to the model's vocabulary with ``[PADn]``; special added tokens as CONTROL),
its merges, special token ids and chat template. Other architectures are refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dpo_assets.export.gguf_adapter import OUT_TYPES, _encode, write_gguf

SUPPORTED_ARCHS = ("qwen2",)


class ModelExportError(ValueError):
    """The checkpoint cannot be written as a full GGUF (the message says why)."""


@dataclass
class ModelExportReport:
    path: Path
    architecture: str
    out_type: str
    vocab_size: int
    tokenizer_pre: str
    merged_adapter: str | None = None
    tensors: dict[str, tuple[int, ...]] = field(default_factory=dict)


QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
    r"\s*[\r\n]+|\s+(?!\S)|\s+"
)


def _tokenizer_pre(pre_tokenizer: dict[str, Any]) -> str:
    """llama.cpp's name for the pre-tokenizer transformers actually applies (it may replace the
    one in ``tokenizer.json``, as ``Qwen2Tokenizer`` does); unknown ones are refused."""
    if pre_tokenizer.get("type") == "ByteLevel" and pre_tokenizer.get("use_regex", True):
        return "gpt-2"
    splits = [p for p in pre_tokenizer.get("pretokenizers", []) if p.get("type") == "Split"]
    if pre_tokenizer.get("type") == "Sequence" and [p["pattern"].get("Regex") for p in splits] == [
        QWEN2_SPLIT
    ]:
        return "qwen2"
    raise ModelExportError(
        f"pre-tokenizer {json.dumps(pre_tokenizer)[:200]} is not one llama.cpp knows under a name here"
    )


def _add_vocab(writer, model_dir: Path, vocab_size: int) -> str:
    """Tokens, types, merges, special ids and chat template, as llama.cpp's converter writes them
    (from the tokenizer as transformers loads it)."""
    import gguf
    from transformers import AutoTokenizer

    if not (model_dir / "tokenizer.json").is_file():
        raise ModelExportError(f"{model_dir} has no tokenizer.json (a fast byte-level BPE tokenizer)")
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    backend = json.loads(tokenizer.backend_tokenizer.to_str())
    if backend["model"]["type"] != "BPE":
        raise ModelExportError(f"{model_dir}: only BPE tokenizers are written (Qwen2's kind)")
    pre = _tokenizer_pre(backend.get("pre_tokenizer") or {})
    by_id = {token_id: token for token, token_id in tokenizer.get_vocab().items()}
    if max(by_id) >= vocab_size:
        raise ModelExportError(f"tokenizer ids reach {max(by_id)}, beyond the model's {vocab_size} rows")
    added = tokenizer.added_tokens_decoder
    tokens: list[str] = []
    types: list[int] = []
    for token_id in range(vocab_size):
        if token_id not in by_id:
            tokens.append(f"[PAD{token_id}]")
            types.append(gguf.TokenType.UNUSED)
        elif token_id in added:
            tokens.append(by_id[token_id])
            types.append(gguf.TokenType.CONTROL if added[token_id].special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(by_id[token_id])
            types.append(gguf.TokenType.NORMAL)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    special = gguf.SpecialVocab(model_dir, load_merges=True, n_vocab=vocab_size)
    if not special.merges:
        raise ModelExportError(f"{model_dir / 'tokenizer.json'} has no BPE merges")
    special.add_to_gguf(writer, quiet=True)
    return pre


def _add_hparams(writer, config: dict[str, Any]) -> None:
    heads = int(config["num_attention_heads"])
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    if rope.get("rope_type", rope.get("type", "default")) not in ("default", None):
        raise ModelExportError(f"rope scaling {rope} is not written by this exporter")
    writer.add_context_length(int(config["max_position_embeddings"]))
    writer.add_embedding_length(int(config["hidden_size"]))
    writer.add_block_count(int(config["num_hidden_layers"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_head_count(heads)
    writer.add_head_count_kv(int(config.get("num_key_value_heads", heads)))
    writer.add_rope_freq_base(float(rope.get("rope_theta", config.get("rope_theta", 10000.0))))
    writer.add_layer_norm_rms_eps(float(config["rms_norm_eps"]))


def _load_state(model_dir: Path, adapter_dir: Path | None) -> dict[str, np.ndarray]:
    """The checkpoint's weights as float32 arrays, with the adapter merged in when given."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    return {name: tensor.detach().float().numpy() for name, tensor in model.state_dict().items()}


def export_model_gguf(
    model_dir: Path, out_path: Path, *, adapter_dir: Path | None = None, out_type: str = "f16"
) -> ModelExportReport:
    """Write ``model_dir`` (a local Qwen2 checkpoint; with ``adapter_dir``'s LoRA merged in when
    given) as the full GGUF ``out_path``. 2-D weights take ``out_type``; norms and biases f32."""
    import gguf

    if out_type not in OUT_TYPES:
        raise ModelExportError(f"out_type {out_type!r}: use one of {', '.join(OUT_TYPES)}")
    config_file = model_dir / "config.json"
    if not config_file.is_file():
        raise ModelExportError(f"{model_dir} is not a local checkpoint folder (no config.json)")
    config = json.loads(config_file.read_text())
    arch = str(config.get("model_type"))
    if arch not in SUPPORTED_ARCHS:
        raise ModelExportError(
            f"architecture {arch!r}: only {', '.join(SUPPORTED_ARCHS)} is written here; "
            "use llama.cpp's convert_hf_to_gguf.py for others"
        )
    arch_enum = next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch)
    blocks = int(config["num_hidden_layers"])
    names = gguf.get_tensor_name_map(arch_enum, blocks)
    vocab_size = int(config["vocab_size"])

    writer = gguf.GGUFWriter(None, arch)
    writer.add_name(model_dir.name + (" + merged LoRA" if adapter_dir else ""))
    writer.add_file_type(
        {
            "f32": gguf.LlamaFileType.ALL_F32,
            "f16": gguf.LlamaFileType.MOSTLY_F16,
            "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
        }[out_type]
    )
    _add_hparams(writer, config)
    pre = _add_vocab(writer, model_dir, vocab_size)
    report = ModelExportReport(
        out_path, arch, out_type, vocab_size, pre, str(adapter_dir) if adapter_dir else None
    )
    try:
        state = _load_state(model_dir, adapter_dir)
    except (OSError, ValueError) as exc:
        raise ModelExportError(f"cannot load {model_dir}: {exc}") from exc
    if config.get("tie_word_embeddings"):
        state.pop("lm_head.weight", None)  # llama.cpp reuses token_embd
    for name in sorted(state):
        target = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if target is None:
            raise ModelExportError(f"tensor {name}: no llama.cpp name for {arch}")
        array = state[name]
        if not np.isfinite(array).all():
            raise ModelExportError(f"tensor {name}: NaN or Inf")
        if array.ndim == 1:
            data, raw = array.astype(np.float32), None
        else:
            data, raw = _encode(array, out_type)
        writer.add_tensor(target, data, raw_dtype=raw)
        report.tensors[target] = tuple(array.shape)
    write_gguf(writer, out_path)
    return report
