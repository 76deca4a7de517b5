"""Decontamination against HumanEval, HumanEval+, MBPP+ and sanitized MBPP."""

from __future__ import annotations

import re
import time

import pandas as pd
import pytest

from dpo_assets.corpus.bundled import load_samples
from dpo_assets.evaldata import problems as ev
from dpo_assets.paths import REPO_ROOT
from dpo_assets.pool.decontaminate import (
    AUDIT_COLUMNS,
    BenchmarkIndex,
    Sample,
    decontaminate,
    find_overlaps,
    is_trivial_line,
    normalize_code,
)
from dpo_assets.tasks.catalog import get_task, task_ids

OFFLINE = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="module")
def problems() -> list[ev.Problem]:
    """All four benchmarks (1,133 problems) from the offline copies."""
    if not all((OFFLINE / name).is_file() for name in ev.BENCHMARK_FILES.values()):
        pytest.skip(f"offline benchmark copies not found in {OFFLINE} (expected beside the checkout)")
    return [
        *ev.load_humaneval(OFFLINE),
        *ev.load_humaneval_plus(OFFLINE),
        *ev.load_mbpp_plus(OFFLINE),
        *ev.load_mbpp_sanitized(OFFLINE),
    ]


@pytest.fixture(scope="module")
def index(problems: list[ev.Problem]) -> BenchmarkIndex:
    return BenchmarkIndex.build(problems)


@pytest.fixture(scope="module")
def by_id(problems: list[ev.Problem]) -> dict[tuple[str, str], ev.Problem]:
    return {(p.benchmark, p.task_id): p for p in problems}


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    """The 468 bundled samples, each with the prompt it answers."""
    rows = []
    for task_id in task_ids():
        task = get_task(task_id)
        for sample in load_samples(task_id).values():
            prompt = task.prompt(sample.get("broken_code"), sample.get("traceback"))
            rows.append({**sample, "prompt": prompt})
    return rows


def _disguise(code: str) -> str:
    """``code`` wrapped in another function: indented one level deeper with 3-space steps instead
    per level, a comment before every line, trailing spaces, and the wrapper's own lines around it."""
    lines = ["import os", "", "def outer_wrapper(payload):", "    # the planted code", "    prefix = payload"]
    source = code.expandtabs(8).splitlines()
    widths = sorted({len(line) - len(line.lstrip(" ")) for line in source if line.strip()})
    for line in source:
        stripped = line.lstrip(" ")
        depth = widths.index(len(line) - len(stripped)) if stripped else 0
        lines.append("    " + "   " * depth + "# copied")
        lines.append("    " + "   " * depth + stripped + "   ")
    lines.append("    return prefix")
    return "\n".join(lines) + "\n"


HUMANEVAL_0_DISGUISED = '''
import numpy as np


def pipeline(data):
    """Unrelated wrapper."""

    def close_pairs(numbers,threshold):   # renamed function
      # scan all pairs
      for idx,elem in enumerate( numbers ):
          for idx2,elem2 in enumerate(numbers):
              if idx!=idx2:
                  distance=abs(elem-elem2)   # absolute gap

                  if distance<threshold:
                      return True
      return False

    return close_pairs(np.asarray(data), 0.5)
'''


# --------------------------------------------------------------------------- normalisation


def test_normalize_code_ignores_comments_docstrings_and_formatting() -> None:
    plain = "def f(a, b):\n    return a + b * 'x'\n"
    noisy = 'def f( a,b ) :   # add\n    """Doc."""\n\n\n    return (a\n       + b*"x")  # done\n'
    assert normalize_code(plain) == normalize_code(noisy)
    assert normalize_code(plain) == [
        "def",
        "f",
        "(",
        "a",
        ",",
        "b",
        ")",
        ":",
        "return",
        "a",
        "+",
        "b",
        "*",
        "'x'",
    ]


def test_normalize_code_falls_back_line_by_line_on_broken_code() -> None:
    broken = 'def f(a:\n    """Doc."""\n    # note\n    return a +  1\n'
    assert normalize_code(broken) == ["def", "f", "(", "a", ":", "return", "a", "+", "1"]


def test_trivial_lines() -> None:
    assert is_trivial_line("import numpy as np")
    assert is_trivial_line("from typing import List")
    assert is_trivial_line(["if", "__name__", "==", "'__main__'", ":"])
    assert is_trivial_line("return result")
    assert not is_trivial_line("return sorted ( set ( l ) )")


# --------------------------------------------------------------------------- planted overlaps


def test_planted_humaneval_solution_is_caught_and_attributed(index: BenchmarkIndex) -> None:
    sample = Sample("s-1", "fft/transform", HUMANEVAL_0_DISGUISED)
    matches = find_overlaps([sample], index)
    exact = {(m.benchmark, m.problem_id) for m in matches if m.kind == "exact"}
    # HumanEval+ rewrote HumanEval/0's canonical solution, so only HumanEval's is an exact match.
    assert exact == {("humaneval", "HumanEval/0")}
    match = next(m for m in matches if m.benchmark == "humaneval" and m.problem_id == "HumanEval/0")
    assert match.sample_id == "s-1" and match.task_id == "fft/transform" and match.field == "code"
    assert match.shared_ngrams > 0
    assert "distance = abs ( elem - elem2 )" in match.snippet


def test_every_humaneval_solution_is_caught_when_disguised(
    problems: list[ev.Problem], index: BenchmarkIndex
) -> None:
    humaneval = [p for p in problems if p.benchmark == "humaneval"]
    samples = [Sample(p.task_id, "t", _disguise(p.prompt + p.canonical_solution)) for p in humaneval]
    matches = find_overlaps(samples, index)
    exact = {m.sample_id for m in matches if m.kind == "exact" and m.problem_id == m.sample_id}
    assert exact == {p.task_id for p in humaneval}


def test_partial_copy_is_an_ngram_match(by_id: dict, index: BenchmarkIndex) -> None:
    problem = by_id[("humaneval", "HumanEval/10")]  # make_palindrome: copy its last three lines
    body = [line for line in problem.canonical_solution.splitlines() if line.strip()]
    code = "def mine(string):\n    beginning_of_suffix = 1\n" + "\n".join(body[-3:]) + "\n"
    matches = [m for m in find_overlaps([Sample("s", "t", code)], index) if m.problem_id == "HumanEval/10"]
    assert matches and {m.kind for m in matches} == {"ngram"}
    snippet = matches[0].snippet
    assert len(snippet.split(" ")) == 13 and snippet in " ".join(normalize_code(code))


def test_mbpp_solution_is_caught(by_id: dict, index: BenchmarkIndex) -> None:
    problem = by_id[("mbpp_sanitized", "Mbpp/2")]  # similar_elements
    code = (
        "# utilities\n"
        + problem.canonical_solution.replace("  ", "    ")
        + "\n\nprint(similar_elements(a, b))\n"
    )
    found = {(m.benchmark, m.problem_id, m.kind) for m in find_overlaps([Sample("m", "t", code)], index)}
    assert ("mbpp_sanitized", "Mbpp/2", "exact") in found


def test_every_mbpp_solution_is_caught_when_disguised(
    problems: list[ev.Problem], index: BenchmarkIndex
) -> None:
    for benchmark in ("mbpp_sanitized", "mbpp_plus"):
        mbpp = [p for p in problems if p.benchmark == benchmark]
        samples = [Sample(p.task_id, "t", _disguise(p.canonical_solution)) for p in mbpp]
        matches = find_overlaps(samples, index)
        caught = {m.sample_id for m in matches if m.benchmark == benchmark and m.problem_id == m.sample_id}
        assert caught == {p.task_id for p in mbpp}


def test_copied_task_texts_are_caught_in_the_prompt(by_id: dict, index: BenchmarkIndex) -> None:
    humaneval = by_id[("humaneval", "HumanEval/0")]
    mbpp = by_id[("mbpp_sanitized", "Mbpp/2")]
    samples = [
        Sample("p-he", "t", "x = 1\n", prompt="Solve this:\n" + humaneval.prompt),
        Sample("p-mbpp", "t", "x = 1\n", prompt=f"Task. {mbpp.prompt.upper()} Use Python."),
    ]
    found = {(m.sample_id, m.benchmark, m.problem_id, m.field) for m in find_overlaps(samples, index)}
    assert ("p-he", "humaneval", "HumanEval/0", "prompt") in found
    assert ("p-mbpp", "mbpp_sanitized", "Mbpp/2", "prompt") in found


def test_boilerplate_and_generic_loops_do_not_count(index: BenchmarkIndex) -> None:
    code = (
        "import numpy as np\nimport math\n\n\ndef f(a):\n    n = len(a)\n    result = []\n"
        "    for i in range(n):\n        for j in range(n):\n            for k in range(n - 1, -1, -1):\n"
        "                result.append(a[i][j] * a[j][k])\n    return result\n\n\n"
        "if __name__ == '__main__':\n    import doctest\n    doctest.testmod()\n"
    )
    assert find_overlaps([Sample("g", "t", code)], index) == []


def test_bundled_corpus_has_no_overlap(corpus: list[dict], index: BenchmarkIndex) -> None:
    assert len(corpus) == 468
    matches = find_overlaps(corpus, index)
    assert matches == [], [(m.sample_id, m.benchmark, m.problem_id, m.snippet) for m in matches[:10]]


# --------------------------------------------------------------------------- the DataFrame step


def test_decontaminate_partitions_the_input(corpus: list[dict], index: BenchmarkIndex) -> None:
    planted = [
        {"sample_id": "planted-he", "task_id": "fft/transform", "code": HUMANEVAL_0_DISGUISED, "prompt": ""},
        {"sample_id": "planted-prompt", "task_id": "fft/transform", "code": "x = 1\n", "prompt": None},
    ]
    rows = [{k: r[k] for k in ("sample_id", "task_id", "code", "prompt")} for r in corpus[:40]]
    frame = pd.DataFrame([*rows[:20], planted[0], *rows[20:], planted[1]])
    frame.index = frame.index * 10  # a non-default index survives
    kept, dropped, audit = decontaminate(frame, index)
    assert len(kept) + len(dropped) == len(frame)
    assert sorted([*kept.index, *dropped.index]) == list(frame.index)
    pd.testing.assert_frame_equal(pd.concat([kept, dropped]).sort_index(), frame)
    assert list(dropped["sample_id"]) == ["planted-he"]
    assert tuple(audit.columns) == AUDIT_COLUMNS
    assert set(audit["sample_id"]) == {"planted-he"}
    assert set(audit.loc[audit["kind"] == "exact", "problem_id"]) == {"HumanEval/0"}
    assert (audit["task_id"] == "fft/transform").all() and audit["shared_ngrams"].dtype == "int64"


def test_decontaminate_empty_and_missing_columns(index: BenchmarkIndex) -> None:
    empty = pd.DataFrame(columns=["sample_id", "task_id", "code"])
    kept, dropped, audit = decontaminate(empty, index)
    assert kept.empty and dropped.empty and audit.empty and tuple(audit.columns) == AUDIT_COLUMNS
    with pytest.raises(ValueError, match="code"):
        decontaminate(pd.DataFrame({"sample_id": ["a"]}), index)


def test_index_and_scan_time_sanity(problems: list[ev.Problem], corpus: list[dict], record_property) -> None:
    """Builds a fresh index and scans 1,000 distinct samples; times are recorded, not asserted."""
    start = time.perf_counter()
    fresh = BenchmarkIndex.build(problems)
    built = time.perf_counter() - start
    samples = [
        Sample(f"{row['sample_id']}-{i}", row["task_id"], f"# copy {i}\n{row['code']}")
        for i, row in enumerate((corpus * 3)[:1000])
    ]
    start = time.perf_counter()
    matches = find_overlaps(samples, fresh)
    scanned = time.perf_counter() - start
    record_property("index_seconds", round(built, 3))
    record_property("scan_1000_seconds", round(scanned, 3))
    assert matches == []
    assert re.fullmatch(r"[0-9.]+", f"{built:.3f}")  # the numbers exist; speed is a benchmark matter
