"""The iteration ledger: append, replace by iteration_id, load; and the Δpp chart."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

from dpo_assets.scorecard import ledger
from dpo_assets.scorecard.compare import compare
from dpo_assets.scorecard.decision import decide
from dpo_assets.scorecard.ledger import LedgerEntry

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def entry(
    iteration_id: str, he_delta: float = 0.61, mbpp_delta: float = -0.4, go: bool = True
) -> LedgerEntry:
    return LedgerEntry(
        iteration_id=iteration_id,
        created_at="2025-01-02T03:04:05+00:00",
        pairs=1200,
        pool_size=5000,
        humaneval_base=0.6,
        humaneval_trained=0.6 + he_delta / 100,
        humaneval_delta_pp=he_delta,
        mbpp_base=0.5,
        mbpp_trained=0.5 + mbpp_delta / 100,
        mbpp_delta_pp=mbpp_delta,
        categories=json.dumps({"humaneval": [], "mbpp": []}),
        humaneval_p_value=1.0,
        mbpp_p_value=0.5,
        decision="GO" if go else "NO-GO",
        failed_rules=json.dumps([] if go else ["HumanEval Δ = -0.61 pp, needs > 0.00 pp"]),
        adapter=f"/runs/{iteration_id}/adapter",
    )


def as_entries(frame: pd.DataFrame) -> list[LedgerEntry]:
    return [LedgerEntry(**row) for row in frame.to_dict(orient="records")]


def assert_png(path: Path) -> np.ndarray:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
    pixels = image.imread(path)
    assert pixels.shape[0] >= 200 and pixels.shape[1] >= 300
    assert pixels.std() > 0
    assert not list(path.parent.glob(".*.tmp"))
    return pixels


def test_load_of_a_missing_ledger_is_empty_with_the_columns(tmp_path: Path) -> None:
    frame = ledger.load(tmp_path / "ledger.parquet")
    assert frame.empty
    assert list(frame.columns) == [f.name for f in fields(LedgerEntry)]
    assert frame["pairs"].dtype == "int64" and frame["mbpp_delta_pp"].dtype == "float64"


def test_append_and_load_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "ledger.parquet"
    first, second = entry("it-001"), entry("it-002", he_delta=-0.61, go=False)
    ledger.append(path, first)
    returned = ledger.append(path, second)
    loaded = ledger.load(path)
    assert as_entries(loaded) == [first, second]
    pd.testing.assert_frame_equal(returned, loaded)
    assert json.loads(loaded["failed_rules"].iloc[1]) == ["HumanEval Δ = -0.61 pp, needs > 0.00 pp"]
    assert not list(path.parent.glob(".*.tmp"))


def test_reappending_an_iteration_replaces_its_row_in_place(tmp_path: Path) -> None:
    path = tmp_path / "ledger.parquet"
    for iteration in ("a", "b", "c"):
        ledger.append(path, entry(iteration))
    redone = replace(entry("b"), pairs=7, decision="NO-GO", created_at="2025-02-01T00:00:00+00:00")
    ledger.append(path, redone)
    ledger.append(path, redone)  # idempotent
    assert as_entries(ledger.load(path)) == [entry("a"), redone, entry("c")]


def test_a_bad_decision_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="decision"):
        ledger.append(tmp_path / "ledger.parquet", replace(entry("a"), decision="maybe"))
    assert not (tmp_path / "ledger.parquet").exists()


def test_make_entry_from_comparisons_and_decision(tmp_path: Path) -> None:
    def frame(categories: list[str], prefix: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "task_id": [f"{prefix}/{i}" for i in range(len(categories))],
                "passed": [c == "PASS" for c in categories],
                "category": categories,
                "exception_type": [None] * len(categories),
            }
        )

    comparisons = {
        "humaneval": compare("humaneval", frame(["PASS", "NAME_ERROR"], "H"), frame(["PASS", "PASS"], "H")),
        "mbpp": compare(
            "mbpp", frame(["PASS"] * 3 + ["TIMEOUT"], "M"), frame(["PASS"] * 2 + ["TIMEOUT"] * 2, "M")
        ),
    }
    decision = decide(comparisons)  # MBPP Δ = −25 pp: NO-GO
    made = ledger.make_entry(
        "it-7", comparisons, decision, pairs=10, pool_size=40, adapter=tmp_path / "adapter", created_at="x"
    )
    assert (made.humaneval_base, made.humaneval_trained, made.humaneval_delta_pp) == (0.5, 1.0, 50.0)
    assert (made.mbpp_base, made.mbpp_trained, made.mbpp_delta_pp) == (0.75, 0.5, -25.0)
    assert made.decision == "NO-GO"
    assert json.loads(made.failed_rules) == ["MBPP Δ = -25.00 pp outside ±1.00 pp"]
    tables = json.loads(made.categories)
    assert set(tables) == {"humaneval", "mbpp"}
    he = {row["category"]: row for row in tables["humaneval"]}
    assert he["NAME_ERROR"] == {"category": "NAME_ERROR", "base": 1, "trained": 0, "delta": -1}
    assert (made.humaneval_p_value, made.mbpp_p_value) == (1.0, 1.0)  # one flip each
    assert made.adapter == str(tmp_path / "adapter")
    ledger.append(tmp_path / "ledger.parquet", made)
    assert as_entries(ledger.load(tmp_path / "ledger.parquet")) == [made]
    assert ledger.make_entry(
        "it-8", comparisons, decision, pairs=1, pool_size=1, adapter="a"
    ).created_at.endswith("+00:00")


def near(pixels: np.ndarray, hex_color: str) -> int:
    rgb = np.array([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(pixels[..., :3] - rgb).max(axis=-1) < 0.04).sum())


def test_delta_chart_marks_go_and_no_go(tmp_path: Path) -> None:
    path = tmp_path / "ledger.parquet"
    ledger.append(path, entry("it-001", he_delta=-0.61, mbpp_delta=0.2, go=False))
    ledger.append(path, entry("it-002", he_delta=1.83, mbpp_delta=-0.5, go=True))
    chart = ledger.delta_chart(ledger.load(path), tmp_path / "charts" / "delta.png")
    assert chart == tmp_path / "charts" / "delta.png"
    pixels = assert_png(chart)
    assert near(pixels, "#C44E52") > 5 and near(pixels, "#55A868") > 5  # NO-GO red, GO green
    again = ledger.delta_chart(ledger.load(path), tmp_path / "again.png")
    assert again.read_bytes() == chart.read_bytes()  # deterministic


def test_delta_chart_of_an_empty_ledger_renders(tmp_path: Path) -> None:
    chart = ledger.delta_chart(ledger.load(tmp_path / "none.parquet"), tmp_path / "delta.png")
    pixels = assert_png(chart)
    assert near(pixels, "#C44E52") == 0
