"""Real pytest tracebacks for repair-task samples: the suite run on ``broken_code`` in the sandbox."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dpo_assets import paths
from dpo_assets.sandbox.executor import Executor
from dpo_assets.sandbox.pytest_runner import run_suite
from dpo_assets.storage import atomic_text
from dpo_assets.tasks import Task, get_task, load_catalog


class TracebackError(RuntimeError):
    """The suite did not run to a failing report on the broken module."""


def suite_traceback(executor: Executor, task: Task, broken_code: str) -> str:
    """The pytest report of ``task``'s suite on ``broken_code`` (it must fail)."""
    report = run_suite(executor, broken_code, task.suite_source)
    if report["exit_code"] not in (1, 2):
        raise TracebackError(
            f"{task.task_id}: expected the suite to fail on the broken module, got exit code "
            f"{report['exit_code']} ({report['status']}: {report['detail']})"
        )
    return str(report["output"])


def refresh_file(executor: Executor, path: Path, check_only: bool = False) -> tuple[int, int]:
    """Recompute tracebacks in one JSONL file; returns (repair samples, samples changed)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    cache: dict[tuple[str, str], str] = {}
    repair = changed = 0
    for row in rows:
        task = get_task(row["task_id"])
        if not task.is_repair or not row.get("broken_code"):
            continue
        repair += 1
        key = (task.task_id, row["broken_code"])
        if key not in cache:
            cache[key] = suite_traceback(executor, task, row["broken_code"])
        if row.get("traceback") != cache[key]:
            changed += 1
            row["traceback"] = cache[key]
    if changed and not check_only:
        with atomic_text(path) as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return repair, changed


def refresh_unit(executor: Executor, task: Task, check_only: bool = False) -> bool:
    """Recompute a repair task's ``broken_traceback.txt``; True when it changed."""
    if not task.is_repair or task.broken_source is None:
        return False
    fresh = suite_traceback(executor, task, task.broken_source)
    if task.broken_traceback == fresh:
        return False
    if not check_only:
        with atomic_text(task.unit_dir / "broken_traceback.txt") as handle:
            handle.write(fresh)
    return True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus", type=Path, default=None, help="folder of raw-sample JSONL (default: the bundled corpus)"
    )
    parser.add_argument("--check", action="store_true", help="only report stale tracebacks; exit 1 if any")


def run(args: argparse.Namespace) -> int:
    from dpo_assets.sandbox import get_sandbox

    folder = args.corpus or paths.bundled_dir()
    executor = get_sandbox()
    stale = 0
    for task in load_catalog().values():
        if refresh_unit(executor, task, check_only=args.check):
            verb = "stale" if args.check else "updated"
            print(f"{task.task_id}: broken_traceback.txt {verb}", file=sys.stderr)
            stale += 1
    for path in sorted(folder.glob("*.jsonl")):
        repair, changed = refresh_file(executor, path, check_only=args.check)
        if repair:
            verb = "stale" if args.check else "updated"
            print(f"{path.name}: {repair} repair samples, {changed} {verb}", file=sys.stderr)
        stale += changed
    return 1 if (args.check and stale) else 0
