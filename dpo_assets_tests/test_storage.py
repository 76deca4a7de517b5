"""Atomic writes: all or nothing, with the permissions a plain open() would give."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dpo_assets.storage import FILE_MODE, atomic_text, read_parquet, write_jsonl, write_parquet


def test_written_files_get_the_umask_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "rows.jsonl", [{"a": 1}])
    write_parquet(tmp_path / "rows.parquet", pd.DataFrame({"a": [1, 2]}))
    for name in ("rows.jsonl", "rows.parquet"):
        assert (tmp_path / name).stat().st_mode & 0o777 == FILE_MODE
    assert FILE_MODE & 0o400  # at least readable by the owner
    assert list(read_parquet(tmp_path / "rows.parquet")["a"]) == [1, 2]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "page.md"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_text(target) as handle:
        handle.write("half of the new")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["page.md"]
