"""Write one batch of raw samples: the offline generator or an LLM, one entry point for CLI and Dagster."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dpo_assets import paths
from dpo_assets.corpus.generate import Mix, generate_batch, read_corpus, read_labels, write_jsonl_atomic
from dpo_assets.generator.llm import GenerationAborted, GenerationReport, generate_llm_batch
from dpo_assets.generator.settings import LLMGeneratorSettings, OfflineSettings, SettingsError
from dpo_assets.sandbox.executor import Executor

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BatchResult:
    """What :func:`write_batch` wrote.

    ``requested``: offline, the candidate count asked for; LLM, the slots (tasks × batch size).
    ``counts``: offline ``rewrites``, ``mutations``, ``seeds``, ``bad_lines``; LLM the report's
    totals. ``error`` is set when the server failed mid-batch and only the records made before
    were written (the caller decides whether that fails its run).
    """

    backend: str
    out_path: Path
    written: int
    requested: int
    by_task: dict[str, int]
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    report: GenerationReport | None = None
    error: str | None = None

    @property
    def tasks(self) -> int:
        return len(self.by_task)

    @property
    def short(self) -> bool:
        """Fewer records than requested (offline: the seeds ran out of distinct programs)."""
        return self.backend == "offline" and self.written < self.requested

    def as_metadata(self) -> dict[str, Any]:
        """Plain values for logs and Dagster metadata."""
        meta: dict[str, Any] = {
            "backend": self.backend, "path": str(self.out_path), "written": self.written,
            "requested": self.requested, "tasks": self.tasks, "seconds": round(self.seconds, 2),
            **self.counts,
        }  # fmt: skip
        if self.error:
            meta["error"] = self.error
        return meta


def write_batch(
    settings: LLMGeneratorSettings | OfflineSettings,
    out_path: Path,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Generate a batch as ``settings`` says and write it to ``out_path`` atomically.

    Raises :class:`SettingsError` for an unusable configuration (nothing written) and
    :class:`~dpo_assets.generator.client.ChatError` when the server fails before the first
    record (nothing written). ``executor`` (LLM only) runs the task suites; default: a
    private fork-server sandbox for this call.
    """
    started = time.perf_counter()
    if isinstance(settings, OfflineSettings):
        return _offline(settings, out_path, progress, started)
    settings.validate()
    if executor is None:
        from dpo_assets.sandbox.forkserver import ForkServerSandbox

        with ForkServerSandbox() as sandbox:
            return _llm(settings, out_path, sandbox, progress, started)
    return _llm(settings, out_path, executor, progress, started)


def _llm(
    settings: LLMGeneratorSettings,
    out_path: Path,
    executor: Executor,
    progress: Progress | None,
    started: float,
) -> BatchResult:
    error = None
    try:
        records, report = generate_llm_batch(settings, executor, progress=progress)
    except GenerationAborted as exc:
        if not exc.records:
            raise exc.cause from None
        records, report, error = exc.records, exc.report, str(exc)
    written = write_jsonl_atomic(out_path, records)
    totals = report.as_dict()["totals"]
    return BatchResult(
        backend=settings.backend, out_path=out_path, written=written,
        requested=settings.slots(), by_task=_by_task(records),
        seconds=time.perf_counter() - started, counts=totals, report=report, error=error,
    )  # fmt: skip


def _offline(
    settings: OfflineSettings, out_path: Path, progress: Progress | None, started: float
) -> BatchResult:
    corpus = settings.corpus if settings.corpus is not None else paths.bundled_dir()
    if not corpus.is_dir():
        raise SettingsError(f"corpus folder {corpus} does not exist")
    if settings.count < 0:
        raise SettingsError("--count must be >= 0")
    labels_dir = settings.labels
    if labels_dir is None:
        labels_dir = paths.labels_dir() if settings.corpus is None else corpus.parent / "labels"
    samples, bad = read_corpus(corpus)
    if not samples:
        raise SettingsError(f"no samples in {corpus}")
    try:
        mix = Mix(clean=settings.clean_share, mutation=settings.mutation_share)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    batch = generate_batch(
        samples, settings.count, settings.seed, labels=read_labels(labels_dir), mix=mix, progress=progress
    )
    written = write_jsonl_atomic(out_path, batch)
    kinds = Counter("mutations" if r["origin"].startswith("mutation:") else "rewrites" for r in batch)
    return BatchResult(
        backend="offline", out_path=out_path, written=written, requested=settings.count,
        by_task=_by_task(batch), seconds=time.perf_counter() - started,
        counts={"rewrites": kinds["rewrites"], "mutations": kinds["mutations"], "seeds": len(samples),
                "bad_lines": bad},
    )  # fmt: skip


def _by_task(records: list[dict]) -> dict[str, int]:
    return dict(sorted(Counter(r["task_id"] for r in records).items()))
