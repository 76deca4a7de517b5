"""The training trigger's rule, and the sensor on a real (ephemeral) Dagster instance."""

from __future__ import annotations

import dagster as dg
import pytest

from dpo_assets.autopilot.trigger import Cursor, decide, threshold_from_env
from dpo_assets.defs import defs
from dpo_assets.defs.autopilot_assets import training_trigger


def test_decide_trains_once_growth_reaches_the_threshold() -> None:
    assert decide(None, 0, 500) is None
    below = decide(499, 0, 500)
    assert below is not None and not below.train and below.growth == 499
    reached = decide(1_100, 600, 500)
    assert reached is not None and reached.train
    assert reached.reason == (
        "certified pool 1100 = 600 at the last training + 500: growth reached the threshold of 500"
    )


def test_threshold_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DPO_ASSETS_TRAIN_THRESHOLD", raising=False)
    assert threshold_from_env() == 500
    monkeypatch.setenv("DPO_ASSETS_TRAIN_THRESHOLD", "40")
    assert threshold_from_env() == 40
    for bad in ("lots", "0"):
        monkeypatch.setenv("DPO_ASSETS_TRAIN_THRESHOLD", bad)
        with pytest.raises(ValueError, match="DPO_ASSETS_TRAIN_THRESHOLD"):
            threshold_from_env()


def test_cursor_round_trips_and_tolerates_garbage() -> None:
    assert Cursor.load(Cursor(812).dump()) == Cursor(812)
    assert Cursor.load(None) == Cursor.load("{not json") == Cursor.load('{"x": 1}') == Cursor(0)


def _materialize(instance: dg.DagsterInstance, key: str, rows: int | None = None) -> None:
    metadata = {"dagster/row_count": rows} if rows is not None else {}
    instance.report_runless_asset_event(dg.AssetMaterialization(key, metadata=metadata))


def _evaluate(instance: dg.DagsterInstance, cursor: str | None = None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    return training_trigger(context)


def test_sensor_requests_training_job_once_the_pool_grew_past_the_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DPO_ASSETS_TRAIN_THRESHOLD", "500")
    with dg.DagsterInstance.ephemeral() as instance:
        skipped = _evaluate(instance)
        assert isinstance(skipped, dg.SkipReason) and "never been materialized" in skipped.skip_message

        _materialize(instance, "chosen_pool", 420)
        skipped = _evaluate(instance)
        assert isinstance(skipped, dg.SkipReason) and "growth below" in skipped.skip_message

        _materialize(instance, "chosen_pool", 530)
        result = _evaluate(instance)
        assert isinstance(result, dg.SensorResult)
        (request,) = result.run_requests
        assert request.run_key == "train-at-pool-530"
        assert Cursor.load(result.cursor) == Cursor(530)
        # the same pool, evaluated with the new cursor (training still queued): no second request
        assert isinstance(_evaluate(instance, result.cursor), dg.SkipReason)

        # a training happened at pool 530; the pool grows to 900, then 1,040
        _materialize(instance, "lora_checkpoint")
        _materialize(instance, "chosen_pool", 900)
        assert "530 at the last training + 370" in _evaluate(instance).skip_message
        _materialize(instance, "chosen_pool", 1_040)
        assert _evaluate(instance).run_requests[0].run_key == "train-at-pool-1040"


def test_the_sensor_targets_the_training_job() -> None:
    sensor = defs.resolve_sensor_def("training_trigger")
    assert sensor.job_name == "training_job"
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
