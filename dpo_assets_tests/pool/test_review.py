"""The review queue: seeded picks from the bottom coverage quartile, rendering, sign-off."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dpo_assets.pool.review import (
    SignOffError,
    bottom_quartile,
    load_signoff,
    pick_queue,
    render_queue,
    review_status,
)


def _pool(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sample_id": [f"s{i:02d}" for i in range(n)],
            "task_id": ["fft/transform" if i % 2 else "monte_carlo/metropolis" for i in range(n)],
            "code": [f"def f():\n    return {i}\n" for i in range(n)],
            "coverage": [80.0 + (i % 20) for i in range(n)],
        }
    )


def test_queue_comes_from_the_bottom_quartile_and_is_seeded() -> None:
    pool = _pool()
    quartile = set(bottom_quartile(pool)["sample_id"])
    assert 10 <= len(quartile) <= 12  # a quarter of 40, ties included
    assert all(pool.set_index("sample_id").loc[i, "coverage"] <= 85.0 for i in quartile)
    queue = pick_queue(pool, 7, seed=3)
    assert len(queue) == 7 and set(queue["sample_id"]) <= quartile
    assert list(queue["sample_id"]) == list(pick_queue(pool, 7, seed=3)["sample_id"])
    assert list(queue["sample_id"]) != list(pick_queue(pool, 7, seed=4)["sample_id"])


def test_small_pool_is_topped_up_and_never_exceeds_it() -> None:
    pool = _pool(5)
    assert len(pick_queue(pool, 7)) == 5
    assert sorted(pick_queue(pool, 3)["sample_id"]) == sorted(set(pick_queue(pool, 3)["sample_id"]))
    assert pick_queue(pool.iloc[0:0], 7).empty
    with pytest.raises(ValueError):
        pick_queue(pool, -1)


def test_rendering_shows_task_code_and_coverage() -> None:
    queue = pick_queue(_pool(), 2, seed=1)
    text = render_queue(queue, {"fft/transform": {"layer 1": "10 invariant checks"}})
    for row in queue.to_dict("records"):
        assert f"`{row['sample_id']}`" in text and row["code"].strip() in text
        assert f"{row['coverage']:.1f} %" in text


def test_signoff_blocks_until_every_queued_sample_is_approved(tmp_path: Path) -> None:
    path = tmp_path / "signoff.json"
    queue = ["a", "b"]
    assert not review_status(queue, load_signoff(path)).signed  # no file yet
    path.write_text(json.dumps({"a": {"verdict": "approved", "reviewer": "kim"}}))
    status = review_status(queue, load_signoff(path))
    assert not status.signed and status.missing == ["b"] and "b" in status.describe()
    path.write_text(json.dumps({"a": {"verdict": "approved"}, "b": {"verdict": "rejected", "note": "wrong"}}))
    status = review_status(queue, load_signoff(path))
    assert not status.signed and status.rejected == ["b"]
    path.write_text(json.dumps({"a": {"verdict": "approved"}, "b": {"verdict": "approved"}}))
    assert review_status(queue, load_signoff(path)).signed


BAD = ["[1, 2]", "{not json", '{"a": {"verdict": "maybe"}}', '{"a": "approved"}']


@pytest.mark.parametrize("content", BAD)
def test_a_malformed_signoff_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "signoff.json"
    path.write_text(content)
    with pytest.raises(SignOffError, match=r"signoff\.json"):
        load_signoff(path)


def test_queue_shows_what_each_layer_checked() -> None:
    from dpo_assets.pool.review import gate_checks
    from dpo_assets.tasks import get_task

    task = get_task("fft/transform")
    checks = gate_checks(task)
    assert list(checks) == [f"layer {n} {name}" for n, name in enumerate(
        ["invariant", "differential", "property", "fuzz", "semantic", "dataflow", "edge", "coverage"], 1)]
    assert f"{len(task.edge)} edge cases" in checks["layer 7 edge"]
    queue = pick_queue(_pool(), 2, seed=1)
    text = render_queue(queue, {"fft/transform": checks, "monte_carlo/metropolis": checks})
    assert text.count("layer 4 fuzz:") == 2
