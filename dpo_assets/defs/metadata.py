"""Turning stage numbers into Dagster metadata (tables render in the UI)."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import pandas as pd


def markdown_table(frame: pd.DataFrame) -> dg.MetadataValue:
    if frame.empty:
        return dg.MetadataValue.md("_(none)_")
    return dg.MetadataValue.md(frame.to_markdown(index=False))


def counts_table(counts: Mapping[str, int], key: str = "reason") -> dg.MetadataValue:
    return markdown_table(pd.DataFrame({key: list(counts), "rows": list(counts.values())}))
