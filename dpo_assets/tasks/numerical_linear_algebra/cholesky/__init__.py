"""Task unit: numerical_linear_algebra/cholesky."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from dpo_assets.sandbox.outcome import Call
from dpo_assets.tasks import checks
from dpo_assets.tasks.base import Case, DifferentialCase, PropertySpec, SemanticRules, Signature, Task
from dpo_assets.tasks.numerical_linear_algebra.cholesky import material as m

INSTRUCTIONS = """\
Implement the Cholesky factorisation in a module exposing:

```python
def cholesky(A) -> numpy.ndarray
```

Returns the lower-triangular `L` (float array, positive diagonal) with `L @ L.T ≈ A` for a
symmetric positive-definite `A` (a list of lists, a tuple of tuples or a numpy array, integer
entries included). Not square, `n == 0`, not symmetric (beyond `1e-10 * max(1, max|A|)`), or
not positive definite → `ValueError`. Input not mutated.
"""

VE = checks.raises("builtins.ValueError")


def _call(A: Any, kind: str = "list", label: str = "") -> Call:
    return Call("factor", {"A": A, "kind": kind}, label=label)


def _ok(
    A: Any, kind: str = "list", expect: Any = None, label: str = "", seconds: float | None = None
) -> Case:
    check = m.factor_check(A, kind, expect)
    return Case(_call(A, kind, label), check if seconds is None else checks.within_seconds(check, seconds))


def _err(A: Any, kind: str = "list", label: str = "") -> Case:
    return Case(_call(A, kind, label), VE)


def _random_spd(seed: int, n: int) -> list[list[float]]:
    """``B @ B.T + n * I`` for a seeded ``B``, summed in one order so it is exactly symmetric."""
    rng = random.Random(seed)
    B = [[round(rng.uniform(-3.0, 3.0), 3) for _ in range(n)] for _ in range(n)]
    return [
        [sum(B[i][k] * B[j][k] for k in range(n)) + (float(n) if i == j else 0.0) for j in range(n)]
        for i in range(n)
    ]


def _random_int_spd(seed: int, n: int, bound: int = 3) -> list[list[int]]:
    rng = random.Random(seed)
    return m.gram_plus_identity([[rng.randint(-bound, bound) for _ in range(n)] for _ in range(n)], n)


def _hilbert(n: int) -> list[list[float]]:
    return [[1.0 / (i + j + 1) for j in range(n)] for i in range(n)]


def _scaled(A: list[list[float]], factor: float) -> list[list[float]]:
    return [[v * factor for v in row] for row in A]


def _perturbed(A: list[list[float]], i: int, j: int, delta: float) -> list[list[float]]:
    """``A`` with ``delta`` added to entry ``(i, j)`` only (an asymmetry of ``|delta|``)."""
    out = [list(row) for row in A]
    out[i][j] += delta
    return out


FLOATS = [[25.0, 15.0, -5.0], [15.0, 18.0, 0.0], [-5.0, 0.0, 11.0]]
WIKI = [[4, 12, -16], [12, 37, -43], [-16, -43, 98]]
TRIDIAG = [[2, -1, 0], [-1, 2, -1], [0, -1, 2]]
TRIDIAG_L = [
    [2**0.5, 0.0, 0.0],
    [-(0.5**0.5), 1.5**0.5, 0.0],
    [0.0, -((2 / 3) ** 0.5), (4 / 3) ** 0.5],
]

INVARIANTS = (
    _ok([[4, 2], [2, 5]], expect=[[2.0, 0.0], [1.0, 2.0]]),
    _ok([[4.0, 2.0], [2.0, 5.0]], "ndarray", expect=[[2.0, 0.0], [1.0, 2.0]]),
    _ok(WIKI, "int_ndarray", expect=[[2, 0, 0], [6, 1, 0], [-8, 5, 3]]),
    _ok(TRIDIAG, "tuple", expect=TRIDIAG_L),
    _ok([[9]], expect=[[3.0]]),
    _ok(FLOATS, expect=[[5, 0, 0], [3, 3, 0], [-1, 1, 3]]),
)

DIFF_MATRICES = [
    (_random_spd(3, 3), "list"),
    (_random_spd(4, 4), "ndarray"),
    (_random_spd(5, 5), "tuple"),
    (_random_spd(6, 6), "list"),
    (_random_spd(8, 8), "ndarray"),
    (_random_int_spd(9, 5), "int_ndarray"),
    (_random_int_spd(10, 7), "list"),
    (_scaled(_random_spd(11, 4), 1e-3), "ndarray"),
    (_scaled(_random_spd(12, 4), 1e4), "list"),
]

DIFFERENTIAL = tuple(DifferentialCase(_call(A, kind), m.compare_factor(A, kind)) for A, kind in DIFF_MATRICES)


def _square(n: int, elements: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.lists(elements, min_size=n, max_size=n), min_size=n, max_size=n)


PROPERTIES = (
    PropertySpec(
        "B @ B.T + I factors validly",
        "factor",
        st.integers(1, 6).flatmap(
            lambda n: st.fixed_dictionaries(
                {
                    "A": _square(n, st.integers(-5, 5)).map(m.gram_plus_identity),
                    "kind": st.sampled_from(["list", "int_ndarray", "ndarray", "tuple"]),
                }
            )
        ),
        m.property_spd,
    ),
    PropertySpec(
        "definite factors, indefinite raises ValueError",
        "factor",
        st.integers(1, 5).flatmap(
            lambda n: st.fixed_dictionaries(
                {
                    "A": st.builds(m.symmetric_from, _square(n, st.integers(-9, 9)), st.integers(0, 30)),
                    "kind": st.sampled_from(["list", "int_ndarray", "ndarray"]),
                }
            )
        ),
        m.property_definiteness,
    ),
)

_SPD3 = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.25], [0.5, 0.25, 2.0]]
_SPD3_BIG = _scaled(_SPD3, 1e6)
_SPD3_SMALL = _scaled(_SPD3, 1e-3)

FUZZ = (
    # Not 2-D, not square, empty.
    _err([1.0, 2.0, 3.0], "raw"),
    _err([[[1.0]]], "raw"),
    _err(4.0, "raw"),
    _err([[1.0, 2.0], [2.0]], "raw"),
    _err([[4, 2, 1], [2, 5, 3]]),
    _err([[1.0], [2.0]], "ndarray"),
    # 1 x n / n x 1 with equal entries: M - M.T broadcasts to an n x n zero matrix, so only a real
    # square check refuses them.
    _err([[1.0, 1.0]], label="factor(1 x 2, equal entries)"),
    _err([[2.0], [2.0]], "ndarray", label="factor(2 x 1, equal entries, ndarray)"),
    _err([[]], "raw"),
    _err([], "raw"),
    _err(None, "empty2d", label="factor(numpy.zeros((0, 0)))"),
    # Not symmetric (beyond 1e-10 * max(1, max|A|)).
    _err([[4, 1], [2, 4]]),
    _err([[4.0, 1.0], [2.0, 4.0]], "ndarray"),
    _err(_perturbed(_SPD3, 2, 0, 1e-6)),
    _err(_perturbed(_SPD3_SMALL, 1, 0, 5e-10), "ndarray"),
    _err(_perturbed(_SPD3, 0, 2, 1e-9)),
    # 1.5x the tolerance with max|A| <= 1: refused (a floor above max(1, ...) lets it through).
    _err([[1.0, 0.0], [1.5e-10, 1.0]], label="factor(asymmetry == 1.5e-10, max|A| == 1)"),
    _err(_perturbed(_SPD3_SMALL, 1, 0, 1.5e-10), "ndarray", label="factor(asymmetry == 1.5e-10, max|A| < 1)"),
    # Asymmetry within the tolerance is accepted.
    _ok(_perturbed(_SPD3, 1, 0, 3e-11)),
    _ok(_perturbed(_SPD3_BIG, 2, 1, 3e-5), "ndarray"),
    _ok(_perturbed(_SPD3_SMALL, 2, 0, 3e-11)),
    # Asymmetry exactly at the tolerance is not beyond it (exact in binary: 1e-10 * 1, 2e-10 = 1e-10 * 2).
    _ok([[1.0, 0.0], [1e-10, 1.0]], label="factor(asymmetry == 1e-10 * max(1, max|A|))"),
    _ok([[2.0, 0.0], [2e-10, 2.0]], "ndarray", label="factor(asymmetry == 1e-10 * 2.0, ndarray)"),
    # Not positive definite.
    _err([[1, 2], [2, 1]]),
    _err([[-1, 0], [0, 1]]),
    _err([[1, 0], [0, -1]], "ndarray"),
    _err([[0, 0], [0, 0]]),
    _err([[1, 1], [1, 1]]),
    _err([[1, 2], [2, 4]], "int_ndarray"),
    _err([[4, 2], [2, 1]]),
    _err([[0]]),
    _err([[-4.0]]),
    _err([[1, 2, 3], [2, 1, 4], [3, 4, 1]]),
    _err([[2, -1, 0], [-1, 2, -1], [0, -1, -2]]),
    _err([[1, 0, 0], [0, 0, 0], [0, 0, 1]], "ndarray"),
    _err([[-1, 0, 0], [0, -2, 0], [0, 0, 3]]),
    # Degenerate sizes and input kinds.
    _ok([[4]], "int_ndarray", expect=[[2.0]]),
    _ok([[0.25]], "tuple", expect=[[0.5]]),
    _ok([[1, 0], [0, 1]], expect=[[1.0, 0.0], [0.0, 1.0]]),
    # Inputs are not mutated (float arrays are the ones an in-place algorithm would change).
    _ok(_SPD3, "ndarray"),
    _ok(_random_spd(21, 5), "ndarray"),
    _ok(_random_spd(22, 4), "list"),
)

_BIG = _random_spd(60, 60)
_BIG_INTS = _random_int_spd(61, 60)
_MID = _random_spd(7, 6)

EDGE = (
    # Ill-conditioned: Hilbert 8..12 are still numerically positive definite (last pivot of
    # hilbert(12) is ~9e-14, far above the rounding noise).
    _ok(_hilbert(8), label="factor(hilbert(8))"),
    _ok(_hilbert(10), "ndarray", label="factor(hilbert(10))"),
    _ok(_hilbert(12), label="factor(hilbert(12))"),
    # Near-singular on either side of definiteness.
    _ok([[1.0, 1.0], [1.0, 1.0 + 1e-10]]),
    _err([[1.0, 1.0], [1.0, 1.0 - 1e-10]]),
    _ok([[1e-20, 0.0], [0.0, 1.0]]),
    # Huge and tiny scales.
    _ok(_scaled(_MID, 1e150), label="factor(spd 6x6 * 1e150)"),
    _ok(_scaled(_MID, 1e300), "ndarray", label="factor(spd 6x6 * 1e300)"),
    _ok(_scaled(_MID, 1e-150), label="factor(spd 6x6 * 1e-150)"),
    _ok(_scaled(_MID, 1e-300), "ndarray", label="factor(spd 6x6 * 1e-300)"),
    _ok(_perturbed(_scaled(_MID, 1e150), 3, 1, 1e138), label="factor(spd 6x6 * 1e150, asymmetry 1e138)"),
    _err(_perturbed(_scaled(_MID, 1e150), 3, 1, 1e143), label="factor(spd 6x6 * 1e150, asymmetry 1e143)"),
    # Size stress with a time bound.
    _ok(_BIG, label="factor(random spd 60x60 list)", seconds=5.0),
    _ok(_BIG_INTS, "int_ndarray", label="factor(random spd 60x60 int array)", seconds=5.0),
)

TASK = Task(
    task_id="numerical_linear_algebra/cholesky",
    title="Cholesky factorisation",
    instructions=INSTRUCTIONS,
    unit_dir=Path(__file__).resolve().parent,
    invariants=INVARIANTS,
    differential=DIFFERENTIAL,
    properties=PROPERTIES,
    fuzz=FUZZ,
    edge=EDGE,
    semantic=SemanticRules(functions=(Signature("cholesky", ("A",)),)),
)
