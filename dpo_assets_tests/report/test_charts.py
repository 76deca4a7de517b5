"""The chart PNGs: valid, sensibly sized, not blank, byte-identical for the same numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib import image

from dpo_assets.report import charts
from dpo_assets.report.data import ReportData

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
    pixels = image.imread(path)
    height, width = pixels.shape[:2]
    assert 300 <= width <= 3000 and 200 <= height <= 3000
    assert pixels.std() > 0  # something was drawn
    assert not list(path.parent.glob(".*.tmp"))  # the atomic write left no temporary file


def draw_all(report: ReportData, folder: Path) -> list[Path]:
    return [
        charts.funnel_chart(report.funnel_table(), folder / "funnel.png"),
        charts.domain_mix_chart(report.mix_table(), folder / "mix.png"),
        charts.pairs_chart(
            report.pairs_by_domain(), report.partners_by_layer(), len(report.unpaired), folder / "pairs.png"
        ),
    ]


def test_charts_are_pngs(report: ReportData, tmp_path: Path) -> None:
    paths = draw_all(report, tmp_path)
    assert paths == [tmp_path / "funnel.png", tmp_path / "mix.png", tmp_path / "pairs.png"]
    for path in paths:
        assert_png(path)


def test_same_numbers_same_bytes(report: ReportData, tmp_path: Path) -> None:
    first = [p.read_bytes() for p in draw_all(report, tmp_path / "a")]
    second = [p.read_bytes() for p in draw_all(report, tmp_path / "b")]
    assert first == second


def test_replaces_an_existing_file(report: ReportData, tmp_path: Path) -> None:
    target = tmp_path / "funnel.png"
    target.write_bytes(b"stale")
    charts.funnel_chart(report.funnel_table(), target)
    assert_png(target)


@pytest.mark.parametrize("chart", ["funnel", "mix", "pairs"])
def test_empty_inputs_still_draw(chart: str, tmp_path: Path) -> None:
    path = tmp_path / f"{chart}.png"
    if chart == "funnel":
        charts.funnel_chart(pd.DataFrame(columns=["layer", "name", "in", "passed", "shrinkage_pct"]), path)
    elif chart == "mix":
        charts.domain_mix_chart(
            pd.DataFrame(columns=["domain", "raw_share_pct", "certified_share_pct"]), path
        )
    else:
        charts.pairs_chart(pd.DataFrame(columns=["domain", "pairs"]), {}, 3, path)
    assert_png(path)
