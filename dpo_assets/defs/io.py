"""Parquet IO for stage outputs: ``<storage>/<asset key>/{survivors,rejections}.parquet``."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dpo_assets import paths
from dpo_assets.stage import StageFrames
from dpo_assets.storage import read_parquet, write_parquet


class StageParquetIOManager(dg.ConfigurableIOManager):
    """Stores a :class:`StageFrames` as two Parquet files, each written atomically."""

    base_dir: str = ""

    def _dir(self, context: dg.InputContext | dg.OutputContext) -> Path:
        root = Path(self.base_dir) if self.base_dir else paths.storage_dir()
        return root.joinpath(*context.asset_key.path)

    def handle_output(self, context: dg.OutputContext, obj: StageFrames) -> None:
        folder = self._dir(context)
        write_parquet(folder / "survivors.parquet", obj.survivors)
        write_parquet(folder / "rejections.parquet", obj.rejections)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(folder))})

    def load_input(self, context: dg.InputContext) -> StageFrames:
        folder = self._dir(context)
        return StageFrames(
            read_parquet(folder / "survivors.parquet"), read_parquet(folder / "rejections.parquet")
        )
