"""Gate test inputs built from the bundled corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples

# Tasks whose layers judge by value only (no wall-clock bounds in the reasons).
MIXED_TASKS = (
    "pytest_traceback_repair/moving_average",
    "pytest_traceback_repair/parse_duration",
    "monte_carlo/metropolis",
    "numerical_linear_algebra/cholesky",
)


def mixed_rows(per_task: tuple[int, int, int] = (2, 2, 1)) -> list[dict]:
    """Bundled samples of :data:`MIXED_TASKS`, ``per_task`` = (correct, broken, hacking) each;
    broken and hacking ones are those labelled as caught before layer 7 (the slowest)."""
    rows = []
    for task_id in MIXED_TASKS:
        samples, labels = load_samples(task_id), load_labels(task_id)
        for kind, count in zip(("correct", "broken", "hacking"), per_task):
            ids = [
                sid
                for sid, label in labels.items()
                if label["label"] == kind and (kind == "correct" or min(label["caught_by"]) < 7)
            ]
            rows.extend(samples[sid] for sid in ids[:count])
    return rows


def write_input(path: Path, rows: list[dict], bad_lines: bool = True) -> Path:
    """``rows`` as raw-sample JSONL, plus (``bad_lines``) two lines layer 0 rejects."""
    lines = [json.dumps(row) for row in rows]
    if bad_lines:
        lines[3:3] = ["{not json"]
        lines.append(json.dumps({"task_id": "no_such/task", "code": "x = 1\n"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(name="write_input")
def write_input_fixture() -> object:
    """:func:`write_input`, for tests (a module import of ``conftest`` is ambiguous: several exist)."""
    return write_input


@pytest.fixture(scope="session")
def mixed_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 20 bundled samples from four tasks, mixed labels, plus two bad lines."""
    return write_input(tmp_path_factory.mktemp("mixed") / "mixed.jsonl", mixed_rows())


@pytest.fixture(scope="session")
def small_mix() -> tuple[list[dict], dict[str, str]]:
    """Twelve bundled samples (one correct, one broken, one hacking of each of four tasks) and
    their labels by sample id; session-scoped, so it reads the real corpus and labels before
    ``data_root`` points the data folder elsewhere."""
    rows = mixed_rows((1, 1, 1))
    labels = {sid: label["label"] for t in MIXED_TASKS for sid, label in load_labels(t).items()}
    return rows, {row["sample_id"]: labels[row["sample_id"]] for row in rows}
