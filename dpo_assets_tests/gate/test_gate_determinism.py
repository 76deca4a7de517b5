"""``dpo-assets gate`` is repeatable and crash-safe: the same input gives byte-identical
verdicts whatever ``--jobs``, and a run killed mid-layer leaves no partial file behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dpo_assets import storage
from dpo_assets.defs.io import StageParquetIOManager
from dpo_assets.stage import StageFrames

VERDICTS = "verdicts.jsonl"


def _argv(source: Path, out: Path, jobs: int) -> list[str]:
    return [sys.executable, "-m", "dpo_assets.cli", "gate", str(source), "--out", str(out), f"--jobs={jobs}"]


def _gate(source: Path, out: Path, jobs: int) -> bytes:
    done = subprocess.run(_argv(source, out, jobs), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return (out / VERDICTS).read_bytes()


@pytest.fixture(scope="module")
def clean_run(mixed_input: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The verdicts of an uninterrupted run with one sandbox."""
    return _gate(mixed_input, tmp_path_factory.mktemp("clean"), jobs=1)


@pytest.mark.slow
def test_verdicts_are_byte_identical_across_runs_and_jobs(
    clean_run: bytes, mixed_input: Path, tmp_path: Path
) -> None:
    assert _gate(mixed_input, tmp_path, jobs=2) == clean_run
    verdicts = [json.loads(line) for line in clean_run.decode().splitlines()]
    assert len(verdicts) == len(mixed_input.read_text().splitlines())
    outcomes = Counter(v["failed_layer"] for v in verdicts)
    assert outcomes[None] >= 4 and outcomes[0] == 2 and len(outcomes) >= 4  # a mixed input


def _wait_for(path: Path, text: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.02)


@pytest.mark.slow
def test_killed_run_leaves_no_partial_file_and_reruns_clean(
    clean_run: bytes, mixed_input: Path, tmp_path: Path
) -> None:
    out, log = tmp_path / "out", tmp_path / "stderr.txt"
    with log.open("w", encoding="utf-8") as stderr:
        proc = subprocess.Popen(
            _argv(mixed_input, out, jobs=2), stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
        )
    try:
        _wait_for(log, "gate: layer 1 invariant:", proc, timeout=60)  # layer 1 done: now in layer 2+
        assert proc.poll() is None, "the run finished before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert "layer 1 invariant:" in log.read_text(encoding="utf-8")
    assert proc.returncode == -signal.SIGKILL
    left = sorted(p.name for p in out.iterdir())
    assert left == [], left  # verdicts.jsonl is written once, atomically, at the end

    assert _gate(mixed_input, out, jobs=2) == clean_run
    assert sorted(p.name for p in out.iterdir()) == [VERDICTS]


def _frames(rows: int) -> StageFrames:
    frame = pd.DataFrame({"sample_id": [f"s{i}" for i in range(rows)], "code": ["x = 1"] * rows})
    return StageFrames(frame, frame.iloc[:0])


def test_io_manager_write_that_fails_midway_keeps_the_old_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = StageParquetIOManager(base_dir=str(tmp_path))
    context = dg.build_output_context(asset_key=dg.AssetKey(["gate_1_invariant"]))
    manager.handle_output(context, _frames(3))
    folder = tmp_path / "gate_1_invariant"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    real = pd.DataFrame.to_parquet

    def crash_midway(self: pd.DataFrame, path, *args, **kwargs):
        real(self, path, *args, **kwargs)
        Path(path).write_bytes(Path(path).read_bytes()[:10])  # half written …
        raise OSError("disk full")  # … and the writer dies

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        manager.handle_output(context, _frames(5))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # no temp file, old content
    monkeypatch.undo()
    loaded = manager.load_input(dg.build_input_context(asset_key=dg.AssetKey(["gate_1_invariant"])))
    assert len(loaded.survivors) == 3


def test_parquet_write_killed_midway_never_shows_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "survivors.parquet"
    storage.write_parquet(target, _frames(3).survivors)
    good = target.read_bytes()
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "import pandas as pd\n"
        "from dpo_assets import storage\n"
        "def killed(self, path, *a, **k):\n"
        "    Path(path).write_bytes(b'PAR1 half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "pd.DataFrame.to_parquet = killed\n"
        "storage.write_parquet(Path(sys.argv[1]), pd.DataFrame({'a': [1]}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(target)], timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert target.read_bytes() == good
    assert storage.read_parquet(target)["sample_id"].tolist() == ["s0", "s1", "s2"]
    # A SIGKILL skips the clean-up: what may be left is a hidden temporary, never the target.
    strays = [p.name for p in tmp_path.iterdir() if p != target]
    assert all(name.startswith(".survivors.parquet.") and name.endswith(".tmp") for name in strays)
