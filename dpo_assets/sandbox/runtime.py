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
_str = str
_id = id
_issubclass = issubclass
_isinstance = isinstance
_MRO = type.__dict__["__mro__"]  # slot descriptors: a metaclass cannot override these
_QUALNAME = type.__dict__["__qualname__"]

# Exception classes of trusted modules, by identity -> "module.QualName". A class the
# candidate defines (even one that sets __module__ = "builtins" and __qualname__ =
# "ValueError") is not in here and is reported as "candidate:<name>".
_TRUSTED_EXCEPTIONS: dict[int, tuple[type, str]] = {}


def snapshot_exception_classes() -> int:
    """Register every exception class of the modules loaded now as trusted; returns the count."""
    for module in list(sys.modules.values()):
        namespace = _getattr(module, "__dict__", None)
        if not _isinstance(namespace, dict):
            continue
        for obj in list(namespace.values()):
            if _isinstance(obj, type) and _issubclass(obj, BaseException):
                _TRUSTED_EXCEPTIONS[_id(obj)] = (obj, f"{obj.__module__}.{obj.__qualname__}")
    return len(_TRUSTED_EXCEPTIONS)


def exception_class_name(cls: type) -> str:
    """The trusted qualified name of ``cls``, or ``candidate:<name>`` for unknown classes."""
    entry = _TRUSTED_EXCEPTIONS.get(_id(cls))
    if entry is not None and entry[0] is cls:
        return entry[1]
    return "candidate:" + _QUALNAME.__get__(cls)


# Test machinery the sandbox preloads. A candidate that looks for it ("pytest" in
# sys.modules) to behave well only under test must see a plain interpreter in the
# execution layers; the pytest suite (layer 8) runs with it visible.
TEST_FRAMEWORK_PACKAGES = frozenset(
    {"pytest", "_pytest", "pluggy", "iniconfig", "hypothesis", "coverage", "py", "_hypothesis_globals",
     "_hypothesis_ftz_detector", "_hypothesis_pytestplugin"}
)


_framework_modules: tuple[tuple[int, str | None], list[str]] = ((-1, None), [])


def test_framework_modules() -> list[str]:
    """Names in ``sys.modules`` that belong to test frameworks. Cached while the module table
    is unchanged (same size, same newest entry: modules are only ever appended), so a fork
    server computes it once and its children just delete the names."""
    global _framework_modules
    key = (len(sys.modules), next(reversed(sys.modules), None))
    cached_key, names = _framework_modules
    if cached_key != key:
        names = [n for n in list(sys.modules) if n.partition(".")[0] in TEST_FRAMEWORK_PACKAGES]
        _framework_modules = (key, names)
    return names


def hide_test_frameworks(names: Iterable[str] | None = None) -> None:
    """Drop test frameworks from ``sys.modules`` (objects already bound stay usable)."""
    for name in test_framework_modules() if names is None else names:
        sys.modules.pop(name, None)


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
    mro = [exception_class_name(c) for c in _MRO.__get__(cls)]
    try:
        message = _str(exc)
        if _type(message) is not _str:
            message = "<unprintable exception>"
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


snapshot_exception_classes()
