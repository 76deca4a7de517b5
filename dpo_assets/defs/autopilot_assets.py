"""The nightly autopilot: the daily batch asset, its schedule, and the training trigger sensor.

``autopilot_batch`` writes the day's candidates into ``data/inbox/autopilot-<date>.jsonl``
(offline generator by default); ``nightly_autopilot`` runs ``autopilot_job`` (batch → intake →
gate → pool → review queue) once a day; ``training_trigger`` requests ``training_job`` (pairs →
LoRA → scorecard → Ollama export, behind the review check) once the certified pool has grown
by the threshold since the last training. Both start stopped unless ``DPO_ASSETS_AUTOPILOT=1``.
"""

import datetime as dt
import os

import dagster as dg
from pydantic import Field

from dpo_assets import paths
from dpo_assets.autopilot.batches import batch_date, batch_file, batch_seed
from dpo_assets.autopilot.trigger import Cursor, decide, threshold_from_env
from dpo_assets.generator.batch import write_batch
from dpo_assets.generator.settings import LLMGeneratorSettings, OfflineSettings

GROUP = "autopilot"
POOL = dg.AssetKey("chosen_pool")
TRAINED = dg.AssetKey("lora_checkpoint")
CRON = "0 2 * * *"  # 02:00 UTC


class AutopilotBatchConfig(dg.Config):
    date: str = Field(default="", description="YYYY-MM-DD of the batch (default: today, UTC)")
    backend: str = Field(default="offline", description="offline | ollama | openai")
    count: int = Field(default=400, description="offline: candidates to derive from the corpus")
    model: str = Field(default="qwen2.5-coder:7b", description="ollama / openai: the model to ask")
    host: str = Field(default="", description="ollama / openai: server URL (default: the backend's)")
    api_key_env: str = Field(default="OPENAI_API_KEY", description="openai: env var with the API key")
    temperature: float = 0.8
    batch_size: int = Field(default=4, description="ollama / openai: implementations asked per task")
    tasks: list[str] = Field(default_factory=list, description="ollama / openai: task ids (empty: all)")
    retries: int = 3
    rate_limit: float = Field(default=0.0, description="requests per second (0: no limit)")


def batch_settings(config: AutopilotBatchConfig, day: dt.date) -> LLMGeneratorSettings | OfflineSettings:
    """The generator settings of the day's batch (the offline seed is fixed by the date)."""
    if config.backend == "offline":
        return OfflineSettings(count=config.count, seed=batch_seed(day))
    return LLMGeneratorSettings(
        backend=config.backend,
        model=config.model,
        base_url=config.host,
        api_key_env=config.api_key_env,
        temperature=config.temperature,
        tasks=tuple(config.tasks),
        batch_size=config.batch_size,
        retries=config.retries,
        rate_limit=config.rate_limit,
    )


@dg.asset(
    group_name=GROUP,
    code_version="autopilot-batch-v1",
    description="The day's candidates, written to data/inbox/autopilot-<date>.jsonl (re-running a day "
    "replaces its file): derived offline from the bundled corpus by default, or asked of an LLM "
    "(Ollama / OpenAI-compatible) with failing implementations turned into repair prompts.",
)
def autopilot_batch(context: dg.AssetExecutionContext, config: AutopilotBatchConfig) -> dg.MaterializeResult:
    day = batch_date(config.date)
    out = batch_file(paths.inbox_dir(), day)

    def progress(done: int, total: int) -> None:
        context.log.info(f"autopilot batch {day}: {done}/{total}")

    result = write_batch(batch_settings(config, day), out, progress=progress)
    if result.error:  # the server failed mid-batch: what was made before is kept, and said
        context.log.error(f"autopilot batch {day}: stopped after {result.written} records: {result.error}")
    if result.short:
        context.log.warning(
            f"autopilot batch {day}: {result.written} of {result.requested} (seeds exhausted)"
        )
    metadata = {k: v for k, v in result.as_metadata().items() if k != "path"}
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "dagster/row_count": result.written,
            "date": day.isoformat(),
            "file": dg.MetadataValue.path(str(out)),
            "by_task": dg.MetadataValue.json(result.by_task),
        }
    )


autopilot_job = dg.define_asset_job(
    "autopilot_job",
    selection=dg.AssetSelection.assets(autopilot_batch)
    | (dg.AssetSelection.assets("review_queue").upstream() - dg.AssetSelection.assets("raw_sample_files"))
    - dg.AssetSelection.checks_for_assets("review_queue"),  # signed off later, checked by training_job
    description="Nightly: the day's batch → intake → gate layers 1-8 → chosen pool → decontamination, dedup "
    "→ review queue (a human signs it off before the next training).",
)

training_job = dg.define_asset_job(
    "training_job",
    selection=dg.AssetSelection.assets("dpo_pairs", "iteration_report", "lora_checkpoint", "scorecard")
    | dg.AssetSelection.groups("export")
    | dg.AssetSelection.checks_for_assets("review_queue"),
    description="Pairs (held back by the blocking review check) → LoRA checkpoint → scorecard → Ollama "
    "adapter. Requested by training_trigger.",
)


def _autopilot_on() -> bool:
    """Schedule and sensor start running only with ``DPO_ASSETS_AUTOPILOT=1`` (else: stopped)."""
    return os.environ.get("DPO_ASSETS_AUTOPILOT") == "1"


@dg.schedule(
    cron_schedule=CRON,
    job=autopilot_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING if _autopilot_on() else dg.DefaultScheduleStatus.STOPPED,
    description="The day's batch through the gate into the pool and the review queue, at 02:00 UTC.",
)
def nightly_autopilot(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(
        run_key=f"autopilot-{day}",
        run_config={"ops": {"autopilot_batch": {"config": {"date": day}}}},
        tags={"dpo-assets/batch": day},
    )


def _latest_pool_size(instance: dg.DagsterInstance, before_storage_id: int | None = None) -> int | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=POOL, before_storage_id=before_storage_id), limit=1
    ).records
    if not records:
        return None
    value = records[0].asset_materialization.metadata.get("dagster/row_count")
    return int(value.value) if value is not None else None


def _pool_at_last_training(instance: dg.DagsterInstance) -> int:
    trained = instance.fetch_materializations(TRAINED, limit=1).records
    if not trained:
        return 0
    return _latest_pool_size(instance, before_storage_id=trained[0].storage_id) or 0


@dg.sensor(
    job=training_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING if _autopilot_on() else dg.DefaultSensorStatus.STOPPED,
    description="Requests training_job once the certified pool (chosen_pool rows) has grown by "
    "$DPO_ASSETS_TRAIN_THRESHOLD (default 500) since the last training.",
)
def training_trigger(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    cursor = Cursor.load(context.cursor)
    baseline = max(cursor.requested_at_pool, _pool_at_last_training(context.instance))
    decision = decide(_latest_pool_size(context.instance), baseline, threshold_from_env())
    if decision is None:
        return dg.SkipReason("chosen_pool has never been materialized")
    if not decision.train:
        return dg.SkipReason(decision.reason)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"train-at-pool-{decision.pool}",
                tags={"dpo-assets/trigger": decision.reason[:200]},
            )
        ],
        cursor=Cursor(decision.pool).dump(),
    )


autopilot_assets = [autopilot_batch]
autopilot_jobs = [autopilot_job, training_job]
autopilot_schedules = [nightly_autopilot]
autopilot_sensors = [training_trigger]
