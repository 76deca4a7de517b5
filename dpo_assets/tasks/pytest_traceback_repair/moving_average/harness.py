"""Drivers for moving_average: call the candidate, return raw results (no judgement)."""

from __future__ import annotations

import numpy as np


def _as(kind: str, values: list):
    if kind == "tuple":
        return tuple(values)
    if kind == "ndarray":
        return np.array(values, dtype=float)
    return list(values)


def average(solution, values: list, window: int, kind: str = "list"):
    """``moving_average`` on ``values`` given as ``kind``; reports the input afterwards."""
    data = _as(kind, values)
    result = solution.moving_average(data, window)
    after = data.tolist() if kind == "ndarray" else list(data)
    return {"result": result, "input_after": after}
