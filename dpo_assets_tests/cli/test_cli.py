"""The `dpo-assets` command line, run as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dpo_assets.tasks import load_catalog

TASK = "pytest_traceback_repair/moving_average"


def dpo_assets(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dpo_assets.cli", *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}, cwd=cwd,
    )


def test_tasks_lists_the_catalog() -> None:
    proc = dpo_assets("tasks")
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[0] for line in proc.stdout.splitlines()] == list(load_catalog())


def test_tasks_prompt_of_a_repair_task_shows_the_broken_module() -> None:
    proc = dpo_assets("tasks", "--prompt", TASK)
    assert proc.returncode == 0, proc.stderr
    assert "def moving_average" in proc.stdout and "pytest reported" in proc.stdout


def test_run_materializes_into_the_given_instance(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "bundled").mkdir(parents=True)
    rows = [{"task_id": TASK, "code": f"x = {i}"} for i in range(3)]
    rows.append({"task_id": "bogus/task", "code": "y"})
    (data / "bundled" / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    home = tmp_path / "home"
    home.mkdir()
    env = {"DAGSTER_HOME": str(home), "DPO_ASSETS_DATA": str(data)}
    proc = dpo_assets("run", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "materialized raw_samples" in proc.stdout
    assert "'accepted': 3" in proc.stdout and "'rejected': 1" in proc.stdout
    assert (data / "runs" / "raw_samples" / "survivors.parquet").exists()
    # Unattended by default: the review check passes, loudly; every asset down to dpo_pairs runs.
    assert "REVIEW SKIPPED: unattended run, no human read the queue" in proc.stdout + proc.stderr
    assert "check review_queue:review_signed_off: passed" in proc.stdout
    assert "materialized dpo_pairs" in proc.stdout and (data / "pairs" / "pairs.jsonl").exists()
    assert any(home.rglob("*.db")), "the run is recorded in the instance's SQLite storage"
    # No certified sample, so no pair: training is skipped, not failed.
    assert "lora_checkpoint skipped" in proc.stdout + proc.stderr
    assert "materialized lora_checkpoint" not in proc.stdout
