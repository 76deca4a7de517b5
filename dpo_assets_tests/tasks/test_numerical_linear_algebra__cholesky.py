"""Task unit numerical_linear_algebra/cholesky: the reference passes its material, defects are caught."""

from __future__ import annotations

import numpy as np
import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate import engine
from dpo_assets.sandbox.executor import InProcessExecutor
from dpo_assets.sandbox.outcome import Observation
from dpo_assets.tasks import get_task
from dpo_assets.tasks.numerical_linear_algebra import cholesky as unit
from dpo_assets.tasks.numerical_linear_algebra.cholesky import material

TASK_ID = "numerical_linear_algebra/cholesky"
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
    assert len(task.differential) >= 8
    assert len(task.properties) >= 2
    assert len(task.fuzz) >= 20
    assert len(task.edge) >= 10
    assert [s.name for s in task.semantic.functions] == ["cholesky"]


@pytest.mark.parametrize("index", range(len(unit.DIFF_MATRICES)))
def test_differential_matrices_are_exactly_symmetric_and_well_conditioned(index):
    A, _ = unit.DIFF_MATRICES[index]
    M = np.array(A, dtype=float)
    assert np.array_equal(M, M.T)
    assert np.linalg.cond(M) < 1e4


def test_hilbert_12_is_numerically_definite():
    H = np.array(unit._hilbert(12))
    L = np.zeros((12, 12))
    pivots = []
    for j in range(12):
        d = H[j, j] - L[j, :j] @ L[j, :j]
        pivots.append(d)
        L[j, j] = np.sqrt(d)
        L[j + 1 :, j] = (H[j + 1 :, j] - L[j + 1 :, :j] @ L[j, :j]) / L[j, j]
    assert min(pivots) > 1e-14  # ~9e-14, two orders above the rounding noise


def test_symmetry_fuzz_cases_sit_clearly_on_their_side():
    tol = material.SYMMETRY_RTOL
    for A, inside in [
        (unit._perturbed(unit._SPD3, 1, 0, 3e-11), True),
        (unit._perturbed(unit._SPD3_BIG, 2, 1, 3e-5), True),
        (unit._perturbed(unit._SPD3_SMALL, 2, 0, 3e-11), True),
        (unit._perturbed(unit._SPD3, 0, 2, 1e-9), False),
        (unit._perturbed(unit._SPD3_SMALL, 1, 0, 5e-10), False),
    ]:
        M = np.array(A)
        ratio = np.max(np.abs(M - M.T)) / (tol * max(1.0, np.max(np.abs(M))))
        assert (ratio < 0.5) if inside else (ratio > 2.0)


def test_definiteness_property_accepts_either_answer_only_when_borderline():
    semidefinite = {"A": [[1, 1], [1, 1]], "kind": "list"}
    raised = Observation(error_type="builtins.ValueError", error_mro=("builtins.ValueError",))
    other = Observation(error_type="builtins.ZeroDivisionError", error_mro=("builtins.ZeroDivisionError",))
    assert material.property_definiteness(semidefinite, raised) is None
    assert material.property_definiteness(semidefinite, other) is not None
    indefinite = {"A": [[1, 2], [2, 1]], "kind": "list"}
    returned = Observation(value={"result": np.eye(2), "input_after": [[1, 2], [2, 1]]})
    assert material.property_definiteness(indefinite, returned) is not None


@pytest.mark.parametrize(
    "defect,category",
    [
        ("returns_upper_triangular", "invariants"),
        ("mutates_input", "invariants"),
        ("returns_nested_list", "invariants"),
        ("keeps_integer_dtype", "invariants"),
        ("float32_result", "invariants"),
        ("upper_part_not_zeroed", "invariants"),
        ("inner_sum_off_by_one", "invariants"),
        ("diagonal_ignores_previous_columns", "invariants"),
        ("off_diagonal_divides_by_a_diagonal", "invariants"),
        ("abs_hides_negative_pivot", "fuzz"),
        ("sqrt_of_negative_gives_nan", "fuzz"),
        ("semidefinite_accepted_strict_less", "fuzz"),
        ("relies_on_math_sqrt_domain_error", "fuzz"),
        ("no_symmetry_check", "fuzz"),
        ("symmetry_check_exact", "fuzz"),
        ("symmetry_check_allclose_too_loose", "fuzz"),
        ("symmetry_tolerance_unscaled", "fuzz"),
        ("symmetry_tolerance_relative_only", "fuzz"),
        ("empty_matrix_not_rejected", "fuzz"),
        ("no_square_check", "fuzz"),
        ("typeerror_on_non_2d_input", "fuzz"),
        ("delegates_without_symmetry_check", "fuzz"),
        ("pd_check_via_determinant", "fuzz"),
        ("pd_check_first_pivot_only", "fuzz"),
        ("zero_pivot_not_rejected", "fuzz"),
        ("pd_absolute_threshold", "edge"),
        ("sylvester_determinants_underflow", "edge"),
        ("abs_hides_negative_pivot", "properties"),
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
    "sample_id, old, new",
    [
        # the symmetry tolerance made exclusive: an asymmetry of exactly the tolerance is refused.
        ("cholesky-correct-02", "if np.max(np.abs(A - A.T)) > 1e-10", "if np.max(np.abs(A - A.T)) >= 1e-10"),
        ("cholesky-correct-07", "np.abs(M - M.T) <= 1e-10", "np.abs(M - M.T) < 1e-10"),
        (
            "cholesky-correct-10",
            "return bool(np.max(np.abs(M - M.T)) <= tolerance)",
            "return bool(np.max(np.abs(M - M.T)) < tolerance)",
        ),
    ],
)
def test_material_rejects_certified_mutant(task, sample_id, old, new):
    code = load_samples(TASK_ID)[sample_id]["code"]
    assert code.count(old) == 1
    found = _violations(task, code.replace(old, new), "fuzz")
    assert any("asymmetry == 1e-10" in line for line in found), found[:3]


def test_boundary_asymmetry_is_exactly_the_tolerance():
    for A in ([[1.0, 0.0], [1e-10, 1.0]], [[2.0, 0.0], [2e-10, 2.0]]):
        M = np.array(A)
        assert np.max(np.abs(M - M.T)) == material.SYMMETRY_RTOL * max(1.0, np.max(np.abs(M)))


def test_material_rejects_certified_mutant_with_a_raised_tolerance_floor(task):
    # max(1, max|A|) -> max(2, max|A|): an asymmetry of 1.5e-10 with max|A| <= 1 is let through.
    code = load_samples(TASK_ID)["cholesky-correct-06"]["code"]
    old = "scale = max(1.0, np.max(np.abs(M)))"
    assert code.count(old) == 1
    found = _violations(task, code.replace(old, "scale = max(2.0, np.max(np.abs(M)))"), "fuzz")
    assert any("asymmetry == 1.5e-10" in line for line in found), found[:3]


def test_one_and_a_half_tolerance_cases_sit_clearly_beyond_it():
    for A in ([[1.0, 0.0], [1.5e-10, 1.0]], unit._perturbed(unit._SPD3_SMALL, 1, 0, 1.5e-10)):
        M = np.array(A)
        ratio = np.max(np.abs(M - M.T)) / (material.SYMMETRY_RTOL * max(1.0, np.max(np.abs(M))))
        assert 1.4 < ratio < 1.6  # beyond the contract's tolerance, inside a doubled one


@pytest.mark.parametrize(
    "old, new",
    [
        # the square check made vacuous (change_constant 1 -> 0) or deleted outright: a 1 x n matrix
        # with equal entries passes the broadcast symmetry test and factors as 1 x 1.
        ("if M.shape[0] != M.shape[1]:", "if M.shape[0] != M.shape[0]:"),
        ('    if M.shape[0] != M.shape[1]:\n        raise ValueError("A must be square")\n', ""),
    ],
)
def test_material_rejects_certified_mutant_without_a_square_check(task, old, new):
    code = load_samples(TASK_ID)["cholesky-correct-06"]["code"]
    assert code.count(old) == 1
    found = _violations(task, code.replace(old, new), "fuzz")
    assert any("equal entries" in line for line in found), found[:3]


def test_equal_entry_non_square_cases_pass_the_broadcast_symmetry_test():
    for A in ([[1.0, 1.0]], [[2.0], [2.0]]):
        M = np.array(A)
        assert M.shape[0] != M.shape[1] and np.max(np.abs(M - M.T)) == 0.0
