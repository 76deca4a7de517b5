"""``chosen_pool``: the certified survivors of the gate, with the whole funnel as metadata."""

import dagster as dg
import pandas as pd

from dpo_assets.defs.gate_assets import asset_name
from dpo_assets.defs.metadata import funnel_metadata
from dpo_assets.gate.frames import GATE_REJECTION_COLUMNS
from dpo_assets.gate.funnel import build_funnel
from dpo_assets.gate.pipeline import LAYERS
from dpo_assets.stage import StageFrames

GROUP = "pool"
_LAYER_INPUTS = {asset_name(spec.number, spec.name): spec for spec in LAYERS}
_LEDGER_TYPES = {"line": "int64", "layer": "int64", "coverage": "float64"}


def rejection_ledger(raw: StageFrames, layers: list[StageFrames]) -> pd.DataFrame:
    """Every rejection of layers 0–8 in one table, by layer (layer 0 has no coverage)."""
    frames = [raw.rejections, *(f.rejections for f in layers)]
    frames = [f.reindex(columns=GATE_REJECTION_COLUMNS) for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=GATE_REJECTION_COLUMNS).astype(_LEDGER_TYPES)
    return pd.concat(frames, ignore_index=True).astype(_LEDGER_TYPES)


@dg.asset(
    group_name=GROUP,
    ins={"raw_samples": dg.AssetIn("raw_samples"), **{name: dg.AssetIn(name) for name in _LAYER_INPUTS}},
    io_manager_key="stage_io_manager",
    code_version="chosen-pool-v1",
    description="The certified candidates (survivors of gate_8_coverage), the pool chosen samples are "
    "drawn from; its rejections are every layer's rejections (layers 0-8) in one ledger, so each raw "
    "line is in exactly one of the two. Metadata: the whole funnel, per layer and per domain.",
)
def chosen_pool(context: dg.AssetExecutionContext, raw_samples: StageFrames, **layers: StageFrames):
    ordered = [(name, layers[name]) for name in _LAYER_INPUTS]
    funnel = build_funnel(
        raw_samples, [(_LAYER_INPUTS[name].number, _LAYER_INPUTS[name].name, f) for name, f in ordered]
    )
    pool = ordered[-1][1].survivors.reset_index(drop=True)
    ledger = rejection_ledger(raw_samples, [f for _, f in ordered])
    assert len(pool) + len(ledger) == funnel.raw_lines, "chosen pool accounting: a raw line was lost"
    context.log.info(f"chosen pool: {funnel.line()}")
    return dg.Output(StageFrames(pool, ledger), metadata=funnel_metadata(funnel))
