"""Trusted-side checks for numerical_linear_algebra/cholesky (judged in the parent, by exact type).

Observations arrive decoded: arrays are plain ``numpy.ndarray`` instances the wire rebuilt
and anything else the candidate built is a ``Foreign``, so numpy arithmetic here is safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dpo_assets.sandbox.outcome import Observation
from dpo_assets.tasks import checks
from dpo_assets.tasks.numerical_linear_algebra.matrices import as_matrix, factor_tolerance

SYMMETRY_RTOL = 1e-10
# Eigenvalue margin (relative to max(1, |lambda|max)) outside which definiteness is
# unambiguous in double precision; in between either answer is accepted.
DEFINITE_MARGIN = 1e-6








def input_problem(original: Any, kind: str, after: Any) -> str | None:
    """``None`` when the input object handed to the candidate is unchanged."""
    if kind == "list":
        reason = checks.same_plain(after, [list(row) for row in original])
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
    return f"the input A was mutated ({reason})" if reason else None


def _float64_square(value: Any, n: int) -> str | None:
    reason = checks.float_array(value, (n, n))
    if reason:
        return reason
    if value.dtype != np.float64:
        return f"expected dtype float64, got {value.dtype}"
    return None


def factor_problem(A: Any, L: Any) -> str | None:
    """``None`` when ``L`` is a float64 lower-triangular factor of ``A`` with a positive diagonal."""
    M = as_matrix(A)
    n = M.shape[0]
    reason = _float64_square(L, n)
    if reason:
        return reason
    if np.any(np.triu(L, 1) != 0.0):
        return "L is not lower triangular (nonzero entries above the diagonal)"
    if not np.all(np.diag(L) > 0.0):
        return f"L has a non-positive diagonal entry: {np.diag(L).tolist()}"
    err = float(np.max(np.abs(L @ L.T - M)))
    tol = factor_tolerance(M)
    if not err <= tol:
        return f"max |L @ L.T - A| = {err!r} exceeds {tol!r}"
    return None


def _result(obs: Observation) -> str | None:
    if obs.raised:
        return f"expected a factor, {obs.describe()}"
    if type(obs.value) is not dict or "result" not in obs.value or "input_after" not in obs.value:
        return f"malformed driver result {obs.describe()}"
    return None


def factor_check(A: Any, kind: str = "list", expect: Any = None):
    """A valid factor (equal to ``expect`` within 1e-12 relative when given); input unchanged."""

    def check(obs: Observation) -> str | None:
        reason = _result(obs)
        if reason:
            return reason
        L = obs.value["result"]
        reason = factor_problem(A, L)
        if reason:
            return reason
        if expect is not None:
            want = np.array(expect, dtype=float)
            if float(np.max(np.abs(L - want))) > 1e-12 * max(1.0, float(np.max(np.abs(want)))):
                return f"expected L = {want.tolist()}, got {L.tolist()}"
        return input_problem(A, kind, obs.value["input_after"])

    return check


def compare_factor(A: Any, kind: str = "list"):
    """Differential: a valid factor within 1e-8 (relative) of the reference's (it is unique)."""
    valid = factor_check(A, kind)

    def compare(cand: Observation, ref: Observation) -> str | None:
        if ref.raised:
            return checks.same_as_reference(cand, ref)
        reason = valid(cand)
        if reason:
            return reason
        L, Lr = cand.value["result"], ref.value["result"]
        if float(np.max(np.abs(L - Lr))) > 1e-8 * max(1.0, float(np.max(np.abs(Lr)))):
            return f"L differs from the reference: expected {Lr.tolist()}, got {L.tolist()}"
        return None

    return compare




# ---------------------------------------------------------------- properties


def gram_plus_identity(B: list[list[int]], shift: int = 1) -> list[list[int]]:
    """``B @ B.T + shift * I`` in exact integer arithmetic (symmetric, positive definite)."""
    n = len(B)
    return [
        [sum(B[i][k] * B[j][k] for k in range(n)) + (shift if i == j else 0) for j in range(n)]
        for i in range(n)
    ]


def symmetric_from(S: list[list[int]], shift: int) -> list[list[int]]:
    """The symmetric matrix whose lower triangle is ``S``'s, plus ``shift`` on the diagonal."""
    n = len(S)
    return [[(S[i][j] if j <= i else S[j][i]) + (shift if i == j else 0) for j in range(n)] for i in range(n)]


def property_spd(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    return factor_check(kwargs["A"], kwargs["kind"])(obs)


def property_definiteness(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    """Clearly PD → a valid factor; clearly indefinite → ``ValueError``; borderline → either."""
    A = kwargs["A"]
    M = as_matrix(A)
    eig = np.linalg.eigvalsh(M)
    margin = DEFINITE_MARGIN * max(1.0, float(np.max(np.abs(eig))))
    if eig[0] > margin:
        return factor_check(A, kwargs["kind"])(obs)
    if eig[0] < -margin:
        return checks.raises("builtins.ValueError")(obs)
    if obs.raised:
        return checks.raises("builtins.ValueError")(obs)
    reason = _result(obs)
    return reason or _float64_square(obs.value["result"], M.shape[0])
