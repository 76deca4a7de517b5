"""The numbers of one iteration report, gathered from the stage frames (no Dagster, no drawing)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from dpo_assets.gate.funnel import Funnel, build_funnel, top_reasons
from dpo_assets.pool.pairs import UNPAIRED_COLUMNS, domain_mix, rejected_by_layer
from dpo_assets.stage import StageFrames

NO_REASON = ""  # a layer that rejected nothing


@dataclass(frozen=True)
class ReportData:
    """Everything the charts and the page show; each field is a plain value or a small table."""

    run_id: str
    funnel: Funnel
    top_reasons: Mapping[int, str]  # layer -> most common normalized rejection reason
    pairs: pd.DataFrame  # dpo_pairs survivors (at least task_id, domain, rejected_layer)
    unpaired: pd.DataFrame  # dpo_pairs rejections: sample_id, task_id, domain, coverage, reason
    accounting: str
    decontaminated: int  # samples dropped for benchmark overlap
    decontamination_matches: int | None  # rows of the audit (None: no audit file)
    duplicates: int
    duplicates_by_method: Mapping[str, int] = field(default_factory=dict)
    review_status: str = ""

    @property
    def layer_names(self) -> dict[int, str]:
        return {step.layer: step.name for step in self.funnel.steps}

    def funnel_table(self) -> pd.DataFrame:
        """One row per layer (0 intake, 1-8): layer, name, in, passed, rejected, shrinkage_pct,
        top_reason."""
        table = self.funnel.table()
        table["top_reason"] = [self.top_reasons.get(int(layer), NO_REASON) for layer in table["layer"]]
        return table

    def mix_table(self) -> pd.DataFrame:
        """Per domain: rows and share (%) of the raw lines, the certified pool and the pairs."""
        by_domain = self.pairs_by_domain()
        pairs = pd.DataFrame(
            {
                "domain": by_domain["domain"],
                "pairs": by_domain["pairs"],
                "pairs_share_pct": (100.0 * by_domain["share"]).round(2),
            }
        )
        mix = self.funnel.mix_shift().merge(pairs, on="domain", how="outer")
        counts = ["raw_rows", "certified_rows", "pairs"]
        shares = ["raw_share_pct", "certified_share_pct", "shift_pp", "pairs_share_pct"]
        mix[counts] = mix[counts].fillna(0).astype("int64")
        mix[shares] = mix[shares].astype("float64").fillna(0.0)
        columns = ["domain", "raw_rows", "raw_share_pct", "certified_rows", "certified_share_pct"]
        columns += ["shift_pp", "pairs", "pairs_share_pct"]
        return mix[columns].sort_values("domain").reset_index(drop=True)

    def pairs_by_domain(self) -> pd.DataFrame:
        """Pairs per domain: domain, pairs, share (0-1)."""
        return domain_mix(self.pairs)

    def partners_by_layer(self) -> dict[int, int]:
        """Pairs by the layer that rejected the partner."""
        return rejected_by_layer(self.pairs)


def _first_reason(frames: StageFrames) -> str:
    reasons = frames.rejections["reason"] if "reason" in frames.rejections.columns else []
    top = top_reasons([str(r) for r in reasons], limit=1)
    return top[0][0] if top else NO_REASON


def gather(
    run_id: str,
    raw: StageFrames,
    layers: Sequence[tuple[int, str, StageFrames]],
    pairs: StageFrames,
    accounting: str,
    decontaminated: StageFrames,
    deduplicated: StageFrames,
    review_status: str,
    decontamination_matches: int | None = None,
) -> ReportData:
    """The report's numbers from layer 0's frames, each gate layer's ``(number, name, frames)``,
    the pool stages and the pairs (survivors: pairs, rejections: unpaired samples)."""
    reasons = {0: _first_reason(raw), **{number: _first_reason(frames) for number, _, frames in layers}}
    dups = deduplicated.rejections
    by_method: dict[str, int] = {}
    if len(dups) and {"kind", "method"} <= set(dups.columns):
        by_method = (dups["kind"].astype(str) + "/" + dups["method"].astype(str)).value_counts().to_dict()
    return ReportData(
        run_id=run_id,
        funnel=build_funnel(raw, layers),
        top_reasons=reasons,
        pairs=pairs.survivors,
        unpaired=pairs.rejections.reindex(columns=UNPAIRED_COLUMNS),
        accounting=accounting,
        decontaminated=len(decontaminated.rejections),
        decontamination_matches=decontamination_matches,
        duplicates=len(dups),
        duplicates_by_method=dict(sorted(by_method.items())),
        review_status=review_status,
    )
