"""``dpo-assets score-samples SAMPLES --benchmark humaneval|mbpp [--plus] --out DIR``.

Scores one sample per problem the way ``evalplus.evaluate`` does, in the sandbox (see
``spec/formats.md``). ``SAMPLES`` is JSONL: ``task_id`` and ``completion`` (appended to the
benchmark prompt) or ``solution`` (a whole program). Writes ``DIR/results.jsonl`` (one object per
benchmark problem, in benchmark order: ``task_id``, ``passed``, ``category``, ``exception_type``)
and ``DIR/summary.json`` (``pass_at_1``, a count per category), both atomically.

A line that is not a JSON object with a string ``task_id`` and a string ``completion`` or
``solution`` stops the run before anything executes (exit 2, ``FILE:LINE: why`` on stderr). A
``task_id`` the benchmark does not have is ignored with a warning; for a repeated ``task_id`` the
first sample counts (warning). Exit 0 whenever the scoring completed, whatever the verdicts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dpo_assets.gate.command import positive_int
from dpo_assets.sandbox.concurrency import default_jobs
from dpo_assets.scoring import execute
from dpo_assets.storage import atomic_text, write_jsonl

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"


class SamplesError(ValueError):
    """SAMPLES cannot be used (the message names the file and line)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``dpo-assets score-samples``."""
    parser.add_argument("samples", type=Path, metavar="SAMPLES", help="JSONL: task_id + completion|solution")
    parser.add_argument("--benchmark", required=True, choices=execute.BENCHMARKS, help="which benchmark")
    parser.add_argument("--plus", action="store_true", help="add the HumanEval+/MBPP+ extra inputs")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the results")
    parser.add_argument(
        "--data", type=Path, metavar="DIR", help="benchmark files' folder (default: DPO_ASSETS_EVAL_DATA)"
    )
    parser.add_argument(
        "--jobs", "-j", type=positive_int, default=default_jobs(), metavar="N",
        help=f"sandbox runs at a time (default: CPUs + 2 = {default_jobs()})",
    )  # fmt: skip


def read_samples(path: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """``{task_id: sample}`` from ``path`` and warnings; raises :class:`SamplesError` on a bad line
    and OSError when the file cannot be read."""
    samples: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise SamplesError(f"{where}: not valid JSON ({exc})") from None
            if not isinstance(record, dict):
                raise SamplesError(f"{where}: expected a JSON object, got {type(record).__name__}")
            task_id = record.get("task_id")
            if not isinstance(task_id, str) or not task_id:
                raise SamplesError(f"{where}: 'task_id' must be a non-empty string")
            if not isinstance(record.get("solution"), str) and not isinstance(record.get("completion"), str):
                raise SamplesError(f"{where}: needs a string 'completion' or 'solution'")
            if task_id in samples:
                warnings.append(f"{where}: {task_id} repeated; the first sample counts")
                continue
            samples[task_id] = record
    return samples, warnings


def write_results(out: Path, results: list[execute.ProblemResult], extra: Mapping[str, Any]) -> None:
    """``results.jsonl`` and ``summary.json`` in ``out`` (atomically)."""
    write_jsonl(out / RESULTS_FILE, (r.row() for r in results))
    with atomic_text(out / SUMMARY_FILE) as handle:
        json.dump({**extra, **execute.summarize(results)}, handle, indent=2)
        handle.write("\n")


def _fail(message: str) -> int:
    print(f"score-samples: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Run ``dpo-assets score-samples``."""
    started = time.monotonic()
    try:
        samples, warnings = read_samples(args.samples)
    except SamplesError as exc:
        return _fail(str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(f"cannot read {args.samples}: {getattr(exc, 'strerror', None) or exc}")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(f"cannot write to {args.out}: {exc.strerror or exc}")
    try:
        problems = execute.load_problems(args.benchmark, args.data)
    except (FileNotFoundError, ValueError) as exc:
        return _fail(str(exc))
    known = {p.task_id for p in problems}
    unknown = [t for t in samples if t not in known]
    for task_id in unknown:
        warnings.append(f"{args.samples}: {task_id} is not a {args.benchmark} problem; ignored")
    for line in warnings:
        print(f"score-samples: warning: {line}", file=sys.stderr)

    def progress(phase: str, done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            label = "reference outputs" if phase == "reference" else "sandbox runs"
            print(f"score-samples: {label}: {done}/{total}", file=sys.stderr, flush=True)

    results = execute.score_completions(
        args.benchmark, {t: s for t, s in samples.items() if t in known}, plus=args.plus, data_dir=args.data,
        jobs=args.jobs, progress=progress,
    )  # fmt: skip
    try:
        write_results(args.out, results, {"benchmark": args.benchmark, "plus": args.plus})
    except OSError as exc:
        return _fail(f"cannot write to {args.out}: {exc.strerror or exc}")
    summary = execute.summarize(results)
    name = args.benchmark + ("+" if args.plus else "")
    print(
        f"score-samples: {name}: {summary['passed']}/{summary['problems']} "
        f"pass (pass@1 {summary['pass_at_1']:.3f}); {time.monotonic() - started:.1f}s -> {args.out}",
        file=sys.stderr,
    )
    return 0
