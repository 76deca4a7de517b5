"""Helpers shared by the linear-algebra task units (trusted, parent side)."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_matrix(A: Any) -> np.ndarray:
    return np.array(A, dtype=float)


def scale_of(M: np.ndarray) -> float:
    """``max(1, max|M|)``: the scale the contracts' tolerances are relative to."""
    return max(1.0, float(np.max(np.abs(M))))


def factor_tolerance(M: np.ndarray) -> float:
    """The contracts' bound on a factorisation residual: ``1e-9 * n * max(1, max|A|)``."""
    return 1e-9 * M.shape[0] * scale_of(M)
