"""Scoring in the sandbox: planted completions land in the right category, hostile ones fail,
and the canonical solutions pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dpo_assets.evaldata.problems import default_offline_dir
from dpo_assets.sandbox.forkserver import SandboxPool
from dpo_assets.scoring import execute, oracle
from dpo_assets.scoring.categories import Category

OFFLINE = default_offline_dir()
pytestmark = pytest.mark.skipif(OFFLINE is None, reason="no offline benchmark data beside the checkout")

TASKS = ("HumanEval/0", "HumanEval/2", "HumanEval/32")


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(size=2) as sandboxes:
        yield sandboxes


@pytest.fixture(scope="module")
def bench(pool: SandboxPool, tmp_path_factory: pytest.TempPathFactory) -> execute.Benchmark:
    """HumanEval/0, /2 and /32 with references for every input (computed in the sandbox)."""
    cache = tmp_path_factory.mktemp("cache")
    return execute.prepare("humaneval", data_dir=OFFLINE, cache_dir=cache, executor=pool, task_ids=TASKS)


def score(bench: execute.Benchmark, pool: SandboxPool, sample: dict[str, str], task: str = "HumanEval/0"):
    problem = bench.problem(task)
    assert problem is not None
    return execute.score_problem(bench, problem, sample, pool, plus=True)


BODY = "    "
PLANTED = [
    ("    return (\n", Category.SYNTAX_ERROR, "SyntaxError"),
    ("  return True\n    x = 1\n", Category.SYNTAX_ERROR, "IndentationError"),
    ("    return undefined_name\n", Category.NAME_ERROR, "NameError"),
    ("    return math.floor(threshold) > 5\n", Category.NAME_ERROR, "NameError"),  # missing import
    ("    import no_such_module_xyz\n    return True\n", Category.NAME_ERROR, "ModuleNotFoundError"),
    ("    return True\n", Category.ASSERTION_FAIL, None),
    ("    assert False, 'nope'\n", Category.ASSERTION_FAIL, "AssertionError"),
    ("    return numbers[len(numbers)] > 0\n", Category.LOOKUP_ERROR, "IndexError"),
    ("    return {}['missing']\n", Category.LOOKUP_ERROR, "KeyError"),
    ("    return len(5) > 0\n", Category.TYPE_ERROR, "TypeError"),
    ("    while True:\n        pass\n", Category.TIMEOUT, None),
    ("    return 1 / 0\n", Category.OTHER_RUNTIME, "ZeroDivisionError"),
    ("    return int('x')\n", Category.OTHER_RUNTIME, "ValueError"),
]


@pytest.mark.parametrize(("completion", "category", "exception"), PLANTED)
def test_planted_completions_land_in_their_category(
    bench: execute.Benchmark, pool: SandboxPool, completion: str, category: Category, exception: str | None
) -> None:
    result = score(bench, pool, {"completion": completion})
    assert (result.passed, result.category, result.exception_type) == (False, category, exception), result


def test_missing_entry_point_is_a_name_error(bench: execute.Benchmark, pool: SandboxPool) -> None:
    result = score(bench, pool, {"solution": "def other(numbers, threshold):\n    return False\n"})
    assert (result.category, result.exception_type) == (Category.NAME_ERROR, "NameError")


def test_the_first_failing_input_decides(bench: execute.Benchmark, pool: SandboxPool) -> None:
    # right on the first inputs, then an IndexError on a later one, then an infinite loop
    completion = (
        "    global calls\n"
        "    calls = globals().get('calls', 0) + 1\n"
        "    if calls == 3:\n"
        "        return [][0]\n"
        "    if calls > 3:\n"
        "        while True:\n"
        "            pass\n"
        "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n"
    )
    result = score(bench, pool, {"completion": completion})
    assert (result.category, result.exception_type) == (Category.LOOKUP_ERROR, "IndexError")
    assert result.detail.startswith("input 3 of")


HOSTILE = {
    "lying __eq__": (
        "    class Yes:\n"
        "        def __eq__(self, other):\n"
        "            return True\n"
        "        def __bool__(self):\n"
        "            return True\n"
        "    return Yes()\n"
    ),
    "lying bool subclass": (
        "    class B(int):\n"
        "        def __eq__(self, other):\n"
        "            return True\n"
        "        __hash__ = int.__hash__\n"
        "    return B(1)\n"
    ),
    "sys.exit(0) in the call": "    import sys\n    sys.exit(0)\n",
    "os._exit(0) in the call": "    import os\n    os._exit(0)\n",
    "prints PASS": "    print('PASS'); print('all tests passed')\n    return None\n",
    "patches builtins and the harness": (
        "    import builtins, sys\n"
        "    builtins.isinstance = lambda *a: True\n"
        "    builtins.type = lambda *a: bool\n"
        "    harness = sys.modules['dpo_assets.scoring.harness']\n"
        "    harness.wrap = lambda value: ('v', True)\n"
        "    runtime = sys.modules['dpo_assets.sandbox.runtime']\n"
        "    runtime.encode = lambda value: True\n"
        "    return object()\n"
    ),
    "disables assert": (
        "    import builtins\n"
        "    builtins.AssertionError = type('AssertionError', (Exception,), {})\n"
        "    return 'PASS'\n"
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_completions_fail(bench: execute.Benchmark, pool: SandboxPool, name: str) -> None:
    result = score(bench, pool, {"completion": HOSTILE[name]})
    assert not result.passed and result.category is not Category.PASS, result


def test_module_level_exit_fails(bench: execute.Benchmark, pool: SandboxPool) -> None:
    for source in ("import sys\nsys.exit(0)\n", "import os\nos._exit(0)\n"):
        result = score(bench, pool, {"solution": source})
        assert (result.passed, result.category) == (False, Category.OTHER_RUNTIME), result


def test_find_zero_accepts_a_root_off_by_rounding(bench: execute.Benchmark, pool: SandboxPool) -> None:
    problem = bench.problem("HumanEval/32")
    assert problem is not None
    # the reference's Newton iteration, then nudged by a few ulps: not its exact float any more
    nudged = problem.canonical_solution.replace("    return x", "    return x * (1 + 4e-16) + 1e-300")
    assert nudged != problem.canonical_solution
    result = score(bench, pool, {"completion": nudged}, "HumanEval/32")
    assert result.passed, result
    wrong = problem.canonical_solution.replace("    return x", "    return x + 1e-3")
    assert not score(bench, pool, {"completion": wrong}, "HumanEval/32").passed


def test_score_completions_orders_results_and_marks_missing(
    bench: execute.Benchmark, pool: SandboxPool
) -> None:
    samples = {
        "HumanEval/2": {"completion": "    return number % 1.0\n"},
        "HumanEval/0": {"completion": "    return True\n"},
        "Not/a-task": {"completion": "    return 1\n"},
    }
    seen: list[tuple[str, int, int]] = []
    results = execute.score_completions(
        "humaneval", samples, plus=True, executor=pool, prepared=bench, progress=lambda *a: seen.append(a)
    )
    assert [r.task_id for r in results] == list(TASKS)
    assert [r.category for r in results] == [Category.ASSERTION_FAIL, Category.PASS, Category.MISSING]
    summary = execute.summarize(results)
    assert summary["pass_at_1"] == pytest.approx(1 / 3)
    assert summary["categories"]["MISSING"] == 1 and sum(summary["categories"].values()) == 3
    assert seen and seen[-1][1] == seen[-1][2]


def _canonical(bench: execute.Benchmark) -> dict[str, dict[str, str]]:
    return {p.task_id: {"solution": p.prompt + p.canonical_solution} for p in bench.problems}


@pytest.mark.slow
def test_humaneval_canonical_solutions_pass_with_plus_inputs(pool: SandboxPool, tmp_path: Path) -> None:
    bench = execute.prepare("humaneval", data_dir=OFFLINE, cache_dir=tmp_path, executor=pool)
    assert len(bench.problems) == 164
    assert not [t for t, r in bench.references.items() if r.error]
    samples = _canonical(bench)
    results = execute.score_completions("humaneval", samples, plus=True, executor=pool, prepared=bench)
    assert [r for r in results if not r.passed] == []


@pytest.mark.slow
def test_mbpp_canonical_solutions_pass_but_known_bad(pool: SandboxPool, tmp_path: Path) -> None:
    # Base inputs here (the plus inputs take minutes on two cores: checked by benchmarks/bench_score.py
    # --benchmark mbpp); the references are computed in the sandbox like any candidate's outputs.
    bench = execute.prepare("mbpp", plus=False, data_dir=OFFLINE, cache_dir=tmp_path, executor=pool)
    assert len(bench.problems) == 378
    results = execute.score_completions("mbpp", _canonical(bench), plus=False, executor=pool, prepared=bench)
    failing = {r.task_id for r in results if not r.passed}
    assert failing <= set(oracle.KNOWN_BAD_REFERENCES), [r for r in results if not r.passed]
