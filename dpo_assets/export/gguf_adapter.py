"""A PEFT LoRA adapter as a llama.cpp / Ollama GGUF adapter, with the ``gguf`` library only.

What llama.cpp expects (its ``convert_lora_to_gguf.py``): ``general.architecture`` = the base's,
``general.type = adapter``, ``adapter.type = lora``, ``adapter.lora.alpha``; per adapted module
the base tensor's llama.cpp name with ``.lora_a`` / ``.lora_b`` appended, shapes as PEFT stores
them (``lora_A``: r x in, ``lora_B``: out x r). llama.cpp scales by ``alpha / r``; rsLoRA and
per-module ``alpha_pattern`` / ``rank_pattern`` scales are folded into ``lora_b``. Llama-family
architectures store q/k rows permuted for their rotary layout, so ``lora_b`` of q/k gets the same
permutation; Qwen2 does not. Refused with a clear error: DoRA, ``modules_to_save``, LoRA on the
embeddings or on a tied ``lm_head``, NaN/Inf weights. A pre-quantised base id is read as the
official base it was made from, and the report notes the rewrite.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dpo_assets.storage import atomic_path
from dpo_assets.training.base_model import is_prequantised, official_base_id

OUT_TYPES = ("f32", "f16", "q8_0")
PERMUTED_ARCHS = {"llama", "mistral", "granite"}  # q/k rows permuted by llama.cpp's converter
_PEFT_NAME = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<ab>[AB])(?:\.default)?\.weight$")


class AdapterConversionError(ValueError):
    """The adapter cannot be expressed as a llama.cpp LoRA adapter (the message says why)."""


@dataclass
class ConversionReport:
    path: Path
    architecture: str
    alpha: float
    tensors: dict[str, tuple[int, ...]] = field(default_factory=dict)
    out_type: str = "f16"
    folded_scales: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def load_base_config(base: str) -> tuple[dict[str, Any], str | None]:
    """``config.json`` of the unquantised base, and a note when the id had to be rewritten.

    A local folder is read as it is. A hub id is read through transformers (its cache, or the
    hub on a connected machine); a pre-quantised id (``unsloth/...-bnb-4bit``) is first rewritten
    to the official base it was made from, whose config is the one llama.cpp's tensors follow.
    """
    if Path(base, "config.json").is_file():
        return json.loads(Path(base, "config.json").read_text()), None
    note = None
    if is_prequantised(base):
        official = official_base_id(base)
        note = f"adapter base {base} is pre-quantised; its config was read from the official {official}"
        base = official
    try:
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(base).to_dict(), note
    except OSError as exc:
        raise AdapterConversionError(
            f"cannot read the base config of {base!r} (give a local unquantised folder or the official "
            f"hub id on a connected machine): {exc}"
        ) from exc


def _module_scale(module: str, config: dict[str, Any], rank: int) -> float:
    """The factor PEFT multiplies ``B @ A`` by for ``module``."""
    alpha = float(config.get("lora_alpha", rank))
    for pattern, value in (config.get("alpha_pattern") or {}).items():
        if re.search(rf"(^|\.){re.escape(pattern)}$", module) or re.fullmatch(pattern, module):
            alpha = float(value)
    return alpha / math.sqrt(rank) if config.get("use_rslora") else alpha / rank


def _permute(weights: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """llama.cpp's q/k row permutation (``convert_hf_to_gguf.LlamaModel.permute``)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _refuse_unsupported(
    adapter_config: dict[str, Any], base_config: dict[str, Any], modules: set[str]
) -> None:
    if adapter_config.get("use_dora"):
        raise AdapterConversionError("DoRA adapters (use_dora) have no llama.cpp equivalent")
    if adapter_config.get("modules_to_save"):
        raise AdapterConversionError(
            f"modules_to_save {adapter_config['modules_to_save']} would need full weights in the adapter"
        )
    if any("embed_tokens" in m or m.endswith("wte") for m in modules):
        raise AdapterConversionError("LoRA on the token embeddings is not supported by llama.cpp adapters")
    if any(m.endswith("lm_head") for m in modules) and base_config.get("tie_word_embeddings"):
        raise AdapterConversionError("LoRA on lm_head of a base with tied embeddings cannot be converted")


def _encode(array: np.ndarray, out_type: str):
    """(data, raw_dtype) for the writer; q8_0 falls back to f16 for rows not a multiple of 32."""
    import gguf

    if out_type == "f32":
        return array.astype(np.float32), None
    if out_type == "q8_0" and array.shape[-1] % 32 == 0:
        return gguf.quants.quantize(array.astype(np.float32), gguf.GGMLQuantizationType.Q8_0), (
            gguf.GGMLQuantizationType.Q8_0
        )
    return array.astype(np.float16), None


def write_gguf(writer, out_path: Path) -> None:
    """Write a filled ``gguf.GGUFWriter`` to ``out_path`` atomically (no partial file on failure)."""
    with atomic_path(out_path) as tmp:
        writer.write_header_to_file(path=tmp)
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()


def convert_adapter(
    adapter_dir: Path, out_path: Path, *, base: str | None = None, out_type: str = "f16"
) -> ConversionReport:
    """Write ``out_path`` (GGUF) from the PEFT adapter in ``adapter_dir``; the base config comes
    from ``base`` or the adapter's ``base_model_name_or_path``."""
    import gguf
    from safetensors.numpy import load_file

    if out_type not in OUT_TYPES:
        raise AdapterConversionError(f"out_type {out_type!r}: use one of {', '.join(OUT_TYPES)}")
    adapter_config = json.loads((adapter_dir / "adapter_config.json").read_text())
    if adapter_config.get("peft_type", "LORA") != "LORA":
        raise AdapterConversionError(f"peft_type {adapter_config.get('peft_type')!r} is not LoRA")
    base_config, base_note = load_base_config(base or adapter_config["base_model_name_or_path"])
    arch = str(base_config["model_type"])
    arch_enum = next((k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch), None)
    if arch_enum is None:
        raise AdapterConversionError(f"architecture {arch!r} is unknown to gguf {gguf.__version__}")
    names = gguf.get_tensor_name_map(arch_enum, int(base_config["num_hidden_layers"]))

    pairs: dict[str, dict[str, np.ndarray]] = {}
    for name, array in load_file(str(adapter_dir / "adapter_model.safetensors")).items():
        match = _PEFT_NAME.match(name)
        if match is None:
            raise AdapterConversionError(f"tensor {name!r} is not a LoRA A/B weight (a saved full module?)")
        pairs.setdefault(match["module"], {})[match["ab"]] = array.astype(np.float32)
    _refuse_unsupported(adapter_config, base_config, set(pairs))

    alpha = float(adapter_config.get("lora_alpha", adapter_config.get("r", 8)))
    report = ConversionReport(out_path, arch, alpha, out_type=out_type)
    if base_note:
        report.notes.append(base_note)
    writer = gguf.GGUFWriter(None, arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", alpha)
    writer.add_name(f"{adapter_dir.name} LoRA of {adapter_config.get('base_model_name_or_path', '?')}")
    for module in sorted(pairs):
        a, b = pairs[module].get("A"), pairs[module].get("B")
        if a is None or b is None:
            raise AdapterConversionError(f"module {module}: lora_A or lora_B is missing")
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            raise AdapterConversionError(f"module {module}: NaN or Inf in the LoRA weights")
        rank = a.shape[0]
        wanted, implied = _module_scale(module, adapter_config, rank), alpha / rank
        if not math.isclose(wanted, implied, rel_tol=1e-9):
            b = b * (wanted / implied)
            report.folded_scales[module] = wanted / implied
        target = names.get_name(module + ".weight", try_suffixes=(".weight",))
        if target is None:
            raise AdapterConversionError(f"module {module}: no llama.cpp tensor name for {arch}")
        if arch in PERMUTED_ARCHS and module.endswith(("q_proj", "k_proj")):
            heads = int(base_config["num_attention_heads"])
            kv = int(base_config.get("num_key_value_heads", heads)) if module.endswith("k_proj") else heads
            b = _permute(b, heads, kv)
        for suffix, array in ((".lora_a", a), (".lora_b", b)):
            data, raw = _encode(array, out_type)
            writer.add_tensor(target + suffix, data, raw_dtype=raw)
            report.tensors[target + suffix] = tuple(array.shape)
    if report.folded_scales:
        report.notes.append(
            f"folded rsLoRA/alpha_pattern scales into lora_b of {len(report.folded_scales)} modules"
        )
    write_gguf(writer, out_path)
    return report
