"""The report page: the numbers it is given, escaped text, and the files write_report leaves."""

from __future__ import annotations

from pathlib import Path

import pytest

from dpo_assets.report import page
from dpo_assets.report.data import ReportData


@pytest.fixture
def content(report: ReportData) -> list[page.Block]:
    return page.blocks(report)


def test_page_shows_the_numbers(report: ReportData, content: list[page.Block]) -> None:
    funnel = report.funnel
    expected = [
        f"run {report.run_id}",
        funnel.line(),
        report.accounting,
        report.review_status,
        f"{report.decontamination_matches} benchmark matches",
        f"{report.decontaminated} samples dropped",
        *report.duplicates_by_method,
    ]
    for text in (page.render_markdown(content), page.render_html(content)):
        for snippet in expected:
            assert snippet in text
        for step in funnel.steps:
            assert step.name in text
        for sample_id in report.unpaired["sample_id"]:
            assert sample_id in text


def test_tables_hold_the_counts(report: ReportData, content: list[page.Block]) -> None:
    tables = [b for b in content if isinstance(b, page.Table)]
    funnel, mix, per_domain, by_layer, unpaired = tables
    assert [row[3] for row in funnel.rows] == [s.passed for s in report.funnel.steps]
    assert [row[4] for row in funnel.rows] == [s.rejected for s in report.funnel.steps]
    assert sum(row[1] for row in mix.rows) == report.funnel.raw_lines
    assert sum(row[3] for row in mix.rows) == report.funnel.certified
    assert sum(row[6] for row in mix.rows) == sum(row[1] for row in per_domain.rows) == len(report.pairs)
    assert {row[0]: row[2] for row in by_layer.rows} == report.partners_by_layer()
    assert len(unpaired.rows) == len(report.unpaired)
    assert page.FUNNEL_PNG in [b.file for b in content if isinstance(b, page.Image)]


def test_html_escapes_reasons(content: list[page.Block], hostile_reason: str) -> None:
    html_page = page.render_html(content)
    assert "<script>" not in html_page and "&lt;script&gt;" in html_page
    markdown = page.render_markdown(content)
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    row = next(line for line in markdown.splitlines() if "&lt;script&gt;" in line)
    assert row.count(" | ") == len(page.FUNNEL_COLUMNS) - 1  # the "|" in the reason is escaped


def test_cell_formats() -> None:
    assert page.cell(1234) == "1,234" and page.cell(12.5) == "12.50"
    assert page.cell(float("nan")) == "" and page.cell(None) == ""
    assert page.cell("two\nlines") == "two lines"


def test_write_report(report: ReportData, tmp_path: Path) -> None:
    files = page.write_report(tmp_path / "run", report)
    names = {page.FUNNEL_PNG, page.MIX_PNG, page.PAIRS_PNG, page.INDEX_MD, page.INDEX_HTML}
    assert set(files) == names and all(p.parent == tmp_path / "run" for p in files.values())
    assert {p.name for p in (tmp_path / "run").iterdir()} == names
    html_page = files[page.INDEX_HTML].read_text(encoding="utf-8")
    for png in (page.FUNNEL_PNG, page.MIX_PNG, page.PAIRS_PNG):
        assert f'src="{png}"' in html_page and f"]({png})" in files[page.INDEX_MD].read_text(encoding="utf-8")
    copies = page.copy_report(files, tmp_path / "latest")
    assert all(copies[n].read_bytes() == files[n].read_bytes() for n in names)


def test_a_run_without_pairs(report_without_pairs: ReportData, tmp_path: Path) -> None:
    files = page.write_report(tmp_path, report_without_pairs)
    markdown = files[page.INDEX_MD].read_text(encoding="utf-8")
    assert "- **pairs**: 0\n" in markdown and "_(none)_" in markdown
    assert "<i>(none)</i>" in files[page.INDEX_HTML].read_text(encoding="utf-8")
