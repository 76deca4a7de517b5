"""benchmarks/bench_train_gpu.py runs on CPU with the stand-in's shape, so it cannot rot."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dpo_assets.paths import REPO_ROOT


@pytest.mark.slow
def test_gpu_training_benchmark_runs_on_cpu_with_the_tiny_shape(
    tiny_base: Path, small_pairs: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny_base, data / "models" / "tiny-qwen2")
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "bench_train_gpu.py"), "--shapes", "tiny",
         "--steps", "1", "--pairs", str(small_pairs), "--out", str(out)],
        env={**os.environ, "DPO_ASSETS_DATA": str(data)}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {r["mode"]: r for r in json.loads(out.read_text())}
    assert set(results) == {"trl-default", "auto"}
    default, auto = results["trl-default"], results["auto"]
    assert "gradient checkpointing on, reference log-probs per step" in default["plan"]
    assert "gradient checkpointing off, reference log-probs precomputed" in auto["plan"]
    for result in results.values():
        assert result["device"] == "cpu" and result["steps"] == 1
        assert result["tokens_per_second"] > 0 and result["peak_memory_gib"] > 0
        assert result["reference_workload_seconds"] > result["seconds_per_step"]
    assert "tiny: auto is" in proc.stdout
