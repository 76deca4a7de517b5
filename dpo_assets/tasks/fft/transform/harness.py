"""Drivers for fft/transform: call the candidate, return raw results (no judgement).

Every driver times each candidate call itself with ``time.perf_counter`` (captured when
this module is imported) and returns the seconds as data; the parent enforces the bound
and cross-checks it against the runtime's own clock.
"""

from __future__ import annotations

import random
import time

import numpy as np

_clock = time.perf_counter


def make_values(n: int, seed: int, scale: float = 1.0, real: bool = False) -> list:
    """The seeded test signal ``(n, seed)`` stands for (also used by the parent)."""
    rng = random.Random(seed)
    if real:
        return [rng.uniform(-scale, scale) for _ in range(n)]
    return [complex(rng.uniform(-scale, scale), rng.uniform(-scale, scale)) for _ in range(n)]


def as_kind(kind: str, values: list):
    """``values`` as the container ``kind`` names: list, tuple or ndarray (natural dtype)."""
    if kind == "tuple":
        return tuple(values)
    if kind == "ndarray":
        return np.array(values) if values else np.array([], dtype=float)
    return list(values)


def _after(kind: str, data) -> list:
    return data.tolist() if kind == "ndarray" else list(data)


def _timed(func, data):
    started = _clock()
    result = func(data)
    return result, _clock() - started


def transform(solution, values: list, kind: str = "list", inverse: bool = False):
    """``fft`` (or ``ifft``) of ``values`` given as ``kind``; reports the input afterwards."""
    data = as_kind(kind, values)
    func = solution.ifft if inverse else solution.fft
    result, seconds = _timed(func, data)
    return {"result": result, "input_after": _after(kind, data), "seconds": seconds}


def transform_seeded(
    solution, n: int, seed: int, kind: str = "list", inverse: bool = False, scale: float = 1.0,
    real: bool = False,
):
    """``transform`` of the seeded signal ``make_values(n, seed, scale, real)``."""
    return transform(solution, make_values(n, seed, scale, real), kind, inverse)


def round_trip(solution, values: list, kind: str = "list"):
    """``ifft(fft(x))``: both results, both timings, and the input afterwards."""
    data = as_kind(kind, values)
    forward, seconds_forward = _timed(solution.fft, data)
    back, seconds_back = _timed(solution.ifft, forward)
    return {
        "forward": forward,
        "back": back,
        "input_after": _after(kind, data),
        "seconds_forward": seconds_forward,
        "seconds_back": seconds_back,
    }


def round_trip_seeded(
    solution, n: int, seed: int, kind: str = "list", scale: float = 1.0, real: bool = False
):
    """``round_trip`` of the seeded signal ``make_values(n, seed, scale, real)``."""
    return round_trip(solution, make_values(n, seed, scale, real), kind)
