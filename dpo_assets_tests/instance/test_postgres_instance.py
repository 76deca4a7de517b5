"""deploy/dagster.postgres.yaml on a real PostgreSQL: runs, event logs, schedules and pools are
stored in the database, and the run queue, pool and retry settings are the SQLite instance's."""

import shutil
import time
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml
from dagster._core.remote_origin import (
    RegisteredCodeLocationOrigin,
    RemoteInstigatorOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    ScheduleInstigatorData,
)
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from dpo_assets import paths

POSTGRES_YAML = paths.REPO_ROOT / "deploy" / "dagster.postgres.yaml"
SQLITE_YAML = paths.REPO_ROOT / "dagster.yaml"
LOCAL_STORAGE_SECTIONS = {"storage", "local_artifact_storage", "compute_logs"}  # differ by design
DAGSTER_TABLES = {
    "runs",
    "run_tags",
    "event_logs",
    "asset_keys",
    "jobs",
    "job_ticks",
    "kvs",
    "concurrency_limits",
    "concurrency_slots",
}


@pytest.fixture
def pg_home(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DAGSTER_HOME holding deploy/dagster.postgres.yaml, pointed at a fresh database."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(POSTGRES_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_URL", pg_url.replace("postgresql://", "postgresql+psycopg2://", 1))
    return home


@dg.asset
def numbers() -> list[int]:
    return [3, 4, 5]


@dg.asset
def total(numbers: list[int]) -> dg.Output[int]:
    return dg.Output(sum(numbers), metadata={"count": len(numbers), "sum": sum(numbers)})


@dg.asset(pool="gpu")
def on_gpu(total: int) -> int:
    return total * 2


def _schedule_state(name: str) -> InstigatorState:
    repo = RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("pg_test_location"), "pg_test_repo")
    return InstigatorState(
        RemoteInstigatorOrigin(repo, name),
        InstigatorType.SCHEDULE,
        InstigatorStatus.RUNNING,
        ScheduleInstigatorData("0 3 * * *", start_timestamp=time.time()),
    )


def _query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def test_postgres_instance_stores_runs_events_schedules_and_pools(pg_home: Path, pg_url: str) -> None:
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        result = dg.materialize([numbers, total, on_gpu], instance=instance)
        assert result.success
        run_id = result.run_id
        schedule = instance.add_instigator_state(_schedule_state("nightly_gate"))

    with dg.DagsterInstance.get() as reopened:  # new connections: only what the database kept
        runs = reopened.get_runs()
        assert [(r.run_id, r.status) for r in runs] == [(run_id, dg.DagsterRunStatus.SUCCESS)]
        for key in ("numbers", "total", "on_gpu"):
            event = reopened.get_latest_materialization_event(dg.AssetKey(key))
            assert event is not None and event.run_id == run_id, key
        metadata = reopened.get_latest_materialization_event(
            dg.AssetKey("total")
        ).asset_materialization.metadata
        assert (metadata["count"].value, metadata["sum"].value) == (3, 12)
        states = reopened.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
        assert [(s.name, s.status) for s in states] == [("nightly_gate", InstigatorStatus.RUNNING)]
        pools = {p.name: (p.limit, p.from_default) for p in reopened.event_log_storage.get_pool_limits()}
        assert pools.get("gpu") == (1, True)

    tables = {row[0] for row in _query(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables >= DAGSTER_TABLES, DAGSTER_TABLES - tables
    assert _query(pg_url, "SELECT status FROM runs WHERE run_id = %s", (run_id,)) == [("SUCCESS",)]
    materialized = _query(
        pg_url,
        "SELECT asset_key FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
        (run_id,),
    )
    assert sorted(row[0] for row in materialized) == sorted(
        dg.AssetKey(k).to_string() for k in ("numbers", "total", "on_gpu")
    )
    assert _query(pg_url, "SELECT job_origin_id, job_type, status FROM jobs") == [
        (schedule.instigator_origin_id, "SCHEDULE", "RUNNING")
    ]
    assert _query(pg_url, 'SELECT "limit" FROM concurrency_limits WHERE concurrency_key = %s', ("gpu",)) == [
        (1,)
    ]
    assert not list(pg_home.rglob("*.db")), "a SQLite database was written next to the Postgres one"


def test_postgres_instance_reads_queue_pool_retry_and_monitoring_settings(pg_home: Path) -> None:
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        concurrency = instance.get_concurrency_config()
        assert concurrency.run_queue_config.max_concurrent_runs == 1
        assert concurrency.pool_config.default_pool_limit == 1
        assert instance.global_op_concurrency_default_limit == 1
        assert instance.run_retries_enabled is True
        assert instance.run_retries_max_retries == 2
        assert instance.run_retries_retry_on_asset_or_op_failure is False
        assert instance.run_monitoring_enabled is True
        assert instance.run_monitoring_start_timeout_seconds == 180
        assert instance.run_monitoring_poll_interval_seconds == 60


def test_postgres_yaml_keeps_the_sqlite_instance_settings() -> None:
    """Apart from where things are stored, the Postgres instance is configured like the default."""
    postgres = yaml.safe_load(POSTGRES_YAML.read_text())
    sqlite = yaml.safe_load(SQLITE_YAML.read_text())
    assert set(postgres["storage"]) == {"postgres"}
    assert postgres["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_PG_URL"}
    shared = set(sqlite) - LOCAL_STORAGE_SECTIONS
    assert shared <= set(postgres), f"sections of dagster.yaml missing here: {shared - set(postgres)}"
    for section in sorted(shared):
        assert postgres[section] == sqlite[section], section
