"""A small synthetic run (two domains, every layer rejecting a little) for the report tests."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pytest

from dpo_assets.gate.pipeline import LAYERS
from dpo_assets.report.data import ReportData, gather
from dpo_assets.stage import StageFrames

HOSTILE_REASON = "<script>alert('x')</script> | broke the table"


def _rejected(frame: pd.DataFrame, layer: int, reason: str) -> pd.DataFrame:
    return frame[["sample_id", "task_id"]].assign(layer=layer, reason=reason)


def synthetic_run(per_domain: dict[str, int], rejects: Sequence[int]) -> tuple[StageFrames, list]:
    """Layer 0 (intake) and layers 1-8 where layer ``n`` rejects the first ``rejects[n]`` rows
    that reach it; layer 3's reason is :data:`HOSTILE_REASON`."""
    ids = [(f"{domain}/task", f"{domain}-{i}") for domain, n in per_domain.items() for i in range(n)]
    rows = pd.DataFrame({"task_id": [t for t, _ in ids], "sample_id": [s for _, s in ids]})
    raw = StageFrames(
        rows.iloc[rejects[0] :].reset_index(drop=True), _rejected(rows.iloc[: rejects[0]], 0, "bad json")
    )
    layers, upstream = [], raw.survivors
    for spec, count in zip(LAYERS, rejects[1:]):
        reason = HOSTILE_REASON if spec.number == 3 else f"failed check {spec.number} on input [1, 2]"
        frames = StageFrames(
            upstream.iloc[count:].reset_index(drop=True),
            _rejected(upstream.iloc[:count], spec.number, reason),
        )
        layers.append((spec.number, spec.name, frames))
        upstream = frames.survivors
    return raw, layers


def synthetic_report(run_id: str = "abc12345") -> ReportData:
    raw, layers = synthetic_run({"fft": 12, "monte_carlo": 9}, [2, 1, 0, 3, 1, 0, 1, 2, 1])
    certified = layers[-1][2].survivors
    pairs = certified.iloc[:6].assign(domain=lambda f: f["task_id"].str.split("/").str[0])
    pairs = pairs.assign(rejected_layer=[7, 7, 3, 8, 1, 7])
    unpaired = certified.iloc[6:8].assign(
        domain=lambda f: f["task_id"].str.split("/").str[0],
        coverage=[91.5, None],
        reason="no_rejected_partner",
    )
    decontaminated = StageFrames(certified.iloc[8:], certified.iloc[8:9])
    deduplicated = StageFrames(
        certified.iloc[:8], certified.iloc[9:].assign(kind="exact", method="normalized")
    )
    return gather(
        run_id,
        raw,
        layers,
        StageFrames(pairs, unpaired),
        accounting=f"chosen {len(certified)} = paired 6 + unpaired 2 + decontaminated 1 + deduplicated "
        f"{len(certified) - 9}",
        decontaminated=decontaminated,
        deduplicated=deduplicated,
        review_status="all 3 queued samples approved",
        decontamination_matches=4,
    )


@pytest.fixture
def report() -> ReportData:
    return synthetic_report()


@pytest.fixture
def hostile_reason() -> str:
    """The rejection reason of every layer-3 rejection in ``report``."""
    return HOSTILE_REASON


@pytest.fixture
def report_without_pairs() -> ReportData:
    """Every sample certified, no pairs, no unpaired samples, empty pool stages."""
    raw, layers = synthetic_run({"fft": 3}, [0] * (len(LAYERS) + 1))
    none = pd.DataFrame({"sample_id": pd.Series(dtype=str)})
    pairs = pd.DataFrame(
        {c: pd.Series(dtype=str) for c in ("sample_id", "task_id", "domain", "rejected_layer")}
    )
    return gather(
        "nopairs",
        raw,
        layers,
        StageFrames(pairs, none),
        "",
        StageFrames(none, none),
        StageFrames(none, none),
        "",
    )
