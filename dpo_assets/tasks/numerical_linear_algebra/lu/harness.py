"""Drivers for numerical_linear_algebra/lu: call the candidate, return raw results (no judgement)."""

from __future__ import annotations

import numpy as np


def build(value, kind: str):
    """The input object handed to the candidate, built from plain data."""
    if kind == "list":
        return [list(row) for row in value]
    if kind == "tuple":
        return tuple(tuple(row) for row in value)
    if kind == "ndarray":
        return np.array(value, dtype=float)
    if kind == "int_ndarray":
        return np.array(value, dtype=np.int64)
    if kind == "vector":
        return list(value)
    if kind == "empty2d":
        return np.zeros((0, 0))
    return value  # "raw": exactly as given (malformed inputs)


def decompose(solution, A, kind: str = "list"):
    """``lu_decompose`` on ``A`` given as ``kind``; reports the input afterwards."""
    data = build(A, kind)
    result = solution.lu_decompose(data)
    return {"result": result, "input_after": data}


def solve(solution, A, b, kind: str = "list", b_kind: str = "vector"):
    """``lu_solve`` on ``A`` and ``b``; reports both inputs afterwards."""
    data = build(A, kind)
    rhs = build(b, b_kind)
    result = solution.lu_solve(data, rhs)
    return {"result": result, "input_after": data, "b_after": rhs}
