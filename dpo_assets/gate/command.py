"""``dpo-assets gate INPUT --out DIR``: layers 0–8 over one raw-sample JSONL file.

Writes ``DIR/verdicts.jsonl``: one object per input line, in input order (see
``spec/formats.md``). Exit 0 whenever the run completed; 2, with a one-line message on
stderr, when INPUT cannot be read or DIR cannot be written. ``--jobs N`` checks N candidates
at a time, one sandbox each; the verdicts do not depend on it. Progress goes to stderr: a
live bar per layer on a terminal, one line per layer otherwise.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from dpo_assets.gate.layers.coverage import DEFAULT_THRESHOLD
from dpo_assets.gate.pipeline import Verdict, certify, one_line
from dpo_assets.gate.progress import LayerProgress
from dpo_assets.intake.validate import LineResult, intake_lines
from dpo_assets.sandbox.concurrency import default_jobs
from dpo_assets.storage import write_jsonl

VERDICTS_FILE = "verdicts.jsonl"


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if math.isnan(value) or not 0.0 <= value <= 100.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 100], got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``dpo-assets gate``."""
    parser.add_argument("input", type=Path, metavar="INPUT", help="raw-sample JSONL file")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for verdicts.jsonl")
    parser.add_argument(
        "--threshold",
        type=_threshold,
        default=DEFAULT_THRESHOLD,
        help=f"layer-8 coverage threshold in percent (default {DEFAULT_THRESHOLD:g})",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=positive_int,
        default=default_jobs(),
        metavar="N",
        help=f"candidates checked at a time, one sandbox each (default: CPUs + 2 = {default_jobs()})",
    )
    parser.add_argument("--workers", type=positive_int, dest="jobs", help=argparse.SUPPRESS)  # old name


def _fail(message: str) -> int:
    print(f"gate: {one_line(message, 500)}", file=sys.stderr)
    return 2


def _describe(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _check_writable(out: Path) -> None:
    """Create ``out`` and prove a file can be written there (raises OSError)."""
    out.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".gate-probe.", dir=out)
    os.close(fd)
    os.unlink(name)


def _known_task(task_id: str) -> bool:
    from dpo_assets.intake import is_known_task

    return is_known_task(task_id)


def _row(line: LineResult, verdict: Verdict | None) -> dict[str, Any]:
    if line.rejection is not None:
        r = line.rejection
        return {
            "line": line.line,
            "sample_id": r.sample_id,
            "task_id": r.task_id,
            "certified": False,
            "failed_layer": 0,
            "reason": one_line(r.reason),
            "coverage": None,
        }
    assert line.sample is not None and verdict is not None
    return {
        "line": line.line,
        "sample_id": verdict.sample_id,
        "task_id": verdict.task_id,
        "certified": verdict.certified,
        "failed_layer": verdict.failed_layer,
        "reason": verdict.reason,
        "coverage": verdict.coverage,
    }


def run(args: argparse.Namespace) -> int:
    """Run ``dpo-assets gate``."""
    started = time.monotonic()
    source: Path = args.input
    out: Path = args.out
    try:
        data = source.read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {source}: {_describe(exc)}")
    try:
        _check_writable(out)
    except OSError as exc:
        return _fail(f"cannot write to {out}: {_describe(exc)}")

    lines = list(intake_lines([(str(source), data)], _known_task))
    samples = [r.sample for r in lines if r.sample is not None]
    rejected = len(lines) - len(samples)
    verdicts: dict[str, Verdict] = {}
    with LayerProgress(sys.stderr) as progress:
        progress.message(f"layer 0 intake: {len(lines)} lines, {len(samples)} passed, {rejected} rejected")
        if samples:
            from dpo_assets.sandbox.forkserver import SandboxPool

            with SandboxPool(size=args.jobs) as pool:
                found = certify(samples, pool, args.threshold, progress.message, args.jobs, progress.tick)
                verdicts = {v.sample_id: v for v in found}

    rows = [_row(r, verdicts.get(r.sample.sample_id) if r.sample else None) for r in lines]
    assert len(rows) == len(lines)
    try:
        write_jsonl(out / VERDICTS_FILE, rows)
    except OSError as exc:
        return _fail(f"cannot write {out / VERDICTS_FILE}: {_describe(exc)}")

    failed = Counter(row["failed_layer"] for row in rows if not row["certified"])
    per_layer = ", ".join(f"layer {layer}: {failed[layer]}" for layer in sorted(failed)) or "none"
    certified = sum(1 for row in rows if row["certified"])
    print(
        f"gate: {len(rows)} lines, {certified} certified; rejected by {per_layer}; "
        f"{time.monotonic() - started:.1f}s -> {out / VERDICTS_FILE}",
        file=sys.stderr,
    )
    return 0
