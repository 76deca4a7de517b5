"""``iteration_report``: charts and a Markdown/HTML page of the run, from raw lines to DPO pairs.

Thin wiring over :mod:`dpo_assets.report`; the page lands in ``data/reports/latest/`` and in
``data/reports/<run id>/`` (earlier iterations are kept).
"""


import dagster as dg

from dpo_assets import paths
from dpo_assets.defs.gate_assets import asset_name
from dpo_assets.defs.metadata import embedded_png
from dpo_assets.defs.pairs_assets import REVIEW_SKIPPED, accounting, audit_path, review_required, signoff_path
from dpo_assets.gate.pipeline import LAYERS
from dpo_assets.pool.review import SignOffError, load_signoff, review_status
from dpo_assets.report.data import gather
from dpo_assets.report.page import (
    FUNNEL_PNG,
    INDEX_HTML,
    INDEX_MD,
    MIX_PNG,
    PAIRS_PNG,
    copy_report,
    write_report,
)
from dpo_assets.stage import StageFrames
from dpo_assets.storage import read_parquet

GROUP = "report"
_POOL_INPUTS = ("chosen_pool", "decontaminated_pool", "deduplicated_pool", "review_queue", "dpo_pairs")
_LAYER_INPUTS = {asset_name(spec.number, spec.name): spec for spec in LAYERS}
_CHARTS = {"funnel_chart": FUNNEL_PNG, "domain_mix_chart": MIX_PNG, "pairs_chart": PAIRS_PNG}


def review_text(queue: StageFrames) -> str:
    """The sign-off status of the review queue (the default sign-off file), marked when the run
    did not require a review."""
    queue_ids = queue.survivors["sample_id"].astype(str).tolist()
    try:
        text = review_status(queue_ids, load_signoff(signoff_path())).describe()
    except SignOffError as exc:
        text = str(exc)
    return text if review_required() else f"{REVIEW_SKIPPED} ({text})"


def _audit_rows() -> int | None:
    path = audit_path()
    return len(read_parquet(path)) if path.is_file() else None


@dg.asset(
    group_name=GROUP,
    ins={
        "raw_samples": dg.AssetIn("raw_samples"),
        **{name: dg.AssetIn(name) for name in _LAYER_INPUTS},
        **{name: dg.AssetIn(name) for name in _POOL_INPUTS},
    },
    code_version="iteration-report-v1",
    description="The iteration report: charts (gate funnel, domain mix before/after, pairs summary) and "
    "a page (index.html, index.md) with the funnel, the domain mix, the pairs per domain and by the "
    "partner's failed layer, the unpaired samples, the accounting, decontamination, duplicates and "
    "the review status. Written to data/reports/latest/ and data/reports/<run id>/.",
)
def iteration_report(
    context: dg.AssetExecutionContext,
    raw_samples: StageFrames,
    chosen_pool: StageFrames,
    decontaminated_pool: StageFrames,
    deduplicated_pool: StageFrames,
    review_queue: StageFrames,
    dpo_pairs: StageFrames,
    **layers: StageFrames,
) -> dg.MaterializeResult:
    run_id = context.run.run_id[:8]
    line = accounting(
        len(chosen_pool.survivors),
        len(dpo_pairs.survivors),
        len(dpo_pairs.rejections),
        len(decontaminated_pool.rejections),
        len(deduplicated_pool.rejections),
    )
    data = gather(
        run_id,
        raw_samples,
        [(spec.number, spec.name, layers[name]) for name, spec in _LAYER_INPUTS.items()],
        dpo_pairs,
        line,
        decontaminated_pool,
        deduplicated_pool,
        review_text(review_queue),
        decontamination_matches=_audit_rows(),
    )
    if data.funnel.certified != len(chosen_pool.survivors):
        raise ValueError(
            "chosen_pool and the gate layers come from different runs: re-materialize them together"
        )
    files = write_report(paths.reports_dir() / run_id, data)
    latest = copy_report(files, paths.reports_dir() / "latest")
    context.log.info(f"iteration report: {latest[INDEX_HTML]} (kept as {files[INDEX_HTML]})")
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(files[INDEX_HTML])),
            "report_md": dg.MetadataValue.path(str(files[INDEX_MD])),
            "latest": dg.MetadataValue.path(str(latest[INDEX_HTML])),
            **{f"{key}_png": dg.MetadataValue.path(str(files[name])) for key, name in _CHARTS.items()},
            **{key: embedded_png(files[name], key.removesuffix("_chart")) for key, name in _CHARTS.items()},
            "funnel": data.funnel.line(),
            "pairs": len(data.pairs),
            "unpaired": len(data.unpaired),
            "accounting": line,
            "run_folder": dg.MetadataValue.path(str(files[INDEX_HTML].parent)),
        }
    )
