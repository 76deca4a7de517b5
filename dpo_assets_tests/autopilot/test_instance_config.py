"""The repository's dagster.yaml: SQLite, a run queue of one, the gpu pool of one, run retries."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from dpo_assets.paths import REPO_ROOT


def test_the_instance_reads_queue_pool_retries_and_monitoring(tmp_path: Path) -> None:
    shutil.copy(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        concurrency = instance.get_concurrency_config()
        assert concurrency.run_queue_config.max_concurrent_runs == 1
        assert concurrency.pool_config.default_pool_limit == 1
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert not instance.run_retries_retry_on_asset_or_op_failure
        assert instance.run_monitoring_enabled
