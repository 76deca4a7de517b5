"""Gate layers over tables: a stage's survivors DataFrame in, survivors + rejections out."""

from __future__ import annotations

import json

import pandas as pd

from dpo_assets.gate.pipeline import DEFAULT_WORKERS, LayerResult, OnDone, Progress, run_layer_on
from dpo_assets.intake.frames import REJECTION_COLUMNS
from dpo_assets.intake.validate import Sample
from dpo_assets.sandbox.executor import Executor
from dpo_assets.stage import StageFrames

GATE_REJECTION_COLUMNS = [*REJECTION_COLUMNS, "coverage"]


def samples_from_frame(frame: pd.DataFrame) -> list[Sample]:
    """Rows of a survivors table as intake samples (extras carried as JSON)."""

    def text(value: object) -> str | None:
        return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)

    return [
        Sample(
            sample_id=str(row.sample_id),
            task_id=str(row.task_id),
            code=str(row.code),
            origin=text(row.origin) or "",
            broken_code=text(row.broken_code),
            traceback=text(row.traceback),
            extra=json.loads(row.extra) if text(row.extra) else {},
        )
        for row in frame.itertuples(index=False)
    ]


def layer_frames(frame: pd.DataFrame, result: LayerResult, layer: int) -> StageFrames:
    """Split ``frame`` by ``result``: survivors keep every column (layer 8 adds ``coverage``)."""
    kept = {s.sample_id for s in result.survivors}
    survivors = frame[frame["sample_id"].isin(kept)].reset_index(drop=True)
    if layer == 8:
        survivors = survivors.assign(coverage=[result.coverage.get(i) for i in survivors["sample_id"]])
    where = frame.set_index("sample_id")[["source", "line"]]
    rows = [
        {
            "source": where.at[r.sample_id, "source"],
            "line": int(where.at[r.sample_id, "line"]),
            "sample_id": r.sample_id,
            "task_id": r.task_id,
            "layer": r.layer,
            "code": f"layer_{layer}",
            "reason": r.reason,
            "evidence": r.evidence,
            "coverage": r.coverage,
        }
        for r in result.rejections
    ]
    rejections = pd.DataFrame(rows, columns=GATE_REJECTION_COLUMNS).astype(
        {"line": "int64", "layer": "int64", "coverage": "float64"}
    )
    return StageFrames(survivors, rejections)


def run_layer_on_frame(
    layer: int,
    frame: pd.DataFrame,
    executor: Executor | None,
    threshold: float,
    progress: Progress | None = None,
    workers: int = DEFAULT_WORKERS,
    on_done: OnDone | None = None,
) -> StageFrames:
    """Run gate ``layer`` over a survivors table (the Dagster assets' entry point)."""
    result = run_layer_on(layer, samples_from_frame(frame), executor, threshold, progress, workers, on_done)
    return layer_frames(frame, result, layer)
