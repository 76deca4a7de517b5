"""Layer 0 as Dagster assets: the raw JSONL files (observed) and ``raw_samples``."""


import hashlib
from pathlib import Path

import dagster as dg

from dpo_assets import paths
from dpo_assets.defs.metadata import counts_table, markdown_table
from dpo_assets.intake import discover_inputs, domain_mix, intake_files, rejection_counts
from dpo_assets.intake.frames import SAMPLE_COLUMNS, content_version
from dpo_assets.stage import StageFrames

GROUP = "intake"


def _input_files() -> list[Path]:
    return discover_inputs(paths.bundled_dir(), paths.inbox_dir())


@dg.observable_source_asset(
    group_name=GROUP,
    description="The raw-sample JSONL files: the bundled corpus plus anything dropped into data/inbox/. "
    "Its data version is a hash of their content, so new raw data marks raw_samples unsynced.",
)
def raw_sample_files() -> dg.DataVersion:
    digest = hashlib.sha256()
    for path in _input_files():
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return dg.DataVersion(digest.hexdigest()[:20])


@dg.asset(
    group_name=GROUP,
    deps=[raw_sample_files, "autopilot_batch"],
    io_manager_key="stage_io_manager",
    code_version="intake-v1",
    description="Layer 0: every line of every raw JSONL file validated (UTF-8, JSON object, required "
    "keys, known task, size, duplicates). Survivors and rejections-with-reasons, as Parquet.",
)
def raw_samples(context: dg.AssetExecutionContext) -> dg.Output[StageFrames]:
    files = _input_files()
    context.log.info(f"intake: reading {len(files)} file(s): {[p.name for p in files]}")
    _, frames = intake_files(files, paths.data_dir())
    accepted, rejected = frames.survivors, frames.rejections
    context.log.info(f"intake: {frames.rows_in} lines, {len(accepted)} accepted, {len(rejected)} rejected")
    return dg.Output(
        frames,
        data_version=dg.DataVersion(content_version(accepted, SAMPLE_COLUMNS[:5])),
        metadata={
            "dagster/row_count": len(accepted),
            "rows_in": frames.rows_in,
            "accepted": len(accepted),
            "rejected": len(rejected),
            "files": len(files),
            "rejections_by_reason": counts_table(rejection_counts(rejected)),
            "domain_mix": markdown_table(domain_mix(accepted)),
        },
    )
