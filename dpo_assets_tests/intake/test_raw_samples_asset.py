"""The raw_samples asset in a real (temporary) Dagster instance."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.observe import observe  # not re-exported at top level

from dpo_assets.defs import defs
from dpo_assets.storage import read_parquet

TASK = "pytest_traceback_repair/moving_average"


def write_jsonl(path: Path, rows: list) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


@pytest.fixture
def instance(tmp_path: Path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


def materialize(instance: dg.DagsterInstance, selection: list[str]) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets), resources=defs.resources, instance=instance, selection=selection
    )


def test_raw_samples_writes_parquet_and_metadata(data_root: Path, instance) -> None:
    write_jsonl(
        data_root / "bundled" / "a.jsonl",
        [{"task_id": TASK, "code": f"x = {i}", "sample_id": f"a{i}"} for i in range(3)] + ["{oops"],
    )
    write_jsonl(data_root / "inbox" / "night.jsonl", [{"task_id": TASK, "code": "y = 1"}, {"task_id": "q/q"}])
    result = materialize(instance, ["raw_samples"])
    assert result.success
    meta = result.asset_materializations_for_node("raw_samples")[0].metadata
    assert meta["rows_in"].value == 6
    assert meta["accepted"].value == 4
    assert meta["rejected"].value == 2
    assert "invalid_json" in meta["rejections_by_reason"].value
    assert TASK in meta["domain_mix"].value
    survivors = read_parquet(data_root / "runs" / "raw_samples" / "survivors.parquet")
    rejections = read_parquet(data_root / "runs" / "raw_samples" / "rejections.parquet")
    assert sorted(survivors["source"].unique()) == ["bundled/a.jsonl", "inbox/night.jsonl"]
    assert len(survivors) + len(rejections) == 6


def test_data_version_follows_content(data_root: Path, instance) -> None:
    path = data_root / "bundled" / "a.jsonl"
    write_jsonl(path, [{"task_id": TASK, "code": "x = 1"}])

    def version() -> str:
        result = materialize(instance, ["raw_samples"])
        key = dg.AssetKey("raw_samples")
        event = result.asset_materializations_for_node("raw_samples")[0]
        assert event.asset_key == key
        return event.tags["dagster/data_version"]

    first, again = version(), version()
    write_jsonl(path, [{"task_id": TASK, "code": "x = 2"}])
    changed = version()
    assert first == again
    assert changed != first


def test_observing_new_inbox_data_changes_the_source_version(data_root: Path, instance) -> None:
    write_jsonl(data_root / "bundled" / "a.jsonl", [{"task_id": TASK, "code": "x = 1"}])
    source = next(a for a in defs.assets if getattr(a, "key", None) == dg.AssetKey("raw_sample_files"))

    def observed_version() -> str:
        result = observe([source], instance=instance)
        assert result.success
        return result.asset_observations_for_node(source.op.name)[0].tags["dagster/data_version"]

    before = observed_version()
    write_jsonl(data_root / "inbox" / "new.jsonl", [{"task_id": TASK, "code": "z = 1"}])
    assert observed_version() != before
