"""Trusted-side checks for numerical_linear_algebra/lu (judged in the parent, by exact type).

Every function here receives decoded observations; nothing candidate-built is compared
with ``==`` (the wire has turned any non-plain object into ``Foreign``).  Arrays that
arrive are plain ``numpy.ndarray`` instances the wire rebuilt, so numpy arithmetic on
them is safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from dpo_assets.sandbox.outcome import Observation
from dpo_assets.tasks import checks
from dpo_assets.tasks.numerical_linear_algebra.matrices import as_matrix, factor_tolerance, scale_of

SINGULAR_RTOL = 1e-12
# |L| may exceed 1 only by rounding: with partial pivoting every multiplier is
# (entry) / (largest entry of its column), so |multiplier| <= 1.
MULTIPLIER_SLACK = 1e-12








def _float64_array(value: Any, shape: tuple[int, ...]) -> str | None:
    reason = checks.float_array(value, shape)
    if reason:
        return reason
    if value.dtype != np.float64:
        return f"expected dtype float64, got {value.dtype}"
    return None


def input_problem(original: Any, kind: str, after: Any, what: str = "A") -> str | None:
    """``None`` when the input object handed to the candidate is unchanged."""
    if kind in ("list", "vector"):
        expected = [list(row) for row in original] if kind == "list" else list(original)
        reason = checks.same_plain(after, expected)
    elif kind == "tuple":
        reason = checks.same_plain(after, tuple(tuple(row) for row in original))
    elif kind in ("ndarray", "int_ndarray"):
        dtype = np.float64 if kind == "ndarray" else np.int64
        expected = np.array(original, dtype=dtype)
        if type(after) is not np.ndarray or after.dtype != dtype or after.shape != expected.shape:
            reason = f"expected the {dtype.__name__} array back, got {checks.type_name(after)}"
        elif not np.array_equal(after, expected):
            reason = "values changed"
        else:
            reason = None
    else:
        reason = None
    return f"the input {what} was mutated ({reason})" if reason else None


def _driver_dict(obs: Observation, keys: tuple[str, ...]) -> str | None:
    if obs.raised:
        return f"expected a result, {obs.describe()}"
    if type(obs.value) is not dict or any(k not in obs.value for k in keys):
        return f"malformed driver result {obs.describe()}"
    return None


def factors_problem(A: Any, result: Any) -> str | None:
    """``None`` when ``result`` is a valid pivoted LU factorisation ``(P, L, U)`` of ``A``."""
    M = as_matrix(A)
    n = M.shape[0]
    if type(result) is not tuple:
        return f"expected a tuple (P, L, U), got {checks.type_name(result)}"
    if len(result) != 3:
        return f"expected 3 factors, got {len(result)}"
    for name, X in zip("PLU", result):
        reason = _float64_array(X, (n, n))
        if reason:
            return f"{name}: {reason}"
    P, L, U = result
    if not (
        np.all((P == 0.0) | (P == 1.0)) and np.all(P.sum(axis=0) == 1.0) and np.all(P.sum(axis=1) == 1.0)
    ):
        return "P is not a permutation matrix"
    if np.any(np.triu(L, 1) != 0.0) or np.any(np.diag(L) != 1.0):
        return "L is not unit lower triangular"
    if np.any(np.tril(U, -1) != 0.0):
        return "U is not upper triangular"
    biggest = float(np.max(np.abs(L)))
    if biggest > 1.0 + MULTIPLIER_SLACK:
        return f"a multiplier |L[i, k]| = {biggest!r} > 1: the pivot was not the largest entry"
    err = float(np.max(np.abs(P @ M - L @ U)))
    tol = factor_tolerance(M)
    if not err <= tol:
        return f"max |P @ A - L @ U| = {err!r} exceeds {tol!r}"
    return None


def decompose_check(A: Any, kind: str = "list"):
    """The call returned a valid factorisation of ``A`` and left the input unchanged."""

    def check(obs: Observation) -> str | None:
        reason = _driver_dict(obs, ("result", "input_after"))
        if reason:
            return reason
        return factors_problem(A, obs.value["result"]) or input_problem(A, kind, obs.value["input_after"])

    return check


def decompose_expect(A: Any, P: Any, L: Any, U: Any, kind: str = "list"):
    """Valid, and equal (P exactly; L, U within 1e-12 relative) to hand-computed factors."""
    valid = decompose_check(A, kind)
    want = [np.array(X, dtype=float) for X in (P, L, U)]

    def check(obs: Observation) -> str | None:
        reason = valid(obs)
        if reason:
            return reason
        got = obs.value["result"]
        if not np.array_equal(got[0], want[0]):
            return f"P: expected {want[0].tolist()}, got {got[0].tolist()}"
        for name, g, w in zip("LU", got[1:], want[1:]):
            if float(np.max(np.abs(g - w))) > 1e-12 * max(1.0, float(np.max(np.abs(w)))):
                return f"{name}: expected {w.tolist()}, got {g.tolist()}"
        return None

    return check


def compare_decompose(A: Any, kind: str = "list"):
    """Differential: valid, the same permutation as the reference, L and U close to it."""
    valid = decompose_check(A, kind)
    M = as_matrix(A)

    def compare(cand: Observation, ref: Observation) -> str | None:
        reason = valid(cand)
        if reason:
            return reason
        P, L, U = cand.value["result"]
        Pr, Lr, Ur = ref.value["result"]
        if not np.array_equal(P, Pr):
            return f"P differs from the reference: expected {Pr.tolist()}, got {P.tolist()}"
        if float(np.max(np.abs(L - Lr))) > 1e-8:
            return "L differs from the reference"
        if float(np.max(np.abs(U - Ur))) > 1e-8 * scale_of(M):
            return "U differs from the reference"
        return None

    return compare


def solution_problem(A: Any, b: Any, x: Any) -> str | None:
    """``None`` when ``x`` is a float64 vector with a small residual ``A @ x - b``."""
    M = as_matrix(A)
    rhs = np.array(b, dtype=float)
    n = M.shape[0]
    reason = _float64_array(x, (n,))
    if reason:
        return f"x: {reason}"
    residual = float(np.max(np.abs(M @ x - rhs)))
    tol = 1e-9 * n * (float(np.max(np.abs(M))) * float(np.max(np.abs(x))) + float(np.max(np.abs(rhs))))
    if not residual <= tol:
        return f"max |A @ x - b| = {residual!r} exceeds {tol!r}"
    return None


def solve_check(A: Any, b: Any, kind: str = "list", b_kind: str = "vector", expect: Any = None):
    """``lu_solve`` returned a good solution (close to ``expect`` when given); inputs unchanged."""

    def check(obs: Observation) -> str | None:
        reason = _driver_dict(obs, ("result", "input_after", "b_after"))
        if reason:
            return reason
        x = obs.value["result"]
        reason = solution_problem(A, b, x)
        if reason:
            return reason
        if expect is not None:
            want = np.array(expect, dtype=float)
            if float(np.max(np.abs(x - want))) > 1e-9 * max(1.0, float(np.max(np.abs(want)))):
                return f"expected x = {want.tolist()}, got {x.tolist()}"
        return input_problem(A, kind, obs.value["input_after"]) or input_problem(
            b, b_kind, obs.value["b_after"], "b"
        )

    return check


def refused_or_solved(A: Any, b: Any):
    """A malformed ``b`` (e.g. an ``(n, 1)`` column) whose entries are ``b``: ``ValueError``
    or ``TypeError``, or else a genuine solution ``x`` of shape ``(n,)``."""
    refused = checks.raises_any_of("builtins.ValueError", "builtins.TypeError")

    def check(obs: Observation) -> str | None:
        if obs.raised:
            return refused(obs)
        reason = _driver_dict(obs, ("result", "input_after", "b_after"))
        return reason or solution_problem(A, b, obs.value["result"])

    return check


def compare_solve(A: Any, b: Any, kind: str = "list", b_kind: str = "vector"):
    """Differential: a good solution, within 1e-8 (relative) of the reference's."""
    valid = solve_check(A, b, kind, b_kind)

    def compare(cand: Observation, ref: Observation) -> str | None:
        if ref.raised:
            return checks.same_as_reference(cand, ref)
        reason = valid(cand)
        if reason:
            return reason
        x, xr = cand.value["result"], ref.value["result"]
        if float(np.max(np.abs(x - xr))) > 1e-8 * max(1.0, float(np.max(np.abs(xr)))):
            return f"x differs from the reference: expected {xr.tolist()}, got {x.tolist()}"
        return None

    return compare




# ---------------------------------------------------------------- properties


def exact_det_is_zero(A: list[list[int]]) -> bool:
    """Exact singularity of an integer matrix (fraction-free elimination)."""
    rows = [[Fraction(v) for v in row] for row in A]
    n = len(rows)
    for k in range(n):
        p = next((i for i in range(k, n) if rows[i][k] != 0), None)
        if p is None:
            return True
        rows[k], rows[p] = rows[p], rows[k]
        for i in range(k + 1, n):
            f = rows[i][k] / rows[k][k]
            rows[i] = [a - f * c for a, c in zip(rows[i], rows[k])]
    return False


def property_factors(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    return decompose_check(kwargs["A"], kwargs["kind"])(obs)


def property_solve(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    """Integer systems: singular exactly when ``det == 0`` (then ``ValueError``), else solved."""
    A, b = kwargs["A"], kwargs["b"]
    if exact_det_is_zero(A):
        return checks.raises("builtins.ValueError")(obs)
    return solve_check(A, b, kwargs["kind"], kwargs["b_kind"])(obs)
