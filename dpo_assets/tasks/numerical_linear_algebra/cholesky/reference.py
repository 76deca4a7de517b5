"""Reference implementation of numerical_linear_algebra/cholesky."""

import numpy as np

SYMMETRY_RTOL = 1e-10


def cholesky(A) -> np.ndarray:
    """Lower-triangular ``L`` with a positive diagonal and ``L @ L.T == A``."""
    try:
        M = np.array(A, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"A is not a 2-D numeric array: {exc}") from None
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"A must be a square 2-D array, got shape {M.shape}")
    n = M.shape[0]
    if n == 0:
        raise ValueError("A must not be empty")
    scale = max(1.0, float(np.max(np.abs(M))))
    if not float(np.max(np.abs(M - M.T))) <= SYMMETRY_RTOL * scale:
        raise ValueError("A is not symmetric")
    L = np.zeros((n, n))
    for j in range(n):
        d = M[j, j] - L[j, :j] @ L[j, :j]
        if not d > 0.0:
            raise ValueError("A is not positive definite")
        L[j, j] = np.sqrt(d)
        L[j + 1 :, j] = (M[j + 1 :, j] - L[j + 1 :, :j] @ L[j, :j]) / L[j, j]
    return L
