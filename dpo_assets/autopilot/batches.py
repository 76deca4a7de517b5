"""Daily autopilot batches: one raw-sample file per day in the inbox, named by its date."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class BatchSettings:
    """What the day's batch is made with: the offline generator or an LLM backend."""

    backend: str = "offline"  # offline | ollama | openai
    count: int = 400  # offline
    model: str = "qwen2.5-coder:7b"
    host: str = ""
    temperature: float = 0.8
    batch_size: int = 4
    tasks: tuple[str, ...] = ()
    retries: int = 3
    rate_limit: float = 0.0


@dataclass
class BatchReport:
    rows: int
    by_task: dict[str, int] = field(default_factory=dict)
    summary: str = ""


def write_batch(
    settings: BatchSettings, out: Path, *, day: dt.date, log: Callable[[str], None] = print
) -> BatchReport:
    """Generate the batch of ``day`` and write it to ``out`` atomically."""
    from dpo_assets import paths
    from dpo_assets.corpus.generate import generate_batch, read_corpus, read_labels, write_jsonl_atomic

    if settings.backend != "offline":
        raise ValueError(f"backend {settings.backend!r}: use offline, ollama or openai")
    if settings.count < 1:
        raise ValueError(f"count {settings.count}: ask for at least one candidate")
    samples, _ = read_corpus(paths.bundled_dir())
    if not samples:
        raise ValueError(f"no seed samples in {paths.bundled_dir()}")
    if settings.tasks:
        samples = [s for s in samples if s.get("task_id") in settings.tasks]
    records = generate_batch(
        samples,
        settings.count,
        batch_seed(day),
        labels=read_labels(paths.labels_dir()),
        progress=lambda done, target: log(f"autopilot batch {day}: {done}/{target} candidates"),
        progress_every=100,
    )
    write_jsonl_atomic(out, records)
    by_task = dict(sorted(Counter(r["task_id"] for r in records).items()))
    summary = (
        f"{len(records)} offline candidates from {len(samples)} seeds ({len(by_task)} tasks) -> {out.name}"
    )
    log(summary)
    return BatchReport(len(records), by_task, summary)
