"""pytest suite for fft/transform (imports the candidate as ``solution``)."""

import cmath
import math
import random

import numpy as np
import pytest

from solution import fft, ifft


def _tol(x):
    return 1e-9 * len(x) * max([1.0] + [abs(complex(v)) for v in x])


def _signal(n, seed=0, real=False):
    rng = random.Random(seed)
    if real:
        return [rng.uniform(-1, 1) for _ in range(n)]
    return [complex(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in range(n)]


def _naive(x, sign=-1):
    n = len(x)
    return [
        sum(complex(x[j]) * cmath.exp(sign * 2j * math.pi * j * k / n) for j in range(n)) for k in range(n)
    ]


def _assert_close(got, want, tol):
    assert type(got) is list
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert type(g) is complex
        assert math.isfinite(g.real) and math.isfinite(g.imag)
        assert abs(g - complex(w)) <= tol, (g, w, tol)


def test_fft_of_small_known_vector():
    _assert_close(fft([1, 2, 3, 4]), [10, -2 + 2j, -2, -2 - 2j], 1e-12)


def test_ifft_of_small_known_vector():
    _assert_close(ifft([10, -2 + 2j, -2, -2 - 2j]), [1, 2, 3, 4], 1e-12)


def test_impulse_gives_flat_spectrum():
    _assert_close(fft([1.0] + [0.0] * 7), [1.0] * 8, 1e-12)


def test_constant_gives_single_peak():
    _assert_close(fft([2.0] * 6), [12.0] + [0.0] * 5, 1e-12)
    _assert_close(ifft([2.0] * 5), [2.0] + [0.0] * 4, 1e-12)


@pytest.mark.parametrize("x", [[5], [2.5], [3 - 4j], [0]])
def test_length_one_is_identity(x):
    _assert_close(fft(x), [complex(x[0])], 0.0)
    _assert_close(ifft(x), [complex(x[0])], 0.0)


# Lengths 1-33 in one test each (one pytest item per length would cost more than the checks).
@pytest.mark.parametrize("lengths", [range(1, 17), range(17, 34)], ids=["n1-16", "n17-33"])
def test_fft_and_ifft_match_numpy_for_small_lengths(lengths):
    for n in lengths:
        x = _signal(n, seed=n)
        _assert_close(fft(x), np.fft.fft(x), _tol(x))
        x = _signal(n, seed=1000 + n)
        _assert_close(ifft(x), np.fft.ifft(x), _tol(x))


@pytest.mark.parametrize("n", [48, 60, 64, 81, 97, 100, 125, 127, 128, 210, 243, 255, 256])
def test_fft_matches_numpy_for_every_length(n):
    x = _signal(n, seed=n)
    _assert_close(fft(x), np.fft.fft(x), _tol(x))


@pytest.mark.parametrize("n", [49, 64, 77, 96, 101, 128, 243, 256])
def test_ifft_matches_numpy_for_every_length(n):
    x = _signal(n, seed=1000 + n)
    _assert_close(ifft(x), np.fft.ifft(x), _tol(x))


@pytest.mark.parametrize("n", [3, 5, 6, 7, 10, 12])
def test_matches_definition(n):
    x = _signal(n, seed=7 * n)
    _assert_close(fft(x), _naive(x), _tol(x))
    _assert_close(ifft(x), [v / n for v in _naive(x, sign=1)], _tol(x))


@pytest.mark.parametrize("n", [1, 2, 3, 8, 11, 16, 45, 64, 100, 1024])
def test_round_trip(n):
    x = _signal(n, seed=2000 + n)
    back = ifft(fft(x))
    _assert_close(back, x, _tol(x))


@pytest.mark.parametrize("n", [4, 6, 9, 32])
def test_real_input_has_hermitian_spectrum(n):
    x = _signal(n, seed=n, real=True)
    spectrum = fft(x)
    for k in range(n):
        assert abs(spectrum[k] - spectrum[-k % n].conjugate()) <= _tol(x)


def test_integer_input():
    x = [3, 1, 4, 1, 5, 9, 2, 6, 5]
    _assert_close(fft(x), np.fft.fft(x), _tol(x))
    _assert_close(ifft(x), np.fft.ifft(x), _tol(x))


@pytest.mark.parametrize("n", [5, 8])
def test_accepts_tuple(n):
    x = tuple(_signal(n, seed=3))
    _assert_close(fft(x), np.fft.fft(x), _tol(x))
    _assert_close(ifft(x), np.fft.ifft(x), _tol(x))


@pytest.mark.parametrize("dtype", [complex, float, np.int64])
@pytest.mark.parametrize("n", [1, 6, 16])
def test_accepts_numpy_arrays(dtype, n):
    raw = _signal(n, seed=5, real=dtype is not complex)
    x = np.array([v * 10 for v in raw]).astype(dtype)
    _assert_close(fft(x), np.fft.fft(x), _tol(x))
    _assert_close(ifft(x), np.fft.ifft(x), _tol(x))


@pytest.mark.parametrize("make", [list, tuple, np.array])
def test_empty_raises(make):
    with pytest.raises(ValueError):
        fft(make([]))
    with pytest.raises(ValueError):
        ifft(make([]))


@pytest.mark.parametrize("n", [7, 8])
def test_does_not_mutate_inputs(n):
    x = _signal(n, seed=11)
    x_copy = list(x)
    fft(x)
    ifft(x)
    assert x == x_copy
    arr = np.array(x)
    fft(arr)
    ifft(arr)
    assert arr.tolist() == x_copy


def test_zeros_stay_zero():
    for n in (1, 5, 8):
        _assert_close(fft([0.0] * n), [0.0] * n, 0.0)
        _assert_close(ifft([0j] * n), [0.0] * n, 0.0)


def test_large_and_tiny_magnitudes_stay_finite():
    big = [v * 1e300 for v in _signal(12, seed=1)]
    _assert_close(fft(big), np.fft.fft(big), _tol(big))
    _assert_close(ifft(big), np.fft.ifft(big), _tol(big))
    tiny = [v * 1e-300 for v in _signal(8, seed=2)]
    _assert_close(fft(tiny), np.fft.fft(tiny), _tol(tiny))


def test_linearity():
    x, y = _signal(20, seed=1), _signal(20, seed=2)
    combo = [2 * a - 3j * b for a, b in zip(x, y)]
    fx, fy = fft(x), fft(y)
    _assert_close(fft(combo), [2 * a - 3j * b for a, b in zip(fx, fy)], 5 * _tol(combo))


def test_large_power_of_two_matches_numpy():  # N = 4096 and its time bound: the gate's layer 7
    x = _signal(1024, seed=99)
    _assert_close(fft(x), np.fft.fft(x), _tol(x))
    _assert_close(ifft(x), np.fft.ifft(x), _tol(x))
