"""Reusable, exact-type checks over decoded observations (trusted side).

Each returns ``None`` when the value honours the contract, else a one-line reason.
Nothing here ever calls ``==`` on a candidate-built object: the wire has already turned
anything that is not a plain builtin (or a plain ``numpy.ndarray``) into
:class:`~dpo_assets.sandbox.wire.Foreign`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from dpo_assets.sandbox.outcome import Observation
from dpo_assets.tasks.base import Check


def type_name(value: Any) -> str:
    from dpo_assets.sandbox.wire import Foreign

    if isinstance(value, Foreign):
        return value.type_name
    return type(value).__name__


def returned(obs: Observation) -> str | None:
    """The call must return (not raise)."""
    return obs.describe() if obs.raised else None


def is_exact_float(value: Any) -> bool:
    return type(value) is float


def is_finite_float(value: Any) -> bool:
    return type(value) is float and math.isfinite(value)


def is_exact_bool(value: Any) -> bool:
    return type(value) is bool


def raises(exc: str = "builtins.ValueError") -> Check:
    """The call must raise ``exc`` (a subclass is accepted)."""
    short = exc.removeprefix("builtins.")

    def check(obs: Observation) -> str | None:
        if not obs.raised:
            return f"expected {short}, {obs.describe()}"
        if not obs.raised_subclass_of(exc):
            return f"expected {short}, {obs.describe()}"
        return None

    check.__name__ = f"raises_{short}"
    return check


def raises_any_of(*excs: str) -> Check:
    """The call must raise one of ``excs`` (subclasses accepted)."""
    names = " or ".join(e.removeprefix("builtins.") for e in excs)

    def check(obs: Observation) -> str | None:
        if obs.raised and any(obs.raised_subclass_of(e) for e in excs):
            return None
        return f"expected {names}, {obs.describe()}"

    return check


def returns(predicate: Callable[[Any], str | None]) -> Check:
    """The call must return a value accepted by ``predicate`` (None = accepted)."""

    def check(obs: Observation) -> str | None:
        if obs.raised:
            return f"expected a result, {obs.describe()}"
        return predicate(obs.value)

    return check


def within_seconds(check: Check, seconds: float) -> Check:
    """``check``, and the call took at most ``seconds`` (as measured around the call)."""

    def timed_check(obs: Observation) -> str | None:
        reason = check(obs)
        if reason:
            return reason
        if obs.seconds > seconds:  # the bound, not the measured time: reproducible reasons
            return f"took more than its {seconds} s limit"
        return None

    return timed_check


def float_list(value: Any, length: int | None = None, finite: bool = True) -> str | None:
    """A plain ``list`` of plain ``float`` (optionally of ``length``, finite)."""
    if type(value) is not list:
        return f"expected a list, got {type_name(value)}"
    if length is not None and len(value) != length:
        return f"expected {length} items, got {len(value)}"
    for i, item in enumerate(value):
        if type(item) is not float:
            return f"item {i} is {type_name(item)}, not float"
        if finite and not math.isfinite(item):
            return f"item {i} is not finite ({item!r})"
    return None


def complex_list(value: Any, length: int | None = None, finite: bool = True) -> str | None:
    """A plain ``list`` of plain ``complex`` (optionally of ``length``, finite)."""
    if type(value) is not list:
        return f"expected a list, got {type_name(value)}"
    if length is not None and len(value) != length:
        return f"expected {length} items, got {len(value)}"
    for i, item in enumerate(value):
        if type(item) is not complex:
            return f"item {i} is {type_name(item)}, not complex"
        if finite and not (math.isfinite(item.real) and math.isfinite(item.imag)):
            return f"item {i} is not finite ({item!r})"
    return None


def float_array(value: Any, shape: tuple[int, ...] | None = None, finite: bool = True) -> str | None:
    """A plain ``numpy.ndarray`` of a float dtype (optionally of ``shape``, finite)."""
    if type(value) is not np.ndarray:
        return f"expected a numpy array, got {type_name(value)}"
    if value.dtype.kind != "f":
        return f"expected a float array, got dtype {value.dtype}"
    if shape is not None and value.shape != shape:
        return f"expected shape {shape}, got {value.shape}"
    if finite and not np.all(np.isfinite(value)):
        return "array has NaN or Inf entries"
    return None


def close(actual: float, expected: float, tol: float) -> bool:
    """``|actual - expected| <= tol`` with NaN never close and equal infinities close."""
    if math.isnan(actual) or math.isnan(expected):
        return False
    if math.isinf(actual) or math.isinf(expected):
        return actual == expected
    return abs(actual - expected) <= tol


def same_plain(actual: Any, expected: Any) -> str | None:
    """Exact structural equality of plain decoded data (types included)."""
    if type(actual) is not type(expected):
        return f"expected {type_name(expected)} {expected!r}, got {type_name(actual)} {actual!r}"
    if isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            return f"expected {len(expected)} items, got {len(actual)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            reason = same_plain(a, e)
            if reason:
                return f"item {i}: {reason}"
        return None
    if isinstance(expected, dict):
        if list(actual) != list(expected):
            return f"expected keys {list(expected)}, got {list(actual)}"
        for key in expected:
            reason = same_plain(actual[key], expected[key])
            if reason:
                return f"key {key!r}: {reason}"
        return None
    if isinstance(expected, np.ndarray):
        if actual.shape != expected.shape or not np.array_equal(actual, expected):
            return "arrays differ"
        return None
    if isinstance(expected, float) and math.isnan(expected) and math.isnan(actual):
        return None
    if actual != expected:
        return f"expected {expected!r}, got {actual!r}"
    return None


def same_as_reference(cand: Observation, ref: Observation) -> str | None:
    """Differential compare: identical plain result, or the same exception family."""
    if ref.raised:
        if not cand.raised:
            return f"reference raised {ref.error_type}, candidate {cand.describe()}"
        if not cand.raised_subclass_of(ref.error_type or ""):
            return f"reference raised {ref.error_type}, candidate {cand.describe()}"
        return None
    if cand.raised:
        return f"reference returned {ref.value!r}, candidate {cand.describe()}"
    return same_plain(cand.value, ref.value)
