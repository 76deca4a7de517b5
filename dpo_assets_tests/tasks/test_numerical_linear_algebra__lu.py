"""Task unit numerical_linear_algebra/lu: the reference passes its material, defects are caught."""

from __future__ import annotations

import numpy as np
import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate import engine
from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.tasks import get_task
from dpo_assets.tasks.numerical_linear_algebra import lu as unit
from dpo_assets.tasks.numerical_linear_algebra.lu import reference

TASK_ID = "numerical_linear_algebra/lu"
LAYERS = {"invariants": 1, "differential": 2, "properties": 3, "fuzz": 4, "edge": 7}


@pytest.fixture(scope="module")
def task():
    return get_task(TASK_ID)


def _code_for(defect: str) -> str:
    samples = load_samples(TASK_ID)
    (label,) = [lab for lab in load_labels(TASK_ID).values() if lab["defect"] == defect]
    return samples[label["sample_id"]]["code"]


def _violations(task, source: str, category: str) -> list[str]:
    return [v.line() for v in engine.run_layer(InProcessExecutor(), task, source, LAYERS[category])]


def test_material_is_populated(task):
    assert len(task.invariants) >= 5
    assert len(task.differential) >= 10
    assert len(task.properties) >= 2
    assert len(task.fuzz) >= 20
    assert len(task.edge) >= 10
    assert {s.name for s in task.semantic.functions} == {"lu_decompose", "lu_solve"}


def _pivot_margin(A) -> float:
    """Smallest relative gap between the largest and the runner-up pivot candidate."""
    U = np.array(A, dtype=float)
    n = U.shape[0]
    margin = np.inf
    for k in range(n - 1):
        col = np.sort(np.abs(U[k:, k]))[::-1]
        margin = min(margin, (col[0] - col[1]) / col[0])
        p = k + int(np.argmax(np.abs(U[k:, k])))
        U[[k, p]] = U[[p, k]]
        U[k + 1 :, k:] -= np.outer(U[k + 1 :, k] / U[k, k], U[k, k:])
    return margin


@pytest.mark.parametrize("index", range(len(unit.DIFF_MATRICES)))
def test_differential_matrices_have_no_pivot_near_ties(index):
    A, _ = unit.DIFF_MATRICES[index]
    assert _pivot_margin(A) > 1e-6
    assert np.linalg.cond(np.array(A, dtype=float)) < 1e4


def test_some_differential_permutation_is_not_an_involution():
    perms = [reference.lu_decompose(A)[0] for A, _ in unit.DIFF_MATRICES]
    assert any(not np.array_equal(P, P.T) for P in perms)
    P = reference.lu_decompose(unit.CYCLE)[0]
    assert not np.array_equal(P, P.T)


def _min_pivot(A) -> float:
    _, _, U = reference._factor(np.array(A, dtype=float))
    return float(np.min(np.abs(np.diag(U))))


def test_hilbert_pivots_are_far_from_the_threshold():
    assert _min_pivot(unit._hilbert(8)) > 100 * 1e-12
    assert _min_pivot(unit._hilbert(9)) > 10 * 1e-12
    assert _min_pivot(unit._hilbert(12)) < 1e-12 / 10


@pytest.mark.parametrize(
    "defect,category",
    [
        ("no_pivoting", "invariants"),
        ("pivot_first_nonzero", "invariants"),
        ("pivot_signed_max", "differential"),
        ("l_not_unit_diagonal_crout", "invariants"),
        ("mutates_input", "invariants"),
        ("returns_lists", "invariants"),
        ("keeps_integer_dtype", "invariants"),
        ("permutation_transposed", "invariants"),
        ("solve_ignores_permutation", "invariants"),
        ("u_rounding_residue_below_diagonal", "invariants"),
        ("swaps_full_l_rows", "invariants"),
        ("l_rows_not_swapped", "invariants"),
        ("float32_results", "invariants"),
        ("returns_list_not_tuple", "invariants"),
        ("mutates_b", "invariants"),
        ("solve_returns_column_vector", "invariants"),
        ("divides_by_zero_pivot", "fuzz"),
        ("decompose_raises_on_singular", "fuzz"),
        ("singular_check_exact_zero", "fuzz"),
        ("singular_threshold_unscaled", "fuzz"),
        ("singular_threshold_relative_only", "fuzz"),
        ("singular_threshold_strict_less", "fuzz"),
        ("singular_check_isclose", "fuzz"),
        ("singular_check_determinant", "fuzz"),
        ("singular_check_last_pivot_only", "fuzz"),
        ("solve_bypasses_factorisation", "fuzz"),
        ("accepts_empty_matrix", "fuzz"),
        ("no_square_check", "fuzz"),
        ("b_length_unchecked", "fuzz"),
        ("typeerror_on_non_2d_input", "fuzz"),
        ("singular_check_isclose", "edge"),
        ("singular_threshold_relative_only", "edge"),
    ],
)
def test_material_rejects_defect(task, defect, category):
    assert _violations(task, _code_for(defect), category), f"{category} accepted {defect}"


@pytest.mark.parametrize("index", range(3))
def test_some_correct_candidates_pass_material(task, index):
    correct = [lab["sample_id"] for lab in load_labels(TASK_ID).values() if lab["label"] == "correct"]
    source = load_samples(TASK_ID)[correct[index * 4]]["code"]
    for category in ("invariants", "fuzz", "edge"):
        assert _violations(task, source, category) == []


# ---- certified mutants of correct samples that the material now rejects ------------------------


@pytest.mark.parametrize(
    "sample_id, old, new, needle",
    [
        # a swallowed conversion error: a scalar b crashes with UnboundLocalError.
        ("lu-correct-01", 'raise ValueError("b must be a vector") from None', "pass", "UnboundLocalError"),
        # the shape guard on b deleted: an (n, 1) column b gives an (n, 1) "solution".
        (
            "lu-correct-04",
            '        if rhs.shape != (self.n,):\n            raise ValueError("b must have length n")\n',
            "",
            "expected shape (2,), got (2, 1)",
        ),
    ],
)
def test_material_rejects_certified_mutant(task, sample_id, old, new, needle):
    code = load_samples(TASK_ID)[sample_id]["code"]
    assert code.count(old) == 1
    found = _violations(task, code.replace(old, new), "fuzz")
    assert any(needle in line for line in found), found[:3]


def test_material_rejects_certified_mutant_without_square_check(task):
    # M.shape[0] != M.shape[1] -> M.shape[1] != M.shape[1]: a 1 x 2 A is factored as 1 x 1.
    code = load_samples(TASK_ID)["lu-correct-03"]["code"]
    old = "M.shape[0] != M.shape[1]"
    assert code.count(old) == 1
    found = _violations(task, code.replace(old, "M.shape[1] != M.shape[1]"), "fuzz")
    assert any("(1 x 2): expected ValueError" in line for line in found), found[:3]
