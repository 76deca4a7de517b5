"""Turning stage numbers into Dagster metadata (tables render in the UI)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from dpo_assets.gate import funnel
from dpo_assets.intake import domain_mix
from dpo_assets.stage import StageFrames


def embedded_png(path: Path, alt: str) -> dg.MetadataValue:
    """The PNG at ``path`` inlined as Markdown (``data:`` URI), so the UI shows it with the asset."""
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{encoded})")


def _cell(value: object) -> object:
    return value.replace("|", "\\|") if isinstance(value, str) else value  # a "|" would split the cell


def markdown_table(frame: pd.DataFrame) -> dg.MetadataValue:
    if frame.empty:
        return dg.MetadataValue.md("_(none)_")
    return dg.MetadataValue.md(frame.map(_cell).to_markdown(index=False))


def counts_table(counts: Mapping[str, int], key: str = "reason") -> dg.MetadataValue:
    return markdown_table(pd.DataFrame({key: list(counts), "rows": list(counts.values())}))


def reasons_table(reasons: Sequence[str], limit: int = funnel.TOP_REASONS) -> dg.MetadataValue:
    """The most common normalized rejection reasons with their counts."""
    return counts_table(dict(funnel.top_reasons(reasons, limit)))


def layer_metadata(upstream: pd.DataFrame, frames: StageFrames, seconds: float) -> dict[str, Any]:
    """Metadata of a gate layer that took ``seconds`` over the ``upstream`` survivors."""
    rows_in, passed = len(upstream), len(frames.survivors)
    return {
        "dagster/row_count": passed,
        "rows_in": rows_in,
        "passed": passed,
        "rejected": len(frames.rejections),
        "shrinkage_pct": round(100.0 * (rows_in - passed) / rows_in, 2) if rows_in else 0.0,
        "rejections_by_task": counts_table(frames.rejections["task_id"].value_counts().to_dict(), "task"),
        "top_rejection_reasons": reasons_table(frames.rejections["reason"].tolist()),
        "domain_mix": markdown_table(domain_mix(frames.survivors)),
        "domain_mix_before_after": markdown_table(
            funnel.domain_shift(funnel.domains(upstream), funnel.domains(frames.survivors))
        ),
        "elapsed_s": round(seconds, 3),
        "candidates_per_s": funnel.throughput(rows_in, seconds),
    }


def funnel_metadata(result: funnel.Funnel) -> dict[str, Any]:
    """Metadata of the chosen pool: the whole funnel from raw lines to certified candidates."""
    raw, certified = result.raw_lines, result.certified
    return {
        "dagster/row_count": certified,
        "raw_lines": raw,
        "certified": certified,
        "certified_pct": round(100.0 * certified / raw, 2) if raw else 0.0,
        "funnel": result.line(),
        "funnel_by_layer": markdown_table(result.table()),
        "funnel_by_domain": markdown_table(result.domain_counts),
        "domain_mix_shift": markdown_table(result.mix_shift()),
    }


def _one_line(text: object, limit: int = 80) -> str:
    flat = " ⏎ ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def audit_table(audit: pd.DataFrame, limit: int = 20) -> dg.MetadataValue:
    """The first ``limit`` benchmark matches (exact ones first): sample, benchmark, problem, kind,
    snippet (on one line)."""
    if audit.empty:
        return markdown_table(audit)
    top = audit.assign(_rank=(audit["kind"] != "exact").astype(int)).sort_values("_rank", kind="stable")
    top = top.head(limit)
    return markdown_table(
        pd.DataFrame(
            {
                "sample": top["sample_id"],
                "benchmark": top["benchmark"],
                "problem": top["problem_id"],
                "kind": top["kind"] + "/" + top["field"],
                "snippet": top["snippet"].map(_one_line),
            }
        )
    )


def duplicates_table(duplicates: pd.DataFrame, limit: int = 50) -> dg.MetadataValue:
    """Dropped duplicates: sample, task, the kept sample it duplicates, kind, method, similarity."""
    columns = ["sample_id", "task_id", "duplicate_of", "kind", "method", "similarity"]
    return markdown_table(duplicates.reindex(columns=columns).head(limit))
