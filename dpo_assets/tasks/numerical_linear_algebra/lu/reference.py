"""Reference implementation of numerical_linear_algebra/lu (LU with partial pivoting)."""

import numpy as np

SINGULAR_RTOL = 1e-12


def _square(A) -> np.ndarray:
    """A float64 copy of ``A``; ``ValueError`` unless it is a non-empty square 2-D array."""
    try:
        M = np.array(A, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"A is not a 2-D numeric array: {exc}") from None
    if M.ndim != 2:
        raise ValueError(f"A must be 2-D, got {M.ndim} dimension(s)")
    rows, cols = M.shape
    if rows != cols:
        raise ValueError(f"A must be square, got shape {M.shape}")
    if rows == 0:
        raise ValueError("A must not be empty")
    return M


def _factor(M: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row order, L and U of ``M`` (float64, square, non-empty); ``M`` is not modified."""
    n = M.shape[0]
    U = M.copy()
    L = np.eye(n)
    order = np.arange(n)
    for k in range(n - 1):
        p = k + int(np.argmax(np.abs(U[k:, k])))
        if p != k:
            U[[k, p]] = U[[p, k]]
            L[[k, p], :k] = L[[p, k], :k]
            order[[k, p]] = order[[p, k]]
        pivot = U[k, k]
        if pivot != 0.0:
            factors = U[k + 1 :, k] / pivot
            L[k + 1 :, k] = factors
            U[k + 1 :, k:] -= np.outer(factors, U[k, k:])
        U[k + 1 :, k] = 0.0
    return order, L, U


def lu_decompose(A) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(P, L, U)`` with ``P @ A == L @ U``, ``L`` unit lower, ``U`` upper triangular."""
    M = _square(A)
    order, L, U = _factor(M)
    P = np.eye(M.shape[0])[order]
    return P, L, U


def lu_solve(A, b) -> np.ndarray:
    """Solve ``A @ x == b`` through the pivoted LU factorisation of ``A``."""
    M = _square(A)
    n = M.shape[0]
    try:
        rhs = np.array(b, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"b is not a numeric vector: {exc}") from None
    if rhs.shape != (n,):
        raise ValueError(f"b must have length {n}, got shape {rhs.shape}")
    order, L, U = _factor(M)
    threshold = SINGULAR_RTOL * max(1.0, float(np.max(np.abs(M))))
    if np.any(np.abs(np.diag(U)) <= threshold):
        raise ValueError("matrix is singular to working precision")
    y = rhs[order]
    for i in range(n):
        y[i] -= L[i, :i] @ y[:i]
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        x[i] = (y[i] - U[i, i + 1 :] @ x[i + 1 :]) / U[i, i]
    return x
