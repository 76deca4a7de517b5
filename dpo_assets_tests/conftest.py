"""Shared fixtures: an isolated data folder and storage per test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dpo_assets import paths
from dpo_assets.corpus.bundled import task_file_stem
from dpo_assets.training.bundled_pairs import bundled_pairs

SMALL_PAIRS = bundled_pairs(4)  # read now: data_root later points the data folder elsewhere


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--llama-cpp",
        action="store_true",
        help="run the opt-in llama.cpp tests (the first run builds llama-cpp-python: 5-9 min on 2 cores)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``llama_cpp`` tests are opt-in: ``--llama-cpp`` or ``DPO_ASSETS_LLAMA_CPP=1``."""
    if config.getoption("--llama-cpp") or os.environ.get("DPO_ASSETS_LLAMA_CPP") == "1":
        return
    skip = pytest.mark.skip(reason="opt-in: pytest --llama-cpp (builds llama-cpp-python, 5-9 min)")
    for item in items:
        if "llama_cpp" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder (bundled/, inbox/, runs/) wired through the environment."""
    root = tmp_path / "data"
    for sub in ("bundled", "inbox", "labels"):
        (root / sub).mkdir(parents=True)
    monkeypatch.setenv("DPO_ASSETS_DATA", str(root))
    monkeypatch.setenv("DPO_ASSETS_STORAGE", str(root / "runs"))
    return root


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The offline stand-in base model (tiny Qwen2 + ChatML tokenizer), built once per session
    from the repository's bundled corpus."""
    from dpo_assets.training.tiny_base import ensure_tiny_base

    return ensure_tiny_base(tmp_path_factory.mktemp("models") / "tiny-qwen2")


@pytest.fixture
def small_pairs(tmp_path: Path) -> Path:
    """12 DPO pairs (4 per short task, correct vs broken by label) as pairs.parquet."""
    path = tmp_path / "pairs.parquet"
    SMALL_PAIRS.to_parquet(path, index=False)
    return path


@pytest.fixture
def run_suite(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """``run_suite(task, source, *options)``: the task's pytest suite against ``source`` as
    solution.py, in a subprocess in ``tmp_path`` (each call overwrites the previous files)."""

    def run(task, source: str, *options: str) -> subprocess.CompletedProcess:
        (tmp_path / "solution.py").write_text(source, encoding="utf-8")
        (tmp_path / "test_suite.py").write_text(task.suite_source, encoding="utf-8")
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, "test_suite.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture
def corpus_line_counts() -> Callable[[str], tuple[int, int]]:
    """``corpus_line_counts(task_id)``: non-blank lines in the task's bundled and labels JSONL.
    ``load_samples``/``load_labels`` key rows by sample id, so equal lengths mean no id repeats."""

    def count(task_id: str) -> tuple[int, int]:
        stem = task_file_stem(task_id)
        files = (paths.bundled_dir() / f"{stem}.jsonl", paths.labels_dir() / f"{stem}.jsonl")
        lines = [f.read_text(encoding="utf-8").splitlines() for f in files]
        return tuple(sum(1 for line in rows if line.strip()) for rows in lines)

    return count
