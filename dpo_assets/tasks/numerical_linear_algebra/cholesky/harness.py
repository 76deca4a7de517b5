"""Drivers for numerical_linear_algebra/cholesky: call the candidate, return raw results."""

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
    if kind == "empty2d":
        return np.zeros((0, 0))
    return value  # "raw": exactly as given (malformed inputs)


def factor(solution, A, kind: str = "list"):
    """``cholesky`` on ``A`` given as ``kind``; reports the input afterwards."""
    data = build(A, kind)
    result = solution.cholesky(data)
    return {"result": result, "input_after": data}
