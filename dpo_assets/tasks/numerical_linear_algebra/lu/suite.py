"""pytest suite for numerical_linear_algebra/lu (imports the candidate as ``solution``)."""

import numpy as np
import pytest

from solution import lu_decompose, lu_solve


def hilbert(n):
    return [[1.0 / (i + j + 1) for j in range(n)] for i in range(n)]


def random_matrix(seed, n, scale=1.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-10.0, 10.0, size=(n, n)) * scale


def assert_valid_factors(A, P, L, U):
    M = np.array(A, dtype=float)
    n = M.shape[0]
    for X in (P, L, U):
        assert type(X) is np.ndarray
        assert X.dtype == np.float64
        assert X.shape == (n, n)
        assert np.all(np.isfinite(X))
    assert np.all((P == 0.0) | (P == 1.0))
    assert np.all(P.sum(axis=0) == 1.0) and np.all(P.sum(axis=1) == 1.0)
    assert np.all(np.triu(L, 1) == 0.0)
    assert np.all(np.diag(L) == 1.0)
    assert np.all(np.tril(U, -1) == 0.0)
    assert np.max(np.abs(L)) <= 1.0 + 1e-12, "partial pivoting keeps every multiplier within [-1, 1]"
    tol = 1e-9 * n * max(1.0, float(np.max(np.abs(M))))
    assert np.max(np.abs(P @ M - L @ U)) <= tol


def test_two_by_two_needs_a_row_swap():
    result = lu_decompose([[4, 3], [6, 3]])
    assert type(result) is tuple and len(result) == 3
    P, L, U = result
    assert np.array_equal(P, [[0.0, 1.0], [1.0, 0.0]])
    assert np.allclose(L, [[1.0, 0.0], [2.0 / 3.0, 1.0]], rtol=0, atol=1e-15)
    assert np.allclose(U, [[6.0, 3.0], [0.0, 1.0]], rtol=0, atol=1e-14)


def test_no_swap_when_the_diagonal_already_dominates():
    P, L, U = lu_decompose([[5.0, 1.0], [1.0, 3.0]])
    assert np.array_equal(P, np.eye(2))
    assert np.allclose(L, [[1.0, 0.0], [0.2, 1.0]])
    assert np.allclose(U, [[5.0, 1.0], [0.0, 2.8]])


def test_one_by_one():
    P, L, U = lu_decompose([[5]])
    assert np.array_equal(P, [[1.0]])
    assert np.array_equal(L, [[1.0]])
    assert np.array_equal(U, [[5.0]])


def test_permutation_direction_three_cycle():
    A = [[1, 2, 3], [4, 5, 6], [7, 8, 10]]
    P, L, U = lu_decompose(A)
    assert np.array_equal(P, [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert_valid_factors(A, P, L, U)


def test_pivot_is_largest_entry_not_first_nonzero():
    A = [[1.0, 2.0, 0.0], [-8.0, 1.0, 3.0], [4.0, -6.0, 2.0]]
    P, L, U = lu_decompose(A)
    assert U[0, 0] == -8.0
    assert_valid_factors(A, P, L, U)


@pytest.mark.parametrize("kind", ["list", "tuple", "float", "int"])
def test_input_kinds(kind):
    base = [[2, -1, 0], [-1, 2, -1], [0, -1, 2]]
    A = {
        "list": base,
        "tuple": tuple(tuple(r) for r in base),
        "float": np.array(base, dtype=float),
        "int": np.array(base, dtype=np.int64),
    }[kind]
    P, L, U = lu_decompose(A)
    assert_valid_factors(base, P, L, U)


@pytest.mark.parametrize("seed,n", [(1, 3), (2, 4), (3, 5), (4, 8), (5, 12)])
def test_random_matrices(seed, n):
    A = random_matrix(seed, n)
    P, L, U = lu_decompose(A)
    assert_valid_factors(A, P, L, U)


@pytest.mark.parametrize(
    "A",
    [
        [[1, 2], [2, 4]],
        [[0, 0], [0, 0]],
        [[0, 1], [0, 2]],
        [[0]],
        [[1, 1, 1], [1, 1, 2], [1, 1, 3]],
        [[1, 2, 3], [4, 5, 6], [7, 8, 9]],
    ],
)
def test_singular_matrices_still_factor(A):
    P, L, U = lu_decompose(A)
    assert_valid_factors(A, P, L, U)


@pytest.mark.parametrize("n", [8, 10, 12])
def test_hilbert_factors(n):
    P, L, U = lu_decompose(hilbert(n))
    assert_valid_factors(hilbert(n), P, L, U)


@pytest.mark.parametrize("scale", [1e150, 1e-150])
def test_extreme_scales_factor(scale):
    A = random_matrix(9, 6, scale)
    P, L, U = lu_decompose(A)
    assert_valid_factors(A, P, L, U)


def test_decompose_does_not_mutate():
    A = random_matrix(11, 5)
    before = A.copy()
    lu_decompose(A)
    assert np.array_equal(A, before)
    rows = [[3.0, 1.0], [6.0, 2.5]]
    lu_decompose(rows)
    assert rows == [[3.0, 1.0], [6.0, 2.5]]


@pytest.mark.parametrize(
    "bad",
    [
        [1.0, 2.0, 3.0],
        [[[1.0]]],
        4.0,
        [[1.0, 2.0], [3.0]],
        [[1, 2, 3], [4, 5, 6]],
        [[]],
        [],
        np.zeros((0, 0)),
    ],
)
def test_decompose_rejects_bad_shapes(bad):
    with pytest.raises(ValueError):
        lu_decompose(bad)


def test_solve_small_system():
    x = lu_solve([[2, 1], [1, 3]], [3, 5])
    assert type(x) is np.ndarray and x.dtype == np.float64 and x.shape == (2,)
    assert np.allclose(x, [0.8, 1.4])


def test_solve_needs_pivoting():
    x = lu_solve([[0.0, 1.0], [1.0, 0.0]], [2.0, 3.0])
    assert np.allclose(x, [3.0, 2.0])


@pytest.mark.parametrize("seed,n", [(21, 1), (22, 3), (23, 6), (24, 10)])
def test_solve_random(seed, n):
    A = random_matrix(seed, n)
    b = np.arange(1.0, n + 1.0)
    x = lu_solve(A, b)
    assert x.shape == (n,)
    assert np.allclose(A @ x, b, rtol=0, atol=1e-9)
    assert np.allclose(x, np.linalg.solve(A, b))


def test_solve_integer_array_inputs():
    A = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 10]])
    x = lu_solve(A, np.array([6, 15, 25]))
    assert x.dtype == np.float64
    assert np.allclose(x, [1.0, 1.0, 1.0])


def test_solve_does_not_mutate():
    A = random_matrix(31, 4)
    b = np.array([1.0, -1.0, 2.0, 0.5])
    A0, b0 = A.copy(), b.copy()
    lu_solve(A, b)
    assert np.array_equal(A, A0) and np.array_equal(b, b0)


@pytest.mark.parametrize(
    "A,b",
    [
        ([[1, 2], [2, 4]], [1, 2]),
        ([[0]], [1]),
        ([[0, 0], [0, 0]], [0, 0]),
        ([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [1, 2, 3]),
        ([[1, 1, 1], [1, 1, 2], [1, 1, 3]], [1, 2, 3]),
        ([[1.0, 0.0], [0.0, 1e-12]], [1.0, 1.0]),
        ([[2.0, 0.0], [0.0, 1.5e-12]], [1.0, 1.0]),
        ([[0.5, 0.0], [0.0, 8e-13]], [1.0, 1.0]),
        ([[1.0, 1.0], [1.0, 1.0 + 1e-13]], [2.0, 2.0]),
        (hilbert(12), [1.0] * 12),
    ],
)
def test_solve_rejects_singular(A, b):
    with pytest.raises(ValueError):
        lu_solve(A, b)


def test_solve_accepts_pivots_just_above_threshold():
    x = lu_solve([[1.0, 0.0], [0.0, 2e-12]], [1.0, 1.0])
    assert np.allclose(x, [1.0, 5e11])
    x = lu_solve([[1.0, 1.0], [1.0, 1.0 + 1e-10]], [2.0, 2.0 + 1e-10])
    assert np.allclose(x, [1.0, 1.0], atol=1e-5)


def test_solve_tiny_scale_is_singular_huge_scale_is_not():
    A = random_matrix(41, 5)
    b = np.ones(5)
    with pytest.raises(ValueError):
        lu_solve(A * 1e-150, b)
    x = lu_solve(A * 1e150, b)
    assert np.allclose((A * 1e150) @ x, b, rtol=0, atol=1e-8)


def test_solve_hilbert_8():
    x = lu_solve(hilbert(8), [1.0] * 8)
    assert np.max(np.abs(np.array(hilbert(8)) @ x - 1.0)) < 1e-6


@pytest.mark.parametrize("b", [[1.0], [1.0, 2.0, 3.0], []])
def test_solve_rejects_wrong_length(b):
    with pytest.raises(ValueError):
        lu_solve([[2, 1], [1, 3]], b)


@pytest.mark.parametrize("bad", [[1.0, 2.0], [[1, 2, 3], [4, 5, 6]], np.zeros((0, 0))])
def test_solve_rejects_bad_shapes(bad):
    with pytest.raises(ValueError):
        lu_solve(bad, [1.0, 2.0])


def test_sixty_by_sixty():
    A = random_matrix(60, 60)
    P, L, U = lu_decompose(A.tolist())
    assert_valid_factors(A, P, L, U)
    b = np.linspace(-1.0, 1.0, 60)
    x = lu_solve(A.tolist(), b.tolist())
    assert np.allclose(A @ x, b, rtol=0, atol=1e-8)
