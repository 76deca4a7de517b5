"""ollama_adapter: skipped on NO-GO, exports on GO or when forced, 'not deployed' without a server."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from gguf import GGUFReader

from dpo_assets.defs.export_assets import ollama_adapter


@pytest.fixture
def trained(data_root: Path, tiny_base: Path) -> Path:
    """A LoRA adapter of the stand-in named in data/models/lora/latest.json, as training leaves it."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    adapter = data_root / "models" / "lora" / "it-1" / "adapter"
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_base), LoraConfig(r=4, target_modules=["q_proj"])
    )
    model.save_pretrained(str(adapter))
    latest = {"adapter_dir": str(adapter), "base": {"stand_in": True, "load_from": str(tiny_base)}}
    (adapter.parent.parent / "latest.json").write_text(json.dumps(latest))
    return adapter


def _run(tmp_path: Path, config: dict) -> dg.ExecuteInProcessResult:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        return dg.materialize([ollama_adapter], instance=instance,
                              run_config={"ops": {"ollama_adapter": {"config": config}}})  # fmt: skip


def _decide(data_root: Path, decision: str) -> None:
    folder = data_root / "scorecards" / "it-1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "decision.json").write_text(json.dumps({"decision": decision}))


def test_no_go_skips_the_export(data_root: Path, trained: Path, tmp_path: Path) -> None:
    _decide(data_root, "NO-GO")
    result = _run(tmp_path, {})
    assert result.success and not result.get_asset_materialization_events()
    assert not (data_root / "ollama").exists()


@pytest.mark.parametrize(("decision", "config"), [("GO", {}), ("NO-GO", {"force": True})])
def test_go_or_force_writes_gguf_and_modelfile(
    data_root: Path, trained: Path, tmp_path: Path, decision: str, config: dict
) -> None:
    _decide(data_root, decision)
    result = _run(tmp_path, {**config, "out_type": "f32"})
    [event] = result.get_asset_materialization_events()
    meta = {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}
    folder = data_root / "ollama" / "it-1"
    reader = GGUFReader(str(folder / "adapter.gguf"))
    assert reader.fields["general.type"].contents() == "adapter" and len(reader.tensors) == 2 * 2
    assert (folder / "Modelfile").read_text().startswith("FROM qwen2.5-coder:7b\nADAPTER ./adapter.gguf\n")
    assert meta["deployed"].startswith("not deployed") and meta["scorecard"] == decision
    [check] = result.get_asset_check_evaluations()
    assert check.passed and check.severity == dg.AssetCheckSeverity.WARN
