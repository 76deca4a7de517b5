"""The ``dpo-assets`` command line."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from dpo_assets import paths


def _instance_home() -> Path:
    """The Dagster home: ``$DAGSTER_HOME`` or the repository root (holding dagster.yaml)."""
    home = Path(os.environ.get("DAGSTER_HOME") or paths.REPO_ROOT).resolve()
    os.environ["DAGSTER_HOME"] = str(home)
    return home


REVIEW_SKIPPED_WARNING = (
    "WARNING: REVIEW SKIPPED: unattended run, no human read the queue. The blocking check "
    "review_signed_off passes without a sign-off; pass --require-review to hold dpo_pairs back "
    "until every queued sample in data/review/queue.md is approved (data/review/signoff.json)."
)


def _open_instance():
    """The project's persistent Dagster instance (``dagster.yaml`` in the Dagster home)."""
    home = _instance_home()
    os.chdir(home)  # dagster.yaml's relative paths are relative to the home
    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    return home, dg.DagsterInstance.get()


def _run_config(args: argparse.Namespace) -> dict:
    """``--config FILE`` (run config as YAML or JSON, as in the UI's launchpad) plus the log level."""
    config: dict = {}
    if getattr(args, "config", None):
        import yaml

        try:
            config = yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SystemExit(f"dpo-assets: cannot read run config {args.config}: {exc}") from exc
        if not isinstance(config, dict):
            raise SystemExit(f"dpo-assets: run config {args.config} must be a mapping (ops: ...)")
    config.setdefault("loggers", {"console": {"config": {"log_level": args.log_level}}})
    batch = {
        k: v
        for k, v in {"date": getattr(args, "date", ""), "backend": getattr(args, "backend", "")}.items()
        if v
    }
    if batch:  # `batch --date/--backend` on top of --config
        config.setdefault("ops", {}).setdefault("autopilot_batch", {}).setdefault("config", {}).update(batch)
    return config


def _materialize(args: argparse.Namespace, *, assets: tuple[str, ...] = (), job: str = "main_job") -> int:
    from dagster import DagsterInvalidConfigError

    from dpo_assets.runner import StageError, print_outcome, run_assets

    home, instance = _open_instance()
    with instance:
        try:
            outcome = run_assets(
                instance, assets=assets, job_name=job, run_config=_run_config(args), progress=args.progress
            )
        except StageError as exc:
            print(f"dpo-assets {args.command}: {exc}", file=sys.stderr)
            return 2
        except DagsterInvalidConfigError as exc:
            print(f"dpo-assets {args.command}: invalid run config: {exc}", file=sys.stderr)
            return 2
        print_outcome(outcome)
        if getattr(args, "skip_review", False):
            print(REVIEW_SKIPPED_WARNING)
        print(f"run {outcome.run_id}: {'succeeded' if outcome.success else 'FAILED'} (instance: {home})")
        return 0 if outcome.success else 1


def _set_review(args: argparse.Namespace) -> None:
    args.skip_review = getattr(args, "skip_review", False)
    os.environ["DPO_ASSETS_REVIEW_REQUIRED"] = "0" if args.skip_review else "1"
    if args.skip_review:
        print(REVIEW_SKIPPED_WARNING, file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    """Materialize the main job in the persistent Dagster instance (visible in the UI)."""
    args.skip_review = not args.require_review
    _set_review(args)
    return _materialize(args, job=args.job)


def cmd_stage(args: argparse.Namespace) -> int:
    """Materialize one stage's assets (or job) in the persistent instance."""
    from dpo_assets.runner import STAGES

    stage = STAGES[args.command]
    _set_review(args)
    return _materialize(args, assets=stage.assets, job=stage.job or "main_job")


def cmd_ui(args: argparse.Namespace) -> int:
    """Start the Dagster UI on the project's instance."""
    home = _instance_home()
    os.chdir(home)
    dagster = Path(sys.executable).with_name("dagster")
    argv = [str(dagster), "dev", "-w", str(paths.REPO_ROOT / "workspace.yaml"), "-p", str(args.port)]
    os.execv(argv[0], argv)
    return 0  # pragma: no cover - execv does not return


def cmd_tasks(args: argparse.Namespace) -> int:
    """List the task catalog, or print one task's prompt."""
    from dpo_assets.tasks import get_task, load_catalog

    if args.prompt:
        print(get_task(args.prompt).prompt())
        return 0
    for task in load_catalog().values():
        print(f"{task.task_id:45} {task.title}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from dpo_assets.corpus import generate

    return generate.run(args)


def cmd_tracebacks(args: argparse.Namespace) -> int:
    from dpo_assets.corpus import tracebacks

    return tracebacks.run(args)


def cmd_gate(args: argparse.Namespace) -> int:
    from dpo_assets.gate import command

    return command.run(args)


def cmd_score_samples(args: argparse.Namespace) -> int:
    from dpo_assets.scoring import command

    return command.run(args)


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--config", metavar="FILE", help="run config (YAML/JSON, as in the UI's launchpad)")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar over the run's steps on stderr (default: when stderr is a terminal)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dpo-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the main job end to end in the Dagster instance")
    run.add_argument("--job", default="main_job")
    _add_run_options(run)
    run.add_argument(
        "--require-review",
        action="store_true",
        help="hold dpo_pairs back until the review queue is signed off (default: skip the review, "
        "with a warning, so that unattended runs finish)",
    )
    run.set_defaults(func=cmd_run)

    from dpo_assets.runner import STAGES

    for stage in STAGES.values():
        what = f"the {stage.job} job" if stage.job else ", ".join(stage.assets)
        command = sub.add_parser(
            stage.name,
            help=stage.help,
            description=f"{stage.help}. Materializes {what} in the project's Dagster instance; its "
            "inputs must have been materialized before (the error says which stage to run).",
        )
        _add_run_options(command)
        if "dpo_pairs" in stage.assets:
            command.add_argument(
                "--skip-review",
                action="store_true",
                help="let dpo_pairs through without a signed-off review queue (prints a warning)",
            )
        if stage.name == "batch":
            command.add_argument("--date", default="", help="YYYY-MM-DD (default: today, UTC)")
            command.add_argument("--backend", default="", choices=["", "offline", "ollama", "openai"])
        command.set_defaults(func=cmd_stage)

    ui = sub.add_parser("ui", help="open the Dagster UI (dagster dev) on the project's instance")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    tasks = sub.add_parser("tasks", help="list the task catalog")
    tasks.add_argument("--prompt", metavar="TASK_ID", help="print the prompt a model is shown")
    tasks.set_defaults(func=cmd_tasks)

    gen = sub.add_parser("generate", help="expand the bundled corpus into a nightly batch")
    from dpo_assets.corpus import generate

    generate.add_arguments(gen)
    gen.set_defaults(func=cmd_generate)

    tb = sub.add_parser("tracebacks", help="refresh the pytest tracebacks of repair-task samples")
    from dpo_assets.corpus import tracebacks

    tracebacks.add_arguments(tb)
    tb.set_defaults(func=cmd_tracebacks)

    gate = sub.add_parser("gate", help="certify a raw-sample JSONL file (layers 0-8) outside Dagster")
    from dpo_assets.gate import command as gate_command

    gate_command.add_arguments(gate)
    gate.set_defaults(func=cmd_gate)

    score = sub.add_parser("score-samples", help="score HumanEval/MBPP completions in the sandbox")
    from dpo_assets.scoring import command as score_command

    score_command.add_arguments(score)
    score.set_defaults(func=cmd_score_samples)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
