"""The report page: the same blocks rendered as Markdown (``index.md``) and HTML (``index.html``).

The HTML page is self-contained apart from the chart PNGs beside it (relative file names), so
the folder can be opened, copied or archived as it is.
"""

from __future__ import annotations

import html
import math
import numbers
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dpo_assets.report import charts
from dpo_assets.report.data import ReportData
from dpo_assets.storage import atomic_path, atomic_text

FUNNEL_PNG, MIX_PNG, PAIRS_PNG = "funnel.png", "domain_mix.png", "pairs.png"
INDEX_MD, INDEX_HTML = "index.md", "index.html"
UNPAIRED_LIMIT = 100  # rows of the unpaired list shown on the page

# Page tables: header -> column of the table ReportData gives.
FUNNEL_COLUMNS = {
    "layer": "layer", "name": "name", "in": "in", "out": "passed", "rejected": "rejected",
    "shrinkage %": "shrinkage_pct", "top reason": "top_reason",
}  # fmt: skip
MIX_COLUMNS = {
    "domain": "domain", "raw": "raw_rows", "raw %": "raw_share_pct", "certified": "certified_rows",
    "certified %": "certified_share_pct", "shift (pp)": "shift_pp", "pairs": "pairs",
    "pairs %": "pairs_share_pct",
}  # fmt: skip
PAIRS_COLUMNS = {"domain": "domain", "pairs": "pairs", "share %": "share_pct"}
UNPAIRED_COLUMNS = {
    "sample": "sample_id", "task": "task_id", "domain": "domain", "coverage": "coverage", "reason": "reason",
}  # fmt: skip


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Facts:
    """A bullet list of ``label: value`` lines."""

    items: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Image:
    file: str
    alt: str


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]


Block = Heading | Paragraph | Facts | Image | Table


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def cell(value: object) -> str:
    """A table value as text: thousands separators, two decimals, blank for missing."""
    if value is None or value is pd.NA or (isinstance(value, numbers.Real) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{float(value):,.2f}"
    return " ".join(str(value).split())


def _table(frame: pd.DataFrame, columns: Mapping[str, str]) -> Table:
    """``frame``'s ``columns`` (header -> column name) as a page table."""
    return Table(list(columns), [[row[c] for c in columns.values()] for row in frame.to_dict("records")])


def blocks(data: ReportData) -> list[Block]:
    """The page's content, top to bottom."""
    funnel, names = data.funnel, data.layer_names
    matches = "n/a" if data.decontamination_matches is None else f"{data.decontamination_matches:,}"
    methods = ", ".join(f"{k} {v:,}" for k, v in data.duplicates_by_method.items())
    by_domain = data.pairs_by_domain()
    by_layer = data.partners_by_layer()
    unpaired = data.unpaired
    out: list[Block] = [
        Heading(f"Iteration report: run {data.run_id}", level=1),
        Facts(
            [
                ("funnel", funnel.line()),
                ("raw lines", f"{funnel.raw_lines:,}"),
                ("certified", f"{funnel.certified:,}"),
                ("pairs", f"{len(data.pairs):,}"),
                ("unpaired", f"{len(unpaired):,}"),
                ("accounting", data.accounting),
                ("decontamination", f"{data.decontaminated:,} samples dropped, {matches} benchmark matches"),
                ("duplicates", f"{data.duplicates:,}" + (f" ({methods})" if methods else "")),
                ("review", data.review_status or "n/a"),
            ]
        ),
        Heading("Gate funnel"),
        Image(FUNNEL_PNG, "gate funnel"),
        _table(data.funnel_table(), FUNNEL_COLUMNS),
        Heading("Domain mix before and after"),
        Image(MIX_PNG, "domain mix"),
        _table(data.mix_table(), MIX_COLUMNS),
        Heading("Pairs"),
        Image(PAIRS_PNG, "pairs summary"),
        Heading("Pairs per domain", level=3),
        _table(by_domain.assign(share_pct=100.0 * by_domain["share"]), PAIRS_COLUMNS),
        Heading("Rejected partner by failed layer", level=3),
        Table(["layer", "name", "pairs"], [[n, names.get(n, ""), count] for n, count in by_layer.items()]),
        Heading(f"Unpaired chosen samples ({len(unpaired):,})", level=3),
        _table(unpaired.head(UNPAIRED_LIMIT), UNPAIRED_COLUMNS),
    ]
    if len(unpaired) > UNPAIRED_LIMIT:
        out.append(Paragraph(f"… and {len(unpaired) - UNPAIRED_LIMIT:,} more."))
    return out


# --------------------------------------------------------------------------- Markdown


def _md_text(value: object) -> str:
    """Inline Markdown text: HTML special characters escaped (viewers render raw HTML), no
    line breaks, ``|`` escaped so a table cell stays one cell."""
    return html.escape(cell(value), quote=False).replace("|", "\\|")


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {_md_text(block.text)}"
    if isinstance(block, Paragraph):
        return _md_text(block.text)
    if isinstance(block, Facts):
        return "\n".join(f"- **{_md_text(label)}**: {_md_text(value)}" for label, value in block.items)
    if isinstance(block, Image):
        return f"![{_md_text(block.alt)}]({block.file})"
    if not block.rows:
        return "_(none)_"
    lines = ["| " + " | ".join(_md_text(h) for h in block.headers) + " |"]
    lines.append("|" + "|".join("---" for _ in block.headers) + "|")
    lines += ["| " + " | ".join(_md_text(v) for v in row) + " |" for row in block.rows]
    return "\n".join(lines)


def render_markdown(content: Sequence[Block]) -> str:
    return "\n\n".join(_md_block(b) for b in content) + "\n"


# --------------------------------------------------------------------------- HTML

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; }
"""


def _html_block(block: Block) -> str:
    esc = html.escape
    if isinstance(block, Heading):
        return f"<h{block.level}>{esc(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p>{esc(block.text)}</p>"
    if isinstance(block, Facts):
        items = "".join(f"<li><b>{esc(label)}</b>: {esc(value)}</li>" for label, value in block.items)
        return f"<ul>{items}</ul>"
    if isinstance(block, Image):
        return f'<p><img src="{esc(block.file)}" alt="{esc(block.alt)}"></p>'
    if not block.rows:
        return "<p><i>(none)</i></p>"
    head = "".join(f"<th>{esc(h)}</th>" for h in block.headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{esc(cell(v))}</td>' if _is_number(v) else f"<td>{esc(cell(v))}</td>"
                  for v in row)
        + "</tr>"
        for row in block.rows
    )  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(content: Sequence[Block]) -> str:
    title = next((b.text for b in content if isinstance(b, Heading)), "Iteration report")
    body = "\n".join(_html_block(b) for b in content)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------- files


def write_report(folder: Path, data: ReportData) -> dict[str, Path]:
    """Draw the charts and write ``index.md`` and ``index.html`` into ``folder``, each file
    atomically; returns the written files by name."""
    files = {
        FUNNEL_PNG: charts.funnel_chart(data.funnel_table(), folder / FUNNEL_PNG),
        MIX_PNG: charts.domain_mix_chart(data.mix_table(), folder / MIX_PNG),
        PAIRS_PNG: charts.pairs_chart(
            data.pairs_by_domain(),
            data.partners_by_layer(),
            len(data.unpaired),
            folder / PAIRS_PNG,
            layer_names=data.layer_names,
        ),
    }
    content = blocks(data)
    for name, text in ((INDEX_MD, render_markdown(content)), (INDEX_HTML, render_html(content))):
        with atomic_text(folder / name) as handle:
            handle.write(text)
        files[name] = folder / name
    return files


def copy_report(files: dict[str, Path], folder: Path) -> dict[str, Path]:
    """Copy the report's files into ``folder`` (each atomically); returns the copies by name."""
    copies = {}
    for name, source in files.items():
        with atomic_path(folder / name) as tmp:
            shutil.copyfile(source, tmp)
        copies[name] = folder / name
    return copies
