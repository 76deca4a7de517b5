"""Which base model a run trains on, and the official id its adapter must name.

The adapter's ``base_model_name_or_path`` is read by the GGUF export and by Ollama users; it
must name the unquantised official base, never a pre-quantised ``-bnb-4bit`` repository
(whose config the converter cannot read). :func:`official_base_id` maps those back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dpo_assets.training.tiny_base import ensure_tiny_base

# Publishers of pre-quantised copies, and the official organisation of each model family.
_FAMILY_ORGS = (
    (re.compile(r"^(Qwen|QwQ)", re.I), "Qwen"),
    (re.compile(r"^(Llama|Meta-Llama|CodeLlama)", re.I), "meta-llama"),
    (re.compile(r"^(Mistral|Mixtral|Codestral)", re.I), "mistralai"),
    (re.compile(r"^(gemma)", re.I), "google"),
    (re.compile(r"^(Phi)", re.I), "microsoft"),
    (re.compile(r"^(deepseek)", re.I), "deepseek-ai"),
)
_QUANT_SUFFIX = re.compile(r"(-unsloth)?-bnb-4bit$|-(4|8)bit$|-(GPTQ|AWQ)(-Int[48])?$", re.I)
_REPACKAGERS = {"unsloth", "unslothai"}


@dataclass(frozen=True)
class BaseModel:
    """Where to load the base from, and what the adapter records as its base."""

    load_from: str  # hub id or local folder
    official_id: str  # goes into adapter_config.json's base_model_name_or_path
    rewrite: str | None  # a note when official_id differs from what was configured
    stand_in: bool


def is_prequantised(model_id: str) -> bool:
    return bool(_QUANT_SUFFIX.search(model_id.rstrip("/")))


def official_base_id(model_id: str) -> str:
    """``unsloth/Qwen2.5-Coder-7B-Instruct-bnb-4bit`` -> ``Qwen/Qwen2.5-Coder-7B-Instruct``.

    Ids that are not pre-quantised come back unchanged; a quantised copy from an unknown
    family keeps its organisation and loses the suffix.
    """
    if not is_prequantised(model_id):
        return model_id
    org, _, name = model_id.rstrip("/").rpartition("/")
    name = _QUANT_SUFFIX.sub("", name)
    if not org or org.lower() in _REPACKAGERS:
        org = next((official for pattern, official in _FAMILY_ORGS if pattern.match(name)), org)
    return f"{org}/{name}" if org else name


def resolve_base(configured: str, models_dir: Path | None = None) -> BaseModel:
    """The base for ``configured`` (hub id or local folder; empty: the offline stand-in)."""
    if not configured:
        folder = ensure_tiny_base(models_dir / "tiny-qwen2" if models_dir else None)
        return BaseModel(str(folder), str(folder), None, stand_in=True)
    if Path(configured).is_dir():
        return BaseModel(configured, configured, None, stand_in=False)
    official = official_base_id(configured)
    rewrite = (
        None
        if official == configured
        else f"base_model_name_or_path: {configured} (pre-quantised) rewritten to {official}"
    )
    return BaseModel(configured, official, rewrite, stand_in=False)
