"""Intake results as tables (survivors and rejections) plus their summary numbers."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from dpo_assets.intake.validate import LineResult
from dpo_assets.stage import StageFrames

SAMPLE_COLUMNS = [
    "sample_id", "task_id", "domain", "code", "origin", "broken_code", "traceback", "extra",
    "source", "line",
]
REJECTION_COLUMNS = ["source", "line", "sample_id", "task_id", "layer", "code", "reason", "evidence"]


def read_sources(paths: Iterable[Path], root: Path | None = None) -> list[tuple[str, bytes]]:
    """Read each JSONL file as bytes, named relative to ``root`` when given."""
    out = []
    for path in paths:
        name = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
        out.append((name, path.read_bytes()))
    return out


def to_frames(results: Sequence[LineResult]) -> StageFrames:
    """Split line results into a samples table and a rejections table."""
    samples, rejections = [], []
    for r in results:
        if r.sample is not None:
            s = r.sample
            samples.append(
                {
                    "sample_id": s.sample_id,
                    "task_id": s.task_id,
                    "domain": s.domain,
                    "code": s.code,
                    "origin": s.origin,
                    "broken_code": s.broken_code,
                    "traceback": s.traceback,
                    "extra": json.dumps(s.extra, sort_keys=True, ensure_ascii=False),
                    "source": r.source,
                    "line": r.line,
                }
            )
        else:
            assert r.rejection is not None
            rejections.append(
                {
                    "source": r.source,
                    "line": r.line,
                    "sample_id": r.rejection.sample_id,
                    "task_id": r.rejection.task_id,
                    "layer": 0,
                    "code": r.rejection.code,
                    "reason": r.rejection.reason,
                    "evidence": "",
                }
            )
    survivors = pd.DataFrame(samples, columns=SAMPLE_COLUMNS).astype(
        {"line": "int64", "sample_id": "string", "task_id": "string", "domain": "string"}
    )
    rejected = pd.DataFrame(rejections, columns=REJECTION_COLUMNS).astype({"line": "int64", "layer": "int64"})
    return StageFrames(survivors, rejected)


def content_version(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """A data version that follows content: a hash of ``columns`` of every row, in order."""
    digest = hashlib.sha256()
    for row in frame[list(columns)].itertuples(index=False):
        digest.update(json.dumps([None if pd.isna(v) else v for v in row], ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:20]


def domain_mix(samples: pd.DataFrame) -> pd.DataFrame:
    """Rows per domain and task, with shares."""
    if samples.empty:
        return pd.DataFrame(columns=["domain", "task_id", "samples", "share"])
    mix = samples.groupby(["domain", "task_id"], as_index=False).size().rename(columns={"size": "samples"})
    mix["share"] = (mix["samples"] / mix["samples"].sum()).round(4)
    return mix.sort_values(["domain", "task_id"]).reset_index(drop=True)


def rejection_counts(rejections: pd.DataFrame) -> dict[str, int]:
    return dict(Counter(rejections["code"]).most_common()) if not rejections.empty else {}
