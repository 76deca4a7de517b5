"""Materialize pipeline stages in the project's Dagster instance from the command line.

Every stage of ``dpo-assets`` (``intake``, ``certify``, ``curate``, ``pairs``, ``train``,
``scorecard``, ``export``, ``batch``, ``nightly``) is a set of assets; :func:`run_assets` runs
them in-process in the persistent instance (so the UI shows the run and the lineage) with a
progress bar over the steps, checks first that the stage's inputs were materialized, and turns
a failed step into its error message instead of a traceback.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from dpo_assets.gate.pipeline import LAYERS

GATE = tuple(f"gate_{spec.number}_{spec.name}" for spec in LAYERS)  # as defs/gate_assets.py names them


@dataclass(frozen=True)
class Stage:
    name: str
    help: str
    assets: tuple[str, ...] = ()
    job: str | None = None  # a whole job instead of an asset list


STAGES: dict[str, Stage] = {
    stage.name: stage
    for stage in (
        Stage("batch", "write the day's autopilot batch into data/inbox/", ("autopilot_batch",)),
        Stage("intake", "layer 0: validate every raw JSONL line (raw_samples)", ("raw_samples",)),
        Stage("certify", "gate layers 1-8 and the chosen pool", (*GATE, "chosen_pool")),
        Stage(
            "curate",
            "decontaminate, deduplicate and queue samples for human review",
            ("decontaminated_pool", "deduplicated_pool", "review_queue"),
        ),
        Stage(
            "pairs",
            "review sign-off check, domain-balanced DPO pairs and the iteration report",
            ("review_queue", "dpo_pairs", "iteration_report"),  # the queue's check blocks the pairs
        ),
        Stage("train", "DPO LoRA training (lora_checkpoint)", ("lora_checkpoint",)),
        Stage("scorecard", "HumanEval/MBPP scorecard with the go/no-go decision", ("scorecard",)),
        Stage(
            "export",
            "GGUF adapter + Modelfile, deployed to Ollama when a server answers",
            ("ollama_adapter",),
        ),
        Stage("nightly", "the nightly job: batch, intake, gate, pool, review queue", job="autopilot_job"),
    )
}


# Inputs a stage may run without: intake reads the inbox whether or not an autopilot batch ran.
OPTIONAL_INPUT_GROUPS = frozenset({"autopilot"})


class StageError(RuntimeError):
    """A stage cannot start (the message says what to run first)."""


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    materialized: list[tuple[str, dict[str, Any]]]
    checks: list[tuple[str, bool, str]]
    failures: list[tuple[str, str]]


def missing_inputs(instance, selected: Iterable[Any], asset_graph) -> dict[str, list[str]]:
    """Upstream assets (outside the selection) never materialized in ``instance``: {input: [needed by]}."""
    selected = set(selected)
    missing: dict[str, list[str]] = {}
    for key in sorted(selected, key=lambda k: k.to_user_string()):
        for parent in asset_graph.get(key).parent_keys:
            if parent in selected or not asset_graph.get(parent).is_materializable:
                continue
            if asset_graph.get(parent).group_name in OPTIONAL_INPUT_GROUPS:
                continue
            if instance.get_latest_materialization_event(parent) is None:
                missing.setdefault(parent.to_user_string(), []).append(key.to_user_string())
    return missing


def _stage_of(asset: str) -> str:
    return next((s.name for s in STAGES.values() if asset in s.assets), "run")


class StepProgress:
    """Progress over a run's steps, fed by polling the instance's event log from a thread: a bar
    on a terminal, one line per finished step otherwise (``mode``: "bar", "lines" or "off")."""

    def __init__(self, instance, run_id: str, total: int, stream: TextIO, mode: str) -> None:
        self._instance, self._run_id, self._stream, self._mode = instance, run_id, stream, mode
        self._total, self._reported = total, 0
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._bar = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc="starting", unit="step", file=stream, dynamic_ncols=True)
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> StepProgress:
        if self._mode != "off":
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._mode != "off":
            self._thread.join(timeout=5)
            self._update()
        if self._bar is not None:
            self._bar.close()

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            self._update()

    def _update(self) -> None:
        from dagster import DagsterEventType

        kinds = {DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}
        try:
            events = self._instance.all_logs(self._run_id, of_type=kinds)
        except Exception:  # the display must never break the run
            return
        finished = [e for e in events if e.dagster_event.event_type != DagsterEventType.STEP_START]
        started = [e for e in events if e.dagster_event.event_type == DagsterEventType.STEP_START]
        if self._bar is not None:
            self._bar.n = min(len(finished), self._total)
            if started:
                self._bar.set_description(started[-1].dagster_event.step_key, refresh=False)
            self._bar.refresh()
            return
        for event in finished[self._reported :]:
            self._reported += 1
            failed = event.dagster_event.event_type == DagsterEventType.STEP_FAILURE
            print(
                f"[{self._reported}/{self._total}] {event.dagster_event.step_key} "
                f"{'FAILED' if failed else 'done'} ({time.monotonic() - self._started:.0f} s)",
                file=self._stream,
                flush=True,
            )


def run_assets(
    instance,
    *,
    assets: Sequence[str] = (),
    job_name: str = "main_job",
    run_config: Mapping[str, Any] | None = None,
    progress: bool | None = None,
    stream: TextIO | None = None,
) -> RunOutcome:
    """Materialize ``assets`` (or all of ``job_name`` when empty) in ``instance``. ``progress``:
    None = a bar on a terminal and a line per step otherwise, True = a bar, False = nothing."""
    import dagster as dg

    from dpo_assets.defs import defs

    job = defs.resolve_job_def(job_name) if not assets else defs.resolve_implicit_global_asset_job_def()
    graph = defs.resolve_asset_graph()
    unknown = [a for a in assets if not graph.has(dg.AssetKey(a))]
    if unknown:
        raise StageError(f"unknown assets: {', '.join(unknown)}")
    keys = [dg.AssetKey(a) for a in assets] or list(job.asset_layer.selected_asset_keys)
    missing = missing_inputs(instance, keys, graph)
    if missing:
        lines = [
            f"  {parent} (needed by {', '.join(needed)}): run `dpo-assets {_stage_of(parent)}` first"
            for parent, needed in missing.items()
        ]
        raise StageError("inputs never materialized in this instance:\n" + "\n".join(lines))
    run_id = str(uuid.uuid4())
    steps = len((job.get_subset(asset_selection=set(keys)) if assets else job).graph.nodes)
    stream = stream or sys.stderr
    mode = ("bar" if stream.isatty() else "lines") if progress is None else ("bar" if progress else "off")
    with StepProgress(instance, run_id, steps, stream, mode):
        result = job.execute_in_process(
            run_config=dict(run_config or {}),
            instance=instance,
            raise_on_error=False,
            asset_selection=[dg.AssetKey(a) for a in assets] or None,
            run_id=run_id,
        )
    return _outcome(result)


def _outcome(result) -> RunOutcome:
    materialized = []
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        shown = {k: v.value for k, v in materialization.metadata.items() if isinstance(v.value, (int, str))}
        materialized.append((materialization.asset_key.to_user_string(), shown))
    checks = [
        (f"{e.asset_key.to_user_string()}:{e.check_name}", e.passed, e.description or "")
        for e in result.get_asset_check_evaluations()
    ]
    failures = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None and "dagster" in error.cls_name.lower():
            error = error.cause  # Dagster's wrappers: show the user code's own error
        failures.append((event.step_key, error.message.strip() if error else "failed"))
    return RunOutcome(result.run_id, result.success, materialized, checks, failures)


def print_outcome(outcome: RunOutcome, stream: TextIO | None = None) -> None:
    """One line per materialization and check, then the failures with their messages."""
    stream = stream or sys.stdout
    for asset, metadata in outcome.materialized:
        numbers = {k: v for k, v in metadata.items() if isinstance(v, int) and not isinstance(v, bool)}
        print(f"materialized {asset}: {numbers}", file=stream)
        if "latest" in metadata:
            print(f"  open {metadata['latest']}", file=stream)
    for name, passed, description in outcome.checks:
        text = f" ({description})" if description else ""
        print(f"check {name}: {'passed' if passed else 'FAILED'}{text}", file=stream)
    for step, message in outcome.failures:
        print(f"FAILED {step}: {message}", file=stream)
