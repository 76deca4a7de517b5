"""Daily autopilot batches: one raw-sample file per day in the inbox, named by its date."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

PREFIX = "autopilot-"


def batch_date(value: str | None = None, *, now: dt.datetime | None = None) -> dt.date:
    """``value`` (YYYY-MM-DD) or today's UTC date; a clear error for anything else."""
    if not value:
        return (now or dt.datetime.now(dt.UTC)).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"batch date {value!r}: use YYYY-MM-DD") from exc


def batch_file(inbox: Path, day: dt.date) -> Path:
    """Where the batch of ``day`` lives: re-running a day replaces its file, never adds one."""
    return inbox / f"{PREFIX}{day.isoformat()}.jsonl"


def batch_seed(day: dt.date) -> int:
    """A seed fixed by the date, so a day's offline batch is the same whenever it is re-run."""
    return int.from_bytes(hashlib.sha256(day.isoformat().encode()).digest()[:4], "big")

