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


def cmd_run(args: argparse.Namespace) -> int:
    """Materialize the main job in the persistent Dagster instance (visible in the UI)."""
    home = _instance_home()
    os.environ["DPO_ASSETS_REVIEW_REQUIRED"] = "1" if args.require_review else "0"
    if not args.require_review:
        print(REVIEW_SKIPPED_WARNING, file=sys.stderr, flush=True)
    os.chdir(home)  # dagster.yaml's relative paths are relative to the home
    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)

    from dpo_assets.defs import defs

    job = defs.resolve_job_def(args.job)
    with dg.DagsterInstance.get() as instance:
        run_config = {"loggers": {"console": {"config": {"log_level": args.log_level}}}}
        result = job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False)
        for mat in result.get_asset_materialization_events():
            materialization = mat.step_materialization_data.materialization
            shown = {k: v.value for k, v in materialization.metadata.items() if isinstance(v.value, int)}
            print(f"materialized {materialization.asset_key.to_user_string()}: {shown}")
            if "latest" in materialization.metadata:
                print(f"  open {materialization.metadata['latest'].value}")
        for event in result.get_asset_check_evaluations():
            outcome = "passed" if event.passed else "FAILED"
            text = f" ({event.description})" if event.description else ""
            print(f"check {event.asset_key.to_user_string()}:{event.check_name}: {outcome}{text}")
        if not args.require_review:
            print(REVIEW_SKIPPED_WARNING)
        print(f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'} (instance: {home})")
        return 0 if result.success else 1


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dpo-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the main job end to end in the Dagster instance")
    run.add_argument("--job", default="main_job")
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    run.add_argument(
        "--require-review",
        action="store_true",
        help="hold dpo_pairs back until the review queue is signed off (default: skip the review, "
        "with a warning, so that unattended runs finish)",
    )
    run.set_defaults(func=cmd_run)

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
