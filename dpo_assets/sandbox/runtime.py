"""Code that runs *inside* the sandboxed process: load the candidate, run driver calls.

Every result is encoded by :func:`dpo_assets.sandbox.wire.encode` before it leaves, and
exceptions are reported by class name and MRO, so the trusted side never touches an
object the candidate built.
"""

from __future__ import annotations

import importlib
import sys
import time
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dpo_assets.sandbox.wire import encode

CANDIDATE_MODULE = "solution"

# Captured at import time, before any candidate runs, so a candidate that rebinds
# builtins cannot change how results are measured or reported.
_perf_counter = time.perf_counter
_getattr = getattr
_type = type


# Test machinery the sandbox preloads. A candidate that looks for it ("pytest" in
# sys.modules) to behave well only under test must see a plain interpreter in the
# execution layers; the pytest suite (layer 8) runs with it visible.
TEST_FRAMEWORK_PACKAGES = frozenset(
    {"pytest", "_pytest", "pluggy", "iniconfig", "hypothesis", "coverage", "py", "_hypothesis_globals",
     "_hypothesis_ftz_detector", "_hypothesis_pytestplugin"}
)


def hide_test_frameworks() -> None:
    """Drop test frameworks from ``sys.modules`` (objects already bound stay usable)."""
    for name in list(sys.modules):
        if name.partition(".")[0] in TEST_FRAMEWORK_PACKAGES:
            del sys.modules[name]


def load_candidate(source: str, filename: str, name: str = CANDIDATE_MODULE) -> types.ModuleType:
    """Compile and execute ``source`` as a fresh module registered as ``name``."""
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    code = compile(source, filename, "exec", dont_inherit=True)
    exec(code, module.__dict__)
    return module


def describe_exception(exc: BaseException) -> dict[str, Any]:
    """Plain-data account of an exception: qualified type, MRO names, message."""
    cls = _type(exc)
    mro = [f"{c.__module__}.{c.__qualname__}" for c in cls.__mro__]
    try:
        message = str(exc)
    except BaseException:  # a hostile __str__
        message = "<unprintable exception>"
    return {"error_type": mro[0], "error_mro": mro, "error_message": message[:2000]}


def resolve_harness(harness: str) -> types.ModuleType:
    return importlib.import_module(harness)


def run_calls(
    module: types.ModuleType,
    harness: types.ModuleType,
    calls: Iterable[Mapping[str, Any]],
    emit: Callable[[dict[str, Any]], None],
) -> None:
    """Run each call ``{"driver", "kwargs"}`` and ``emit`` one encoded record per call."""
    for call in calls:
        driver = _getattr(harness, call["driver"])
        started = _perf_counter()
        try:
            value = driver(module, **call.get("kwargs", {}))
        except BaseException as exc:  # SystemExit/KeyboardInterrupt included: a result
            record = describe_exception(exc)
        else:
            try:
                record = {"value": encode(value)}
            except BaseException as exc:  # encoding a hostile value failed
                record = describe_exception(exc)
                record["error_message"] = "result could not be transferred: " + record["error_message"]
        record["seconds"] = _perf_counter() - started
        emit(record)
