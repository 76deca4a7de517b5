"""Gate layers 1-8 as Dagster assets: each consumes the previous layer's survivors."""

import hashlib
import time
from pathlib import Path

import dagster as dg

from dpo_assets.defs.metadata import layer_metadata
from dpo_assets.gate.frames import run_layer_on_frame
from dpo_assets.gate.layers.coverage import DEFAULT_THRESHOLD
from dpo_assets.gate.pipeline import LAYERS
from dpo_assets.stage import StageFrames

GROUP = "gate"


class GateConfig(dg.Config):
    """Run configuration of a gate layer."""

    coverage_threshold: float = DEFAULT_THRESHOLD  # layer 8 certifies at this percent


def asset_name(number: int, name: str) -> str:
    return f"gate_{number}_{name}"


_PACKAGE = Path(__file__).resolve().parents[1]


def layer_code_version(name: str) -> str:
    """A hash of what decides a layer's verdicts: its module, the shared engine and sandbox
    code, and every task unit's material, so editing any of them marks the layer changed."""
    files = [_PACKAGE / "gate" / "layers" / f"{name}.py", _PACKAGE / "gate" / "engine.py"]
    files.append(_PACKAGE / "gate" / "pipeline.py")  # how verdicts and reasons are formed
    files += sorted((_PACKAGE / "sandbox").glob("*.py")) + sorted((_PACKAGE / "tasks").rglob("*.py"))
    files += sorted((_PACKAGE / "tasks").rglob("*.txt"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(_PACKAGE)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _make_layer_asset(number: int, name: str, upstream: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=asset_name(number, name),
        group_name=GROUP,
        ins={"upstream": dg.AssetIn(upstream)},
        io_manager_key="stage_io_manager",
        code_version=layer_code_version(name),
        description=f"Gate layer {number} ({name}) over the survivors of {upstream}: "
        "survivors and rejections with reasons and evidence.",
    )
    def layer_asset(context: dg.AssetExecutionContext, config: GateConfig, upstream: StageFrames):
        from dpo_assets.sandbox import get_sandbox

        spec = LAYERS[number - 1]
        executor = None if spec.pure else get_sandbox()
        started = time.monotonic()
        frames = run_layer_on_frame(
            number, upstream.survivors, executor, config.coverage_threshold, progress=context.log.info
        )
        metadata = layer_metadata(upstream.survivors, frames, time.monotonic() - started)
        if number == 8 and len(frames.survivors):
            metadata["mean_coverage"] = round(float(frames.survivors["coverage"].mean()), 2)
        return dg.Output(frames, metadata=metadata)

    return layer_asset


def build_gate_assets(first_upstream: str = "raw_samples") -> list[dg.AssetsDefinition]:
    assets, upstream = [], first_upstream
    for spec in LAYERS:
        assets.append(_make_layer_asset(spec.number, spec.name, upstream))
        upstream = asset_name(spec.number, spec.name)
    return assets


gate_assets = build_gate_assets()
