"""Sandbox-side driver that runs a pytest suite against ``solution.py`` in the working directory.

Use it with ``load=False`` (the candidate is written to ``solution.py`` but not imported by
the sandbox, so the suite's own ``from solution import ...`` is what imports it, under
coverage when asked). The result is plain data; :func:`dpo_assets.sandbox.pytest_runner.run_suite`
is the trusted caller.

Output is made deterministic: fixed width (80 columns), no header, classic progress, short
tracebacks with paths relative to the scratch directory, the run time removed from the
summary line, Hypothesis derandomized without an example database.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import linecache
import os
import re
import signal
import sys
import warnings
from collections.abc import Generator, Iterator
from typing import Any

import coverage as coverage_lib
import pytest
from hypothesis import HealthCheck, settings

SUITE_FILE = "test_suite.py"
SOLUTION_FILE = "solution.py"
MAX_OUTPUT_CHARS = 200_000
# Built-in plugins a sandboxed suite run does not need. Besides the cache (no writable
# state), ``unraisableexception``/``threadexception`` force five full garbage collections
# per session (half the run time of a small suite) and ``logging``/``faulthandler`` add
# per-test work; none of them changes the report of a suite that does not log.
DISABLED_PLUGINS = (
    "cacheprovider", "unraisableexception", "threadexception", "logging", "faulthandler",
    "legacypath", "junitxml", "pastebin", "doctest", "stepwise", "setuponly", "setupplan",
)  # fmt: skip
PYTEST_ARGS = (
    "-q",
    *(arg for name in DISABLED_PLUGINS for arg in ("-p", f"no:{name}")),
    "-p",
    "_hypothesis_pytestplugin",
    "--tb=short",
    "--no-header",
    "-o",
    "console_output_style=classic",
    SUITE_FILE,
)
_ADDRESS = re.compile(r"\bat 0x[0-9a-f]+\b")  # "<generator object ... at 0x7f...>"
_TIMING = re.compile(r" in \d+(?:\.\d+)?s(?: \(\d+:\d{2}:\d{2}\))?(?=(?: =+)?$)", re.MULTILINE)

settings.register_profile(
    "dpo-sandbox",
    database=None,
    derandomize=True,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow],
)


class _Counter:
    """Counts test outcomes the way pytest's summary does."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.errors = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            if report.passed:
                self.passed += 1
            elif report.failed:
                self.failed += 1
        elif report.failed:  # setup/teardown
            self.errors += 1

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors += 1


class _PerTestTimeout:
    """Fails a test whose call phase runs longer than ``seconds`` (wall clock, SIGALRM)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        def expire(signum: int, frame: Any) -> None:
            pytest.fail(f"test exceeded its {self.seconds:g}s time limit", pytrace=False)

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            return (yield)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


class _TraceTests:
    """Measures coverage only while candidate code can run: each test's setup, call and
    teardown. pytest's own machinery (collection, hooks, reporting) runs untraced: under a
    tracer its many small calls cost more than the tests themselves."""

    def __init__(self, cov: coverage_lib.Coverage) -> None:
        self.cov = cov

    @contextlib.contextmanager
    def _traced(self) -> Iterator[None]:
        self.cov.start()
        try:
            yield
        finally:
            self.cov.stop()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, Any, Any]:
        with self._traced():
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        with self._traced():
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, Any, Any]:
        with self._traced():
            return (yield)


def _import_traced(cov: coverage_lib.Coverage) -> None:
    """Import the candidate under coverage, so its module-level lines count. A failing import
    is left for the suite's own import to report (the module is then not in ``sys.modules``)."""
    cov.start()
    try:
        importlib.import_module(SOLUTION_FILE.removesuffix(".py"))
    except BaseException:  # the suite's collection reports it, with pytest's usual output
        pass
    finally:
        cov.stop()


def _path_prefixes(directory: str) -> list[str]:
    """Directories stripped from paths in the report, longest first: the scratch directory
    and every import root (stdlib, site-packages), so frames read ``json/decoder.py:337``."""
    roots = {directory, *(p for p in sys.path if isinstance(p, str))}
    roots = {os.path.normpath(r).rstrip("/") for r in roots if os.path.isabs(r)}
    return sorted((r + "/" for r in roots if r), key=len, reverse=True)


def normalise_output(text: str, directory: str) -> str:
    """Drop run times, memory addresses and machine-specific directories from pytest's report."""
    text = _TIMING.sub("", text)
    text = _ADDRESS.sub("at 0x…", text)
    for prefix in _path_prefixes(directory):
        text = text.replace(prefix, "")
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS] + "\n[output truncated]\n"
    return text


@contextlib.contextmanager
def _only_local_sources(directory: str) -> Iterator[None]:
    """Tracebacks show source lines of files in ``directory`` only (library frames show
    ``???``), as they must inside the jail where library files are unreadable: the report is
    then the same with or without the jail."""
    original = linecache.getlines
    prefix = directory.rstrip("/") + "/"

    def getlines(filename: str, module_globals: Any = None) -> list[str]:
        if not os.path.abspath(filename).startswith(prefix):
            return []
        return original(filename, module_globals)

    linecache.getlines = getlines
    try:
        yield
    finally:
        linecache.getlines = original


def _coverage_numbers(cov: coverage_lib.Coverage, target: str) -> tuple[float | None, list[int]]:
    missing: list[int] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            missing = sorted(int(n) for n in cov.analysis2(target)[3])
        except coverage_lib.CoverageException:
            return None, []
        try:
            percent = float(cov.report(file=io.StringIO(), include=[target]))
        except coverage_lib.exceptions.NoDataError:
            percent = 0.0
        except coverage_lib.CoverageException:
            percent = None
    return percent, missing


def run_suite(
    solution: Any,
    suite_source: str,
    coverage: bool = False,
    timeout_per_test: float | None = None,
) -> dict[str, Any]:
    """Run ``suite_source`` as ``test_suite.py`` against ``./solution.py``; plain-data report.

    Returns ``exit_code``, ``passed``, ``failed``, ``errors``, ``output`` (normalised),
    ``coverage`` (percent of lines and branches of ``solution.py``, or None) and
    ``missing_lines``. ``solution`` is unused: the suite imports the module itself.
    """
    directory = os.getcwd()
    target = os.path.join(directory, SOLUTION_FILE)
    with open(SUITE_FILE, "w", encoding="utf-8") as fh:
        fh.write(suite_source)
    if not os.path.exists("pytest.ini"):  # pins rootdir here; no config is read from above
        with open("pytest.ini", "w", encoding="utf-8") as fh:
            fh.write("[pytest]\n")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    os.environ["COLUMNS"] = "80"
    settings.load_profile("dpo-sandbox")

    counter = _Counter()
    plugins: list[object] = [counter]
    if timeout_per_test:
        plugins.append(_PerTestTimeout(float(timeout_per_test)))
    cov = (
        coverage_lib.Coverage(branch=True, data_file=None, include=[target], config_file=False)
        if coverage
        else None
    )
    if cov is not None:
        plugins.append(_TraceTests(cov))
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), warnings.catch_warnings(), _only_local_sources(directory):
        if cov is not None:
            if directory not in sys.path:
                sys.path.insert(0, directory)
            _import_traced(cov)
        exit_code = int(pytest.main(list(PYTEST_ARGS), plugins=plugins))
    percent, missing = _coverage_numbers(cov, target) if cov is not None else (None, [])
    return {
        "exit_code": exit_code,
        "passed": counter.passed,
        "failed": counter.failed,
        "errors": counter.errors,
        "output": normalise_output(buffer.getvalue(), directory),
        "coverage": percent,
        "missing_lines": missing,
    }


WARMUP_SOLUTION = '''\
def clamp(x, lo, hi):
    if x < lo:
        return lo
    return min(x, hi)
'''

WARMUP_SUITE = '''\
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from solution import clamp


@given(st.integers(), st.floats(allow_nan=False))
def test_property(a, b):
    assert clamp(a, 0, 1) in (0, 1) or 0 <= a <= 1


@pytest.mark.parametrize("x", [-1, 0.5, 2])
def test_param(x, capsys, monkeypatch, tmp_path):
    print("out")
    monkeypatch.setattr(math, "pi", 3)
    (tmp_path / "f").write_text("x")
    assert clamp(x, 0, 1) == pytest.approx(min(max(x, 0), 1))
    np.testing.assert_allclose(np.array([clamp(x, 0, 1)]), [min(max(x, 0), 1)])


def test_failure_report():
    assert [clamp(5, 0, 1), {"a": (1, 2)}] == [2, {"a": (1, 3)}], "diff"


def test_raises():
    with pytest.raises(ZeroDivisionError, match="division"):
        1 / 0
    with pytest.warns(UserWarning):
        import warnings
        warnings.warn("w", UserWarning)


@pytest.fixture
def broken():
    raise RuntimeError("fixture")


def test_error(broken):
    pass


@pytest.mark.skip(reason="skip")
def test_skipped():
    pass


@pytest.mark.xfail(reason="xfail")
def test_xfail():
    assert False
'''


def warm_up(directory: str) -> dict[str, Any]:
    """Run a representative suite once in ``directory`` so that everything pytest, coverage
    and Hypothesis import lazily is already loaded (the fork server calls this at start-up,
    before any sandbox drops privileges and loses access to the interpreter's files)."""
    previous = os.getcwd()
    os.chdir(directory)
    try:
        with open(SOLUTION_FILE, "w", encoding="utf-8") as fh:
            fh.write(WARMUP_SOLUTION)
        return run_suite(None, WARMUP_SUITE, coverage=True, timeout_per_test=30.0)
    finally:
        os.chdir(previous)
