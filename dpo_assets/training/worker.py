"""Run one DPO training in a process of its own: ``python -m dpo_assets.training.worker``.

The ``lora_checkpoint`` asset starts this so that the model and its (GPU) memory go away with
the process, whatever executor Dagster uses. Progress goes to stdout as one JSON object per
line (``{"event": "log", ...}``), the result to ``--result`` as JSON; errors end the process
with status 1 and a ``{"event": "error", "message": ...}`` line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dpo_assets.training.settings import TrainingSettings

PROGRESS_PREFIX = "@@progress "


def _emit(event: dict) -> None:
    print(PROGRESS_PREFIX + json.dumps(event, default=str), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dpo_assets.training.worker", description=__doc__)
    parser.add_argument("--settings", type=Path, required=True, help="TrainingSettings as JSON")
    parser.add_argument("--pairs", type=Path, required=True, help="pairs.parquet or pairs.jsonl")
    parser.add_argument("--work-dir", type=Path, required=True, help="checkpoints, adapter, result")
    parser.add_argument("--models-dir", type=Path, default=None, help="where the stand-in is cached")
    args = parser.parse_args(argv)

    settings = TrainingSettings.from_json(json.loads(args.settings.read_text()))
    from dpo_assets.training.trainer import TrainingError, train_dpo  # heavy imports after parsing

    try:
        result = train_dpo(
            settings,
            args.pairs,
            args.work_dir,
            on_log=lambda entry: _emit({"event": "log", **entry}),
            models_dir=args.models_dir,
        )
    except (TrainingError, FileNotFoundError, ValueError) as exc:
        _emit({"event": "error", "message": f"{type(exc).__name__}: {exc}"})
        return 1
    _emit({"event": "done", "adapter_dir": result.adapter_dir, "steps": result.steps})
    return 0


if __name__ == "__main__":
    sys.exit(main())
