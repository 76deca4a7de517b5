"""Start :mod:`dpo_assets.training.worker` in its own process group and follow its progress."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dpo_assets.storage import atomic_text
from dpo_assets.training.settings import TrainingSettings
from dpo_assets.training.trainer import RESULT_FILE, TrainingError
from dpo_assets.training.worker import PROGRESS_PREFIX


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def work_dir_for(root: Path, settings: TrainingSettings, pairs: Path) -> Path:
    """``<root>/<settings fingerprint>-<pairs digest>``: a rerun with the same settings and
    pairs finds its checkpoints there; anything else starts fresh."""
    return root / f"{settings.fingerprint()}-{file_digest(pairs)}"


def run_training_process(
    settings: TrainingSettings,
    pairs: Path,
    work_dir: Path,
    *,
    on_event: Callable[[dict[str, Any]], None],
    models_dir: Path | None = None,
) -> dict[str, Any]:
    """Train in a child process; ``on_event`` gets each progress event. Returns the result JSON.

    The child leads its own process group, which is killed when this call is interrupted
    (Dagster's run termination raises here), so no trainer outlives its run.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    settings_file = work_dir / "settings.json"
    with atomic_text(settings_file) as handle:
        json.dump(settings.to_json(), handle, indent=1)
    (work_dir / RESULT_FILE).unlink(missing_ok=True)
    command = [sys.executable, "-m", "dpo_assets.training.worker", "--settings", str(settings_file),
               "--pairs", str(pairs), "--work-dir", str(work_dir)]  # fmt: skip
    if models_dir is not None:
        command += ["--models-dir", str(models_dir)]
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_TELEMETRY": "1"}
    tail: deque[str] = deque(maxlen=40)
    error = None
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        start_new_session=True,
        env=env,
    ) as child:
        try:
            assert child.stdout is not None
            for line in child.stdout:
                if line.startswith(PROGRESS_PREFIX):
                    event = json.loads(line[len(PROGRESS_PREFIX) :])
                    if event.get("event") == "error":
                        error = event["message"]
                    on_event(event)
                else:
                    tail.append(line.rstrip())
            status = child.wait()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            raise
    result_file = work_dir / RESULT_FILE
    if status != 0 or not result_file.is_file():
        detail = error or "\n".join(tail) or "no output"
        raise TrainingError(f"training process exited with status {status}: {detail}")
    return json.loads(result_file.read_text())
