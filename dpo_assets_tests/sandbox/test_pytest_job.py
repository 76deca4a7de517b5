"""pytest jobs in the sandbox: real, deterministic tracebacks and coverage of ``solution.py``."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from dpo_assets.sandbox.executor import Executor
from dpo_assets.sandbox.forkserver import ForkServerSandbox, get_sandbox
from dpo_assets.sandbox.limits import Limits
from dpo_assets.sandbox.pytest_job import normalise_output
from dpo_assets.sandbox.pytest_runner import run_suite

UNIT = Path(__file__).resolve().parents[2] / "dpo_assets/tasks/pytest_traceback_repair/moving_average"
SUITE = (UNIT / "suite.py").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sandbox() -> Executor:
    return get_sandbox()


def test_broken_module_gives_the_real_traceback(sandbox: Executor) -> None:
    report = run_suite(sandbox, (UNIT / "broken.py").read_text(encoding="utf-8"), SUITE)
    assert report["status"] == "ok", report
    assert (report["exit_code"], report["passed"], report["failed"], report["errors"]) == (1, 6, 5, 0)
    output = report["output"]
    assert "test_suite.py:12: in test_simple_windows" in output
    assert "E   assert [1.5, 2.5] == [1.5, 2.5, 3.5]" in output
    assert "FAILED test_suite.py::test_simple_windows" in output
    assert output.rstrip().endswith("5 failed, 6 passed")  # no run time
    assert "/tmp" not in output and "/work" not in output
    again = run_suite(sandbox, (UNIT / "broken.py").read_text(encoding="utf-8"), SUITE)
    assert again["output"] == output  # deterministic


def test_reference_is_fully_covered(sandbox: Executor) -> None:
    report = run_suite(sandbox, (UNIT / "reference.py").read_text(encoding="utf-8"), SUITE, coverage=True)
    assert (report["exit_code"], report["passed"], report["failed"]) == (0, 11, 0), report["output"]
    assert report["coverage"] is not None and report["coverage"] >= 99.0
    assert report["missing_lines"] == []


def test_partial_coverage_reports_missing_lines(sandbox: Executor) -> None:
    source = "def f(x):\n    if x > 0:\n        return 1\n    return 2\n"
    suite = "from solution import f\n\ndef test_positive():\n    assert f(3) == 1\n"
    report = run_suite(sandbox, source, suite, coverage=True)
    assert report["exit_code"] == 0
    assert report["missing_lines"] == [4]
    assert report["coverage"] is not None and 0 < report["coverage"] < 100


def test_collection_error_and_hypothesis_suite(sandbox: Executor) -> None:
    report = run_suite(sandbox, "x = 1\n", "from solution import missing\n\ndef test_x():\n    pass\n")
    assert report["exit_code"] == 2 and report["errors"] == 1
    assert "ImportError" in report["output"]
    suite = textwrap.dedent(
        """
        from hypothesis import given, strategies as st
        from solution import double

        @given(st.integers())
        def test_double(n):
            assert double(n) == n + n
        """
    )
    report = run_suite(sandbox, "def double(n):\n    return n * 2 if n < 1000 else 0\n", suite)
    assert report["exit_code"] == 1 and report["failed"] == 1
    assert "n=1000" in report["output"]  # Hypothesis' (derandomized) failing example


def test_per_test_timeout_and_hostile_solution(sandbox: Executor) -> None:
    suite = "import time\n\ndef test_slow():\n    time.sleep(30)\n\ndef test_fast():\n    pass\n"
    report = run_suite(sandbox, "", suite, timeout_per_test=0.5)
    assert (report["exit_code"], report["passed"], report["failed"]) == (1, 1, 1)
    assert "time limit" in report["output"]
    report = run_suite(sandbox, "import os\nos._exit(0)\n", SUITE, limits=Limits(wall_seconds=10.0))
    assert report["status"] == "exited" and report["exit_code"] is None


def test_output_normalisation() -> None:
    text = "..\n2 passed in 0.12s\n== 1 failed in 61.20s (0:01:01) ==\n/tmp/run-1/test_suite.py:3"
    assert normalise_output(text, "/tmp/run-1") == "..\n2 passed\n== 1 failed ==\ntest_suite.py:3"
    assert normalise_output("a/b 1 passed in 1s", "/") == "a/b 1 passed"
    stdlib = os.path.dirname(json.__file__)
    assert normalise_output(f"{stdlib}/decoder.py:337: in decode", "/") == "json/decoder.py:337: in decode"


def test_library_frames_are_path_free_and_identical_with_or_without_jail(sandbox: Executor) -> None:
    suite = "import json\nfrom solution import f\n\ndef test_json():\n    assert json.loads(f()) == 1\n"
    report = run_suite(sandbox, "def f():\n    return 'x'\n", suite)
    assert "json/decoder.py:" in report["output"] and "    ???" in report["output"]
    assert "/root" not in report["output"] and "site-packages" not in report["output"]
    with ForkServerSandbox(jail=False) as unjailed:
        assert run_suite(unjailed, "def f():\n    return 'x'\n", suite)["output"] == report["output"]
