"""pytest suite for pytest_traceback_repair/moving_average (imports the candidate as ``solution``)."""

import math

import numpy as np
import pytest

from solution import moving_average


def test_simple_windows():
    assert moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]


def test_window_of_one_is_identity():
    assert moving_average([4, -1, 7], 1) == [4.0, -1.0, 7.0]


def test_full_length_window_gives_one_mean():
    assert moving_average([2, 4, 6], 3) == [4.0]


def test_window_longer_than_values_gives_empty():
    assert moving_average([1, 2], 3) == []
    assert moving_average([], 1) == []


@pytest.mark.parametrize("window", [0, -1])
def test_bad_window_raises(window):
    with pytest.raises(ValueError):
        moving_average([1, 2, 3], window)


def test_results_are_floats():
    result = moving_average([1, 2, 3], 2)
    assert all(type(x) is float for x in result)


def test_accepts_tuple_and_numpy():
    assert moving_average((1, 3, 5), 2) == [2.0, 4.0]
    assert moving_average(np.array([1.0, 3.0, 5.0]), 2) == [2.0, 4.0]


def test_does_not_mutate_input():
    values = [3, 1, 4, 1, 5]
    moving_average(values, 2)
    assert values == [3, 1, 4, 1, 5]


def test_length_formula():
    for n in range(0, 8):
        for window in range(1, 9):
            assert len(moving_average(list(range(n)), window)) == max(0, n - window + 1)


def test_matches_naive_mean():
    values = [0.1 * i * i - 3 for i in range(20)]
    got = moving_average(values, 5)
    for i, mean in enumerate(got):
        assert math.isclose(mean, sum(values[i:i + 5]) / 5, rel_tol=1e-9, abs_tol=1e-12)
