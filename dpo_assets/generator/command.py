"""``dpo-assets generate``: options and run, for the offline backend (default) and the LLM ones."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dpo_assets.generator.batch import BatchResult, write_batch
from dpo_assets.generator.client import ChatError
from dpo_assets.generator.progress import SlotProgress
from dpo_assets.generator.settings import LLMGeneratorSettings, OfflineSettings, SettingsError
from dpo_assets.storage import atomic_text

BACKENDS = ("offline", "ollama", "openai")
# argparse dest -> LLMGeneratorSettings field, for the options only the LLM backends take
LLM_OPTIONS = {
    "model": "model", "base_url": "base_url", "api_key_env": "api_key_env", "temperature": "temperature",
    "max_tokens": "max_tokens", "tasks": "tasks", "batch_size": "batch_size", "retries": "retries",
    "rate_limit": "rate_limit", "timeout": "timeout", "repair": "repair",
}  # fmt: skip


def add_llm_arguments(parser: argparse.ArgumentParser) -> None:
    """The backend choice and the LLM backends' options of ``dpo-assets generate``."""
    parser.add_argument(
        "--backend", choices=BACKENDS, default="offline",
        help="offline: rewrites and mutations of the corpus (default); ollama / openai: ask a chat "
        "model, test each reply with the task's suite, ask for a repair of failing ones",
    )  # fmt: skip
    llm = parser.add_argument_group("LLM backends (--backend ollama|openai; --count/--seed/--corpus unused)")
    llm.add_argument("--model", help="model name as the server knows it (required)")
    llm.add_argument(
        "--host", "--base-url", dest="base_url", metavar="URL",
        help="server URL (default: ollama http://127.0.0.1:11434, openai https://api.openai.com/v1)",
    )  # fmt: skip
    llm.add_argument(
        "--api-key-env", metavar="VAR", help="env variable holding the key (default OPENAI_API_KEY)"
    )
    llm.add_argument("--temperature", type=float, help="sampling temperature (default 0.8)")
    llm.add_argument("--max-tokens", type=int, help="reply length limit in tokens (default 2048)")
    llm.add_argument(
        "--tasks", action="append", metavar="ID[,ID...]", help="task ids (repeatable; default: all tasks)"
    )
    llm.add_argument("--batch-size", type=int, help="implementations asked per task (default 4)")
    llm.add_argument("--retries", type=int, help="retries on connection errors, 429 and 5xx (default 3)")
    llm.add_argument(
        "--rate-limit", type=float, metavar="RPS", help="max requests per second (default 0: off)"
    )
    llm.add_argument("--timeout", type=float, metavar="S", help="seconds per request (default 120)")
    llm.add_argument("--no-repair", dest="repair", action="store_const", const=False, help="ask no repairs")
    parser.add_argument("--report", type=Path, metavar="JSON", help="also write the counts to this JSON file")


def settings_from_args(args: argparse.Namespace) -> LLMGeneratorSettings | OfflineSettings:
    """The settings the options describe (validated); :class:`SettingsError` when they conflict."""
    values = {field: getattr(args, dest) for dest, field in LLM_OPTIONS.items()}
    given = {field: value for field, value in values.items() if value is not None}
    if args.backend == "offline":
        if given:
            names = ", ".join("--" + dest.replace("_", "-") for dest in LLM_OPTIONS if dest in given)
            raise SettingsError(f"{names}: only for --backend ollama|openai")
        return OfflineSettings(
            count=args.count, seed=args.seed, corpus=args.corpus, labels=args.labels,
            clean_share=args.clean_share, mutation_share=args.mutation_share,
        )  # fmt: skip
    if "tasks" in given:
        given["tasks"] = tuple(t.strip() for chunk in given["tasks"] for t in chunk.split(",") if t.strip())
    return LLMGeneratorSettings(backend=args.backend, **{"model": "", **given}).validate()


def run_generate(args: argparse.Namespace) -> int:
    """0 on success; 1 when short (offline) or stopped mid-batch (LLM, partial file written);
    2 on bad configuration, an unreachable server, or an unwritable output."""
    progress: SlotProgress | None = None
    try:
        settings = settings_from_args(args)
        if isinstance(settings, LLMGeneratorSettings):
            progress = SlotProgress(sys.stderr)
        result = write_batch(settings, args.out, progress=progress or _offline_progress)
    except (SettingsError, ChatError, OSError) as exc:
        print(f"generate: {_failure(exc, args.out)}", file=sys.stderr)
        return 2
    finally:
        if progress is not None:
            progress.close()
    _print_result(result)
    if args.report:
        with atomic_text(args.report) as handle:
            handle.write(json.dumps(_report_json(result), indent=2) + "\n")
    if result.error:
        print(f"generate: {result.error}; wrote the {result.written} record(s) made before", file=sys.stderr)
        return 1
    if result.short:
        wanted = result.requested
        print(f"generate: only {result.written} distinct candidates of {wanted} requested", file=sys.stderr)
        return 1
    return 0


def _failure(exc: Exception, out: Path) -> str:
    if isinstance(exc, ChatError):
        return f"{exc}; nothing written"
    if isinstance(exc, OSError):
        return f"cannot write {out}: {exc}"
    return str(exc)


def _offline_progress(done: int, target: int) -> None:
    print(f"generate: {done}/{target} candidates", file=sys.stderr, flush=True)


def _print_result(result: BatchResult) -> None:
    c = result.counts
    if result.backend == "offline":
        if c["bad_lines"]:
            print(f"generate: skipped {c['bad_lines']} unreadable corpus line(s)", file=sys.stderr)
        print(
            f"generate: wrote {result.written} candidates ({c['rewrites']} rewrites, "
            f"{c['mutations']} mutations, "
            f"{result.tasks} tasks) from {c['seeds']} seeds to {result.out_path} in {result.seconds:.1f}s",
            file=sys.stderr,
        )
        return
    assert result.report is not None
    for task_id, counts in result.report.per_task.items():
        print(
            f"generate: {task_id}: {counts.implementations} implementations ({counts.failing} failing), "
            f"{counts.repairs} repairs, {counts.empty_replies} empty, {counts.duplicates} duplicates",
            file=sys.stderr,
        )
    print(
        f"generate: wrote {result.written} samples from {result.tasks} tasks to {result.out_path} "
        f"in {result.seconds:.1f}s: {result.report.summary()}",
        file=sys.stderr,
    )


def _report_json(result: BatchResult) -> dict[str, Any]:
    data = result.as_metadata()
    if result.report is not None:
        data["per_task"] = result.report.as_dict()["per_task"]
    return data
