"""The nightly schedule, the daily batch, and the jobs it and the trigger run."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pytest

from dpo_assets.autopilot.batches import batch_date, batch_file, batch_seed
from dpo_assets.defs import defs
from dpo_assets.defs.autopilot_assets import (
    AutopilotBatchConfig,
    autopilot_batch,
    batch_settings,
    nightly_autopilot,
)
from dpo_assets.defs.intake_assets import raw_samples
from dpo_assets.defs.io import StageParquetIOManager
from dpo_assets.generator.batch import write_batch
from dpo_assets.generator.settings import LLMGeneratorSettings, OfflineSettings, SettingsError


def test_batch_dates_files_and_seeds() -> None:
    assert batch_date("2026-11-25") == dt.date(2026, 11, 25)
    assert batch_date("", now=dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)) == dt.date(2026, 11, 26)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        batch_date("25/11/2026")
    assert batch_file(Path("inbox"), dt.date(2026, 11, 25)) == Path("inbox/autopilot-2026-11-25.jsonl")
    assert batch_seed(dt.date(2026, 11, 25)) == batch_seed(dt.date(2026, 11, 25))
    assert batch_seed(dt.date(2026, 11, 25)) != batch_seed(dt.date(2026, 11, 26))


def test_the_schedule_requests_the_day_s_batch_once() -> None:
    when = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    request = nightly_autopilot(dg.build_schedule_context(scheduled_execution_time=when))
    assert request.run_key == "autopilot-2026-11-26"
    assert request.run_config == {"ops": {"autopilot_batch": {"config": {"date": "2026-11-26"}}}}
    job = defs.resolve_job_def("autopilot_job")
    assert dg.validate_run_config(job, request.run_config)
    schedule = defs.resolve_schedule_def("nightly_autopilot")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def _keys(job_name: str) -> set[str]:
    return {k.to_user_string() for k in defs.resolve_job_def(job_name).asset_layer.selected_asset_keys}


def test_the_jobs_cover_their_stages() -> None:
    nightly, training = _keys("autopilot_job"), _keys("training_job")
    assert {"autopilot_batch", "raw_samples", "gate_8_coverage", "chosen_pool", "review_queue"} <= nightly
    assert not nightly & {"dpo_pairs", "lora_checkpoint", "scorecard", "ollama_adapter"}
    assert training == {"dpo_pairs", "iteration_report", "lora_checkpoint", "scorecard", "ollama_adapter"}
    assert "autopilot_batch" not in _keys("main_job") | _keys("curation_job")
    checks = {name: {k.name for k in defs.resolve_job_def(name).asset_layer.asset_graph.asset_check_keys}
              for name in ("autopilot_job", "training_job")}  # fmt: skip
    assert checks == {
        "autopilot_job": set(),
        "training_job": {"review_signed_off", "go_no_go", "ollama_smoke"},
    }


@pytest.fixture
def fft_corpus(data_root: Path) -> Path:
    """A data folder whose bundled corpus is the FFT task's file alone."""
    source = Path(__file__).resolve().parents[2] / "data" / "bundled" / "fft__transform.jsonl"
    target = data_root / "bundled" / source.name
    target.write_text(source.read_text())
    return target


def test_the_batch_settings_follow_the_config_and_the_date(data_root: Path, fft_corpus: Path) -> None:
    day = dt.date(2026, 11, 25)
    offline = batch_settings(AutopilotBatchConfig(count=12), day)
    assert offline == OfflineSettings(count=12, seed=batch_seed(day))
    first = write_batch(offline, data_root / "a.jsonl")
    write_batch(batch_settings(AutopilotBatchConfig(count=12), day), data_root / "b.jsonl")
    assert first.written == 12 and first.by_task == {"fft/transform": 12} and first.tasks == 1
    assert (data_root / "a.jsonl").read_text() == (data_root / "b.jsonl").read_text()
    llm = batch_settings(
        AutopilotBatchConfig(backend="openai", model="m", host="http://127.0.0.1:9", tasks=["fft/transform"]),
        day,
    )
    assert isinstance(llm, LLMGeneratorSettings) and llm.base_url == "http://127.0.0.1:9"
    assert llm.tasks == ("fft/transform",) and llm.validate() is llm
    with pytest.raises(SettingsError, match="got 'gpt'"):
        write_batch(batch_settings(AutopilotBatchConfig(backend="gpt"), day), data_root / "c.jsonl")
    assert not (data_root / "c.jsonl").exists()


def test_the_batch_lands_in_the_inbox_and_intake_reads_it(data_root: Path, fft_corpus: Path) -> None:
    seeds = sum(1 for line in fft_corpus.read_text().splitlines() if line.strip())
    config = {"ops": {"autopilot_batch": {"config": {"date": "2026-11-25", "count": 15}}}}
    result = dg.materialize(
        [autopilot_batch, raw_samples],
        run_config=config,
        resources={"stage_io_manager": StageParquetIOManager()},
    )
    assert result.success
    written = data_root / "inbox" / "autopilot-2026-11-25.jsonl"
    rows = [json.loads(line) for line in written.read_text().splitlines()]
    assert len(rows) == 15 and all(r["origin"] for r in rows)
    batch = result.asset_materializations_for_node("autopilot_batch")[0].metadata
    assert batch["by_task"].value == {"fft/transform": 15} and batch["dagster/row_count"].value == 15
    intake = result.asset_materializations_for_node("raw_samples")[0].metadata
    assert intake["rows_in"].value == seeds + 15
