"""Task unit: numerical_linear_algebra/lu (LU factorisation with partial pivoting)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from dpo_assets.sandbox.outcome import Call
from dpo_assets.tasks import checks
from dpo_assets.tasks.base import Case, DifferentialCase, PropertySpec, SemanticRules, Signature, Task
from dpo_assets.tasks.numerical_linear_algebra.lu import material as m

INSTRUCTIONS = """\
Implement LU factorisation with partial pivoting in a module exposing:

```python
def lu_decompose(A) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]
def lu_solve(A, b) -> numpy.ndarray
```

`lu_decompose` factors a square 2-D array-like `A` (n >= 1; a list of lists, a tuple of tuples
or a numpy array, integer entries included) with partial pivoting and returns `(P, L, U)` as
float arrays where `P` is a permutation matrix, `L` is unit lower triangular, `U` is upper
triangular, and `P @ A ≈ L @ U` (within `1e-9 * n * max(1, max|A|)`). At each column the pivot
is the entry of largest absolute value on or below the diagonal. A singular `A` is still
factored.
`lu_solve` returns `x` (a float array of shape `(n,)`) with `A @ x ≈ b`, using that
factorisation.
Not 2-D, not square, or `n == 0` → `ValueError`. In `lu_solve`, a `b` whose length is not
`n`, or a pivot with `|pivot| <= 1e-12 * max(1, max|A|)` (singular), → `ValueError`.
Inputs are not mutated.
"""


def _dec(A: Any, kind: str = "list", label: str = "") -> Call:
    return Call("decompose", {"A": A, "kind": kind}, label=label)


def _sol(A: Any, b: Any, kind: str = "list", b_kind: str = "vector", label: str = "") -> Call:
    return Call("solve", {"A": A, "b": b, "kind": kind, "b_kind": b_kind}, label=label)


def _dec_ok(A: Any, kind: str = "list", label: str = "", seconds: float | None = None) -> Case:
    check = m.decompose_check(A, kind)
    return Case(_dec(A, kind, label), check if seconds is None else checks.within_seconds(check, seconds))


def _sol_ok(
    A: Any,
    b: Any,
    kind: str = "list",
    b_kind: str = "vector",
    expect: Any = None,
    label: str = "",
    seconds: float | None = None,
) -> Case:
    check = m.solve_check(A, b, kind, b_kind, expect)
    timed = check if seconds is None else checks.within_seconds(check, seconds)
    return Case(_sol(A, b, kind, b_kind, label), timed)


def _random_matrix(seed: int, n: int, lo: float = -10.0, hi: float = 10.0) -> list[list[float]]:
    rng = random.Random(seed)
    return [[round(rng.uniform(lo, hi), 3) for _ in range(n)] for _ in range(n)]


def _random_ints(seed: int, n: int, bound: int = 20) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randint(-bound, bound) for _ in range(n)] for _ in range(n)]


def _random_vector(seed: int, n: int) -> list[float]:
    rng = random.Random(seed)
    return [round(rng.uniform(-5.0, 5.0), 3) for _ in range(n)]


def _hilbert(n: int) -> list[list[float]]:
    return [[1.0 / (i + j + 1) for j in range(n)] for i in range(n)]


def _scaled(A: list[list[float]], factor: float) -> list[list[float]]:
    return [[v * factor for v in row] for row in A]


VE = checks.raises("builtins.ValueError")
VE_OR_TE = checks.raises_any_of("builtins.ValueError", "builtins.TypeError")

# A 3-cycle permutation: P != P.T, so returning P.T (A = P @ L @ U) is caught.
CYCLE = [[1, 2, 3], [4, 5, 6], [7, 8, 10]]

INVARIANTS = (
    Case(
        _dec([[4, 3], [6, 3]]),
        m.decompose_expect([[4, 3], [6, 3]], [[0, 1], [1, 0]], [[1, 0], [2 / 3, 1]], [[6, 3], [0, 1]]),
    ),
    Case(
        _dec([[1.0, 2.0], [3.0, 4.0]], "tuple"),
        m.decompose_expect(
            [[1.0, 2.0], [3.0, 4.0]], [[0, 1], [1, 0]], [[1, 0], [1 / 3, 1]], [[3, 4], [0, 2 / 3]], "tuple"
        ),
    ),
    _dec_ok(CYCLE, "ndarray"),
    _dec_ok(CYCLE, "int_ndarray"),
    _dec_ok([[2, 1], [1, 3]], "int_ndarray"),
    Case(_dec([[5]]), m.decompose_expect([[5]], [[1]], [[1]], [[5]])),
    _sol_ok([[2, 1], [1, 3]], [3, 5], expect=[0.8, 1.4]),
    _sol_ok(CYCLE, [6.0, 15.0, 25.0], "ndarray", "ndarray", expect=[1.0, 1.0, 1.0]),
    _sol_ok(CYCLE, [6, 15, 25], "int_ndarray", "int_ndarray", expect=[1.0, 1.0, 1.0]),
)

# Seeded matrices whose pivot choice is never a near-tie (checked in the unit's tests), so
# the permutation is determined and compared exactly with the reference.
DIFF_MATRICES = [
    (_random_matrix(103, 3), "list"),
    (_random_matrix(104, 4), "ndarray"),
    (_random_matrix(205, 5), "list"),
    (_random_matrix(306, 6), "tuple"),
    (_random_matrix(808, 8), "ndarray"),
    (_random_matrix(1006, 6), "list"),
    (_random_ints(7, 5), "int_ndarray"),
    (_random_ints(11, 7), "list"),
]

DIFFERENTIAL = tuple(
    [DifferentialCase(_dec(A, kind), m.compare_decompose(A, kind)) for A, kind in DIFF_MATRICES]
    + [
        DifferentialCase(
            _sol(A, _random_vector(i, len(A)), kind, "ndarray" if kind == "ndarray" else "vector"),
            m.compare_solve(A, _random_vector(i, len(A)), kind, "ndarray" if kind == "ndarray" else "vector"),
        )
        for i, (A, kind) in enumerate(DIFF_MATRICES)
    ]
)


def _square(n: int, elements: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.lists(elements, min_size=n, max_size=n), min_size=n, max_size=n)


_small_ints = st.integers(-9, 9)
_floats = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)

PROPERTIES = (
    PropertySpec(
        "integer matrices factor validly",
        "decompose",
        st.integers(1, 6).flatmap(
            lambda n: st.fixed_dictionaries(
                {"A": _square(n, _small_ints), "kind": st.sampled_from(["list", "int_ndarray", "tuple"])}
            )
        ),
        m.property_factors,
    ),
    PropertySpec(
        "float matrices factor validly",
        "decompose",
        st.integers(1, 5).flatmap(
            lambda n: st.fixed_dictionaries(
                {"A": _square(n, _floats), "kind": st.sampled_from(["list", "ndarray"])}
            )
        ),
        m.property_factors,
    ),
    PropertySpec(
        "integer systems are solved or reported singular",
        "solve",
        st.integers(1, 5).flatmap(
            lambda n: st.fixed_dictionaries(
                {
                    "A": _square(n, st.integers(-5, 5)),
                    "b": st.lists(_small_ints, min_size=n, max_size=n),
                    "kind": st.sampled_from(["list", "int_ndarray", "ndarray"]),
                    "b_kind": st.sampled_from(["vector", "int_ndarray", "ndarray"]),
                }
            )
        ),
        m.property_solve,
    ),
)

_SINGULAR_ZERO_COLUMN = [[1, 1, 1], [1, 1, 2], [1, 1, 3]]

FUZZ = (
    # Not 2-D, not square, empty.
    Case(_dec([1.0, 2.0, 3.0], "raw"), VE),
    Case(_dec([[[1.0]]], "raw"), VE),
    Case(_dec(4.0, "raw"), VE),
    Case(_dec([[1.0, 2.0], [3.0]], "raw"), VE),
    Case(_dec([[1, 2, 3], [4, 5, 6]], "list"), VE),
    Case(_dec([[1.0], [2.0]], "ndarray"), VE),
    # A single row (1 x n): every slice of a 1 x 1 factorisation still works, so only an
    # explicit square check refuses it.
    Case(_dec([[1.0, 2.0]], "list", label="decompose([[1.0, 2.0]]) (1 x 2)"), VE),
    Case(_sol([[1.0, 2.0]], [1.0], "ndarray", label="solve([[1.0, 2.0]], [1.0]) (1 x 2)"), VE),
    Case(_dec([[]], "raw"), VE),
    Case(_dec([], "raw"), VE),
    Case(_dec(None, "empty2d", label="decompose(numpy.zeros((0, 0)))"), VE),
    Case(_sol([1.0, 2.0], [1.0, 2.0], "raw"), VE),
    Case(_sol([[1, 2, 3], [4, 5, 6]], [1, 2]), VE),
    Case(_sol(None, [], "empty2d", label="solve(numpy.zeros((0, 0)), [])"), VE),
    # b of the wrong length.
    Case(_sol([[2, 1], [1, 3]], [1.0]), VE),
    Case(_sol([[2, 1], [1, 3]], [1.0, 2.0, 3.0]), VE),
    Case(_sol([[2, 1], [1, 3]], [1.0, 2.0, 3.0], "ndarray", "ndarray"), VE),
    Case(_sol([[2.0]], []), VE),
    # b with no length at all, or a column (n, 1) instead of a vector: refused (a list-based
    # candidate may fail with TypeError) or, for the column, solved with x of shape (n,).
    Case(_sol([[2.0]], 3.0, b_kind="raw", label="solve([[2.0]], 3.0)"), VE_OR_TE),
    Case(
        _sol([[2, 1], [1, 3]], [[3.0], [5.0]], b_kind="ndarray"),
        m.refused_or_solved([[2, 1], [1, 3]], [3.0, 5.0]),
    ),
    # Singular: lu_solve refuses, lu_decompose still factors.
    Case(_sol([[1, 2], [2, 4]], [1, 2]), VE),
    Case(_sol([[0, 0], [0, 0]], [0, 0]), VE),
    Case(_sol([[0]], [1]), VE),
    Case(_sol([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [1, 2, 3]), VE),
    Case(_sol(_SINGULAR_ZERO_COLUMN, [1, 2, 3]), VE),
    _dec_ok([[1, 2], [2, 4]]),
    _dec_ok([[0, 0], [0, 0]]),
    _dec_ok([[0, 1], [0, 2]]),
    _dec_ok([[0]]),
    _dec_ok(_SINGULAR_ZERO_COLUMN, "ndarray"),
    _dec_ok([[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
    # The singular threshold is 1e-12 * max(1, max|A|), inclusive.
    Case(_sol([[1.0, 0.0], [0.0, 1e-12]], [1.0, 1.0]), VE),
    _sol_ok([[1.0, 0.0], [0.0, 2e-12]], [1.0, 1.0]),
    Case(_sol([[2.0, 0.0], [0.0, 1.5e-12]], [1.0, 1.0]), VE),
    Case(_sol([[0.5, 0.0], [0.0, 8e-13]], [1.0, 1.0]), VE),
    Case(_sol([[1e6, 0.0], [0.0, 1e-7]], [1.0, 1.0]), VE),
    _sol_ok([[1.0, 2.0], [2.0, 4.000000001]], [3.0, 6.0]),
    # Degenerate sizes and input kinds.
    _sol_ok([[4.0]], [2.0], expect=[0.5]),
    _sol_ok([[-3]], [6], "int_ndarray", "int_ndarray", expect=[-2.0]),
    _dec_ok([[0.0, 1.0], [1.0, 0.0]], "tuple"),
    # Inputs are not mutated (float arrays are the ones an in-place algorithm would change).
    _dec_ok(CYCLE, "ndarray"),
    _dec_ok(_random_matrix(41, 5), "ndarray"),
    _dec_ok(_random_matrix(42, 4), "list"),
    _sol_ok(_random_matrix(43, 4), [1.0, 2.0, 3.0, 4.0], "ndarray", "ndarray"),
    _sol_ok(_random_matrix(44, 4), [1.5, -2.0, 0.25, 4.0], "list", "vector"),
)

_BIG = _random_matrix(60, 60)
_BIG_INTS = _random_ints(61, 60, 99)
_BIG_B = [float(i % 7) for i in range(60)]
_MID = _random_matrix(6, 6)
_B6 = [1.0, -2.0, 3.0, -4.0, 5.0, -6.0]
_NEAR = [[1.0, 1.0], [1.0, 1.0 + 1e-10]]
_NEARER = [[1.0, 1.0], [1.0, 1.0 + 1e-13]]

EDGE = (
    # Ill-conditioned: Hilbert matrices still factor validly (backward stability).
    _dec_ok(_hilbert(8), label="decompose(hilbert(8))"),
    _dec_ok(_hilbert(10), "ndarray", label="decompose(hilbert(10))"),
    _dec_ok(_hilbert(12), label="decompose(hilbert(12))"),
    # Hilbert 8 / 9: smallest pivot ~1e-9 / 5e-11, well above the threshold: solved.
    _sol_ok(_hilbert(8), [1.0] * 8, label="solve(hilbert(8), ones)"),
    _sol_ok(_hilbert(9), [1.0] * 9, label="solve(hilbert(9), ones)"),
    # Hilbert 12: smallest pivot ~5e-15 <= 1e-12: singular to working precision.
    Case(_sol(_hilbert(12), [1.0] * 12, label="solve(hilbert(12), ones)"), VE),
    # Near-singular on either side of the threshold.
    _sol_ok(_NEAR, [2.0, 2.0 + 1e-10]),
    Case(_sol(_NEARER, [2.0, 2.0]), VE),
    # Huge and tiny scales.
    _dec_ok(_scaled(_MID, 1e150), label="decompose(6x6 * 1e150)"),
    _sol_ok(_scaled(_MID, 1e150), _B6, label="solve(6x6 * 1e150, b)"),
    _dec_ok(_scaled(_MID, 1e-150), "ndarray", label="decompose(6x6 * 1e-150)"),
    # max(1, max|A|) makes every pivot of a 1e-150 matrix "singular".
    Case(_sol(_scaled(_MID, 1e-150), _B6, label="solve(6x6 * 1e-150, b)"), VE),
    Case(_sol(_scaled(_MID, 1e-150), _scaled([_B6], 1e-150)[0], label="solve(6x6 * 1e-150, b * 1e-150)"), VE),
    # Size stress with a time bound.
    _dec_ok(_BIG, label="decompose(random 60x60 list)", seconds=5.0),
    _dec_ok(_BIG_INTS, "int_ndarray", label="decompose(random 60x60 int array)", seconds=5.0),
    _sol_ok(_BIG, _BIG_B, label="solve(random 60x60 list)", seconds=5.0),
)

TASK = Task(
    task_id="numerical_linear_algebra/lu",
    title="LU factorisation with partial pivoting",
    instructions=INSTRUCTIONS,
    unit_dir=Path(__file__).resolve().parent,
    invariants=INVARIANTS,
    differential=DIFFERENTIAL,
    properties=PROPERTIES,
    fuzz=FUZZ,
    edge=EDGE,
    semantic=SemanticRules(
        functions=(Signature("lu_decompose", ("A",)), Signature("lu_solve", ("A", "b"))),
    ),
)
