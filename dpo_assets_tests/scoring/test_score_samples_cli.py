"""``dpo-assets score-samples``: the files the spec names, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dpo_assets.cli import main
from dpo_assets.evaldata.problems import ENV_VAR, default_offline_dir, load_humaneval_plus
from dpo_assets.scoring.categories import Category

OFFLINE = default_offline_dir()
pytestmark = pytest.mark.skipif(OFFLINE is None, reason="no offline benchmark data beside the checkout")


@pytest.fixture
def eval_data(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(ENV_VAR, str(OFFLINE))
    return data_root


def write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_writes_exactly_the_spec_files(eval_data: Path, tmp_path: Path, capsys) -> None:
    problems = {p.task_id: p for p in load_humaneval_plus(OFFLINE)}
    samples = write(tmp_path / "samples.jsonl", [
        {"task_id": "HumanEval/0", "completion": problems["HumanEval/0"].canonical_solution},
        {"task_id": "HumanEval/1", "solution": "def separate_paren_groups(s):\n    return s[10**9]\n"},
        {"task_id": "HumanEval/2", "completion": "    return 1 / 0\n"},
        {"task_id": "HumanEval/999", "completion": "    return 0\n"},
    ])  # fmt: skip
    out = tmp_path / "out"
    argv = ["score-samples", str(samples), "--benchmark", "humaneval", "--out", str(out), "-j", "2"]
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == ["results.jsonl", "summary.json"]
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["task_id"] for r in rows] == list(problems)
    assert all(set(r) == {"task_id", "passed", "category", "exception_type"} for r in rows)
    by_id = {r["task_id"]: r for r in rows}
    assert by_id["HumanEval/0"] == {"task_id": "HumanEval/0", "passed": True, "category": "PASS",
                                    "exception_type": None}  # fmt: skip
    one = by_id["HumanEval/1"]
    assert (one["category"], one["exception_type"]) == ("LOOKUP_ERROR", "IndexError")
    assert by_id["HumanEval/2"]["exception_type"] == "ZeroDivisionError"
    assert by_id["HumanEval/3"] == {"task_id": "HumanEval/3", "passed": False, "category": "MISSING",
                                    "exception_type": None}  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pass_at_1"] == pytest.approx(1 / len(problems))
    assert set(summary["categories"]) == {c.value for c in Category}
    assert summary["categories"]["MISSING"] == len(problems) - 3
    assert "HumanEval/999" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"completion": "x"}', "'task_id'"),
        ('{"task_id": "HumanEval/0"}', "'completion' or 'solution'"),
    ],
)
def test_a_bad_line_is_named_by_file_and_line(
    eval_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture, line: str, message: str
) -> None:
    first = {"task_id": "HumanEval/0", "completion": "  return 1\n"}
    samples = write(tmp_path / "samples.jsonl", [first, line])
    out = tmp_path / "out"
    assert main(["score-samples", str(samples), "--benchmark", "humaneval", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{samples}:2:" in err and message in err
    assert not (out / "results.jsonl").exists()


def test_unknown_benchmark_and_unreadable_input(eval_data: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["score-samples", "x.jsonl", "--benchmark", "apps", "--out", str(tmp_path)])
    assert stop.value.code == 2 and "invalid choice" in capsys.readouterr().err
    missing = str(tmp_path / "nope.jsonl")
    assert main(["score-samples", missing, "--benchmark", "mbpp", "--out", str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err
