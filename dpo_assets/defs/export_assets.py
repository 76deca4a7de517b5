"""``ollama_adapter``: the adapter as GGUF + Modelfile, deployed to Ollama when a server answers.

Thin wiring over :mod:`dpo_assets.export`. Runs only on a GO scorecard unless forced; without a
reachable server it still writes the files and says "not deployed"; the check
``ollama_smoke`` fails on an empty answer or literal chat-template tokens.
"""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from dpo_assets import paths
from dpo_assets.defs.scorecard_assets import read_latest_adapter, scorecards_dir
from dpo_assets.export.gguf_adapter import OUT_TYPES, convert_adapter
from dpo_assets.export.ollama_deploy import (
    DEFAULT_BASE_TAG,
    ModelfileSettings,
    deploy,
    reachable,
    write_modelfile,
)

GROUP = "export"
GGUF_NAME = "adapter.gguf"


class OllamaExportConfig(dg.Config):
    force: bool = Field(default=False, description="Export even when the scorecard said NO-GO.")
    out_type: str = Field(default="f16", description=f"GGUF tensor type: {' | '.join(OUT_TYPES)}")
    base_tag: str = Field(default=DEFAULT_BASE_TAG, description="Ollama tag of the official base (FROM)")
    model_name: str = Field(default="dpo-coder", description="Ollama model to create (tag: the iteration)")
    host: str = Field(
        default="", description="Ollama server; empty: $OLLAMA_HOST, else http://127.0.0.1:11434"
    )
    temperature: float = 0.2
    top_p: float = 0.9
    num_ctx: int = 4096


def export_dir() -> Path:
    return paths.data_dir() / "ollama"


def _host(config: OllamaExportConfig) -> str:
    host = config.host or os.environ.get("OLLAMA_HOST", "") or "http://127.0.0.1:11434"
    return host if "://" in host else f"http://{host}"


@dg.asset(
    group_name=GROUP,
    deps=["scorecard"],
    output_required=False,
    code_version="ollama-adapter-v1",
    check_specs=[dg.AssetCheckSpec("ollama_smoke", asset="ollama_adapter")],
    description="The LoRA adapter as a llama.cpp GGUF adapter (gguf library) and a Modelfile (FROM the "
    "base tag, ADAPTER, PARAMETERs, no TEMPLATE) in data/ollama/<iteration>/; created in Ollama and "
    "smoke-tested when a server answers. Skipped on a NO-GO scorecard unless force=true.",
)
def ollama_adapter(context: dg.AssetExecutionContext, config: OllamaExportConfig) -> Iterator[Any]:
    adapter = read_latest_adapter()
    iteration = Path(adapter["adapter_dir"]).parent.name
    decision_file = scorecards_dir() / iteration / "decision.json"
    decision = json.loads(decision_file.read_text())["decision"] if decision_file.is_file() else "unscored"
    if decision != "GO" and not config.force:
        why = f"skipped: the scorecard of {iteration} is {decision} (force=true exports anyway)"
        context.log.warning(f"ollama_adapter {why}")
        yield dg.AssetCheckResult(
            check_name="ollama_smoke", passed=True, severity=dg.AssetCheckSeverity.WARN, description=why
        )
        return
    folder = export_dir() / iteration
    report = convert_adapter(Path(adapter["adapter_dir"]), folder / GGUF_NAME, out_type=config.out_type)
    settings = ModelfileSettings(config.base_tag, config.temperature, config.top_p, config.num_ctx)
    modelfile = write_modelfile(folder, GGUF_NAME, settings)
    host = _host(config)
    meta: dict[str, Any] = {
        "gguf": dg.MetadataValue.path(str(report.path)),
        "modelfile": dg.MetadataValue.md(f"```\n{modelfile.read_text()}```"),
        "architecture": report.architecture,
        "lora_alpha": report.alpha,
        "tensors": len(report.tensors),
        "out_type": report.out_type,
        "scorecard": decision,
        "notes": "; ".join(filter(None, [adapter["base"].get("rewrite"), *report.notes])) or "none",
    }
    deployment = None
    if adapter["base"]["stand_in"]:
        meta["deployed"] = "not deployed: the stand-in base has no Ollama tag"
    elif not reachable(host):
        meta["deployed"] = f"not deployed: no Ollama server at {host}"
    else:
        deployment = deploy(host, f"{config.model_name}:{iteration}", report.path, settings)
        meta["deployed"] = f"{deployment.model} on {host}"
        meta["smoke_answer"] = dg.MetadataValue.md(f"```\n{deployment.answer[:2000]}\n```")
    context.log.info(f"ollama_adapter: {report.path} ({len(report.tensors)} tensors); {meta['deployed']}")
    yield dg.MaterializeResult(metadata=meta)
    if deployment is None:
        yield dg.AssetCheckResult(
            check_name="ollama_smoke",
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            description=str(meta["deployed"]),
        )
    else:
        yield dg.AssetCheckResult(
            check_name="ollama_smoke",
            passed=not deployment.problems,
            description="; ".join(deployment.problems) or "non-empty answer without template tokens",
        )


export_assets = [ollama_adapter]
