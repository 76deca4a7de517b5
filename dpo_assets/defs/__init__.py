"""Dagster definitions: the asset graph of dpo-assets (thin wiring over plain modules)."""

from __future__ import annotations

import dagster as dg

from dpo_assets.defs.autopilot_assets import (
    autopilot_assets,
    autopilot_jobs,
    autopilot_schedules,
    autopilot_sensors,
)
from dpo_assets.defs.executor import select_executor
from dpo_assets.defs.export_assets import export_assets
from dpo_assets.defs.gate_assets import gate_assets
from dpo_assets.defs.intake_assets import raw_sample_files, raw_samples
from dpo_assets.defs.io import StageParquetIOManager
from dpo_assets.defs.pairs_assets import pairs_assets, pairs_checks
from dpo_assets.defs.pool_assets import chosen_pool
from dpo_assets.defs.report_assets import iteration_report
from dpo_assets.defs.scorecard_assets import scorecard_assets
from dpo_assets.defs.training_assets import training_assets

main_job = dg.define_asset_job(
    "main_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("autopilot"),
    description="Everything from raw samples to the last stage, on the current inputs (no new batch).",
)
curation_job = dg.define_asset_job(
    "curation_job",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.groups("autopilot", "training", "scorecard", "export"),
    description="Raw samples to pairs and the iteration report, without training.",
)

defs = dg.Definitions(
    assets=[
        *autopilot_assets,
        raw_sample_files,
        raw_samples,
        *gate_assets,
        chosen_pool,
        *pairs_assets,
        iteration_report,
        *training_assets,
        *scorecard_assets,
        *export_assets,
    ],
    asset_checks=pairs_checks,
    jobs=[main_job, curation_job, *autopilot_jobs],
    schedules=autopilot_schedules,
    sensors=autopilot_sensors,
    resources={"stage_io_manager": StageParquetIOManager()},
    executor=select_executor(),
)
