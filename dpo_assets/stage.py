"""The unit every pipeline stage hands on: survivors plus rejections with reasons."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class StageFrames:
    """What a stage produces: the rows that go on and the rows it rejected (with reasons)."""

    survivors: pd.DataFrame
    rejections: pd.DataFrame

    @property
    def rows_in(self) -> int:
        return len(self.survivors) + len(self.rejections)
