"""pytest suite for numerical_linear_algebra/cholesky (imports the candidate as ``solution``)."""

import numpy as np
import pytest

from solution import cholesky


def hilbert(n):
    return [[1.0 / (i + j + 1) for j in range(n)] for i in range(n)]


def random_spd(seed, n, scale=1.0):
    rng = np.random.default_rng(seed)
    B = rng.uniform(-3.0, 3.0, size=(n, n))
    A = B @ B.T + n * np.eye(n)
    return (A + A.T) / 2.0 * scale


def assert_valid(A, L):
    M = np.array(A, dtype=float)
    n = M.shape[0]
    assert type(L) is np.ndarray
    assert L.dtype == np.float64
    assert L.shape == (n, n)
    assert np.all(np.isfinite(L))
    assert np.all(np.triu(L, 1) == 0.0), "L must be lower triangular"
    assert np.all(np.diag(L) > 0.0), "L must have a positive diagonal"
    tol = 1e-9 * n * max(1.0, float(np.max(np.abs(M))))
    assert np.max(np.abs(L @ L.T - M)) <= tol


def test_two_by_two():
    L = cholesky([[4, 2], [2, 5]])
    assert np.allclose(L, [[2.0, 0.0], [1.0, 2.0]], rtol=0, atol=1e-15)
    assert_valid([[4, 2], [2, 5]], L)


def test_classic_three_by_three():
    A = [[4, 12, -16], [12, 37, -43], [-16, -43, 98]]
    L = cholesky(A)
    assert np.allclose(L, [[2, 0, 0], [6, 1, 0], [-8, 5, 3]], rtol=0, atol=1e-12)


def test_one_by_one():
    L = cholesky([[9]])
    assert type(L) is np.ndarray and L.shape == (1, 1)
    assert L[0, 0] == 3.0


def test_identity():
    assert np.array_equal(cholesky(np.eye(4)), np.eye(4))


@pytest.mark.parametrize("kind", ["list", "tuple", "float", "int"])
def test_input_kinds(kind):
    base = [[2, -1, 0], [-1, 2, -1], [0, -1, 2]]
    A = {
        "list": base,
        "tuple": tuple(tuple(r) for r in base),
        "float": np.array(base, dtype=float),
        "int": np.array(base, dtype=np.int64),
    }[kind]
    L = cholesky(A)
    assert_valid(base, L)


@pytest.mark.parametrize("seed,n", [(1, 2), (2, 3), (3, 5), (4, 8), (5, 15)])
def test_random_spd(seed, n):
    A = random_spd(seed, n)
    L = cholesky(A)
    assert_valid(A, L)
    assert np.allclose(L, np.linalg.cholesky(A))


@pytest.mark.parametrize("n", [8, 10, 12])
def test_hilbert(n):
    assert_valid(hilbert(n), cholesky(hilbert(n)))


@pytest.mark.parametrize("scale", [1e150, 1e300, 1e-150, 1e-300])
def test_extreme_scales(scale):
    A = random_spd(7, 6, scale)
    L = cholesky(A)
    assert_valid(A, L)
    assert np.allclose(L, np.linalg.cholesky(random_spd(7, 6)) * np.sqrt(scale), rtol=1e-9, atol=0)


def test_near_singular_but_definite():
    assert_valid([[1.0, 1.0], [1.0, 1.0 + 1e-10]], cholesky([[1.0, 1.0], [1.0, 1.0 + 1e-10]]))
    assert_valid([[1e-20, 0.0], [0.0, 1.0]], cholesky([[1e-20, 0.0], [0.0, 1.0]]))


def test_does_not_mutate():
    A = random_spd(11, 5)
    before = A.copy()
    cholesky(A)
    assert np.array_equal(A, before)
    rows = [[4.0, 2.0], [2.0, 5.0]]
    cholesky(rows)
    assert rows == [[4.0, 2.0], [2.0, 5.0]]


@pytest.mark.parametrize(
    "bad",
    [
        [1.0, 2.0, 3.0],
        [[[1.0]]],
        4.0,
        [[1.0, 2.0], [2.0]],
        [[4, 2, 1], [2, 5, 3]],
        [[]],
        [],
        np.zeros((0, 0)),
    ],
)
def test_rejects_bad_shapes(bad):
    with pytest.raises(ValueError):
        cholesky(bad)


@pytest.mark.parametrize(
    "A",
    [
        [[4, 1], [2, 4]],
        [[4.0, 1.0, 0.5], [1.0, 3.0, 0.25], [0.5 + 1e-6, 0.25, 2.0]],
        [[4.0, 1.0, 0.5 + 1e-9], [1.0, 3.0, 0.25], [0.5, 0.25, 2.0]],
        [[4e-3, 1e-3], [1e-3 + 5e-10, 3e-3]],
    ],
)
def test_rejects_asymmetric(A):
    with pytest.raises(ValueError):
        cholesky(A)


@pytest.mark.parametrize(
    "A",
    [
        [[4.0, 1.0], [1.0 + 3e-11, 3.0]],
        [[4e6, 1e6], [1e6 + 3e-5, 3e6]],
        [[4e-3, 1e-3], [1e-3 + 3e-11, 3e-3]],
    ],
)
def test_tolerates_tiny_asymmetry(A):
    assert_valid(A, cholesky(A))


@pytest.mark.parametrize(
    "A",
    [
        [[1, 2], [2, 1]],
        [[-1, 0], [0, 1]],
        [[1, 0], [0, -1]],
        [[0, 0], [0, 0]],
        [[1, 1], [1, 1]],
        [[1, 2], [2, 4]],
        [[4, 2], [2, 1]],
        [[0]],
        [[-4.0]],
        [[1, 2, 3], [2, 1, 4], [3, 4, 1]],
        [[2, -1, 0], [-1, 2, -1], [0, -1, -2]],
        [[1, 0, 0], [0, 0, 0], [0, 0, 1]],
        [[-1, 0, 0], [0, -2, 0], [0, 0, 3]],
        [[1.0, 1.0], [1.0, 1.0 - 1e-10]],
    ],
)
def test_rejects_not_positive_definite(A):
    with pytest.raises(ValueError):
        cholesky(A)


def test_sixty_by_sixty():
    A = random_spd(60, 60)
    L = cholesky(A.tolist())
    assert_valid(A, L)
