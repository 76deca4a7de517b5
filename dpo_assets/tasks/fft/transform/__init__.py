"""Task unit: fft/transform (forward and inverse discrete Fourier transform)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

from dpo_assets.sandbox.outcome import Call, Observation
from dpo_assets.tasks import checks
from dpo_assets.tasks.base import Case, DifferentialCase, PropertySpec, SemanticRules, Signature, Task
from dpo_assets.tasks.fft.transform.harness import as_kind, make_values

INSTRUCTIONS = """\
Implement, in one module, the discrete Fourier transform and its inverse:

```python
def fft(x) -> list[complex]
def ifft(X) -> list[complex]
```

`x` is a non-empty sequence of real or complex numbers (a list, tuple or 1-D numpy array).
`fft` is the unnormalised forward DFT, `X[k] = sum_n x[n] * exp(-2j*pi*k*n/N)`; `ifft` is the
inverse with the `1/N` factor, so `ifft(fft(x)) ≈ x`. Both return a `list` of `complex` of
length `N`, agree with `numpy.fft` to within `1e-9 * N * max(1, max|x|)`, work for every
`N >= 1` (not only powers of two), and never return NaN/Inf for finite input. For `N` a
power of two up to 4096 each call finishes within one second (an O(N log N) algorithm).
Empty input → `ValueError`. The input is not mutated.
"""

# numpy.fft as it was when this module was imported: a candidate that rebinds numpy.fft in a
# process shared with the judge (the in-process executor) cannot change the expected values.
_NP_FFT = np.fft.fft
_NP_IFFT = np.fft.ifft

TIME_BOUND = 1.0  # seconds per call for power-of-two N up to 4096 (the contract)
# Slack for the runtime's own clock around a driver call (input building, tolist), used
# only as a cross-check of the driver's timing, which a candidate could try to fake.
CLOCK_SLACK = 0.5


# ---------------------------------------------------------------- judging helpers (parent)


def tolerance(values: list) -> float:
    """The contract's bound ``1e-9 * N * max(1, max|x|)`` for input ``values``."""
    scale = max([1.0] + [abs(complex(v)) for v in values])
    return 1e-9 * len(values) * scale


def expected(values: list, inverse: bool) -> list[complex]:
    """``numpy.fft``'s answer, as plain complex numbers."""
    data = np.asarray(values, dtype=complex)
    out = _NP_IFFT(data) if inverse else _NP_FFT(data)
    return [complex(v) for v in out.tolist()]


def close_to(got: Any, want: list[complex], tol: float, what: str = "result") -> str | None:
    """``got`` is a plain list of finite plain complex, elementwise within ``tol`` of ``want``."""
    reason = checks.complex_list(got, len(want))
    if reason:
        return f"{what}: {reason}"
    for i, (g, w) in enumerate(zip(got, want)):
        if not abs(g - w) <= tol:
            return f"{what}[{i}]: expected {w!r}, got {g!r} (tolerance {tol:.3g})"
    return None


def unchanged(after: Any, values: list, kind: str) -> str | None:
    """The input, read back after the call, is exactly what was passed in."""
    before = as_kind(kind, values)
    want = before.tolist() if kind == "ndarray" else list(before)
    if checks.same_plain(after, want):
        return "the input was mutated"
    return None


def fast(seconds: Any, runtime_seconds: float, calls: int = 1) -> str | None:
    """Each timed call took at most ``TIME_BOUND``; the runtime's clock agrees."""
    if type(seconds) is not float or not math.isfinite(seconds) or seconds < 0:
        return f"driver timing unusable: {seconds!r}"
    # Reasons name the bound, not the measured time, so that verdicts are reproducible.
    if seconds > TIME_BOUND:
        return f"call took more than the {TIME_BOUND} s bound for power-of-two N <= 4096"
    if runtime_seconds > calls * TIME_BOUND + CLOCK_SLACK:
        return f"driver call took more than {calls * TIME_BOUND + CLOCK_SLACK} s by the runtime's clock"
    return None


def _first(*reasons: str | None) -> str | None:
    return next((r for r in reasons if r), None)


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def judge_transform(
    values: list, kind: str, inverse: bool, obs: Observation, timed: bool = False
) -> str | None:
    """Judge one ``transform`` observation of ``values`` against numpy.fft."""
    name = "ifft" if inverse else "fft"
    if obs.raised:
        return f"{name} of {len(values)} values {obs.describe()}"
    value = obs.value
    reason = _first(
        close_to(value["result"], expected(values, inverse), tolerance(values), name),
        unchanged(value["input_after"], values, kind),
    )
    if reason is None and timed:
        reason = fast(value["seconds"], obs.seconds)
    return reason


def judge_round_trip(values: list, kind: str, obs: Observation, timed: bool = False) -> str | None:
    """Judge one ``round_trip`` observation: fft matches numpy, ifft(fft(x)) ≈ x."""
    if obs.raised:
        return f"round trip of {len(values)} values {obs.describe()}"
    value = obs.value
    tol = tolerance(values)
    reason = _first(
        close_to(value["forward"], expected(values, False), tol, "fft"),
        close_to(value["back"], [complex(v) for v in values], tol, "ifft(fft(x))"),
        unchanged(value["input_after"], values, kind),
    )
    if reason is None and timed:
        reason = _first(
            fast(value["seconds_forward"], obs.seconds, calls=2),
            fast(value["seconds_back"], obs.seconds, calls=2),
        )
    return reason


# ---------------------------------------------------------------- calls and cases


def _call(values: list, kind: str = "list", inverse: bool = False, label: str = "") -> Call:
    return Call("transform", {"values": values, "kind": kind, "inverse": inverse}, label=label)


def _case(values: list, kind: str = "list", inverse: bool = False) -> Case:
    def check(obs: Observation) -> str | None:
        return judge_transform(values, kind, inverse, obs)

    return Case(_call(values, kind, inverse), check)


def _seeded_case(
    n: int, seed: int, kind: str = "list", inverse: bool = False, scale: float = 1.0, real: bool = False
) -> Case:
    values = make_values(n, seed, scale, real)
    timed = _is_power_of_two(n) and n <= 4096
    name = "ifft" if inverse else "fft"
    call = Call(
        "transform_seeded",
        {"n": n, "seed": seed, "kind": kind, "inverse": inverse, "scale": scale, "real": real},
        label=f"{name}(seeded n={n}, seed={seed}, kind={kind}, scale={scale:g}, real={real})",
    )

    def check(obs: Observation) -> str | None:
        return judge_transform(values, kind, inverse, obs, timed=timed)

    return Case(call, check)


def _round_trip_case(values: list, kind: str = "list") -> Case:
    def check(obs: Observation) -> str | None:
        return judge_round_trip(values, kind, obs)

    return Case(Call("round_trip", {"values": values, "kind": kind}), check)


def _seeded_round_trip_case(
    n: int, seed: int, kind: str = "list", scale: float = 1.0, real: bool = False
) -> Case:
    values = make_values(n, seed, scale, real)
    timed = _is_power_of_two(n) and n <= 4096
    call = Call(
        "round_trip_seeded",
        {"n": n, "seed": seed, "kind": kind, "scale": scale, "real": real},
        label=f"ifft(fft(seeded n={n}, seed={seed}, kind={kind}, scale={scale:g}, real={real}))",
    )

    def check(obs: Observation) -> str | None:
        return judge_round_trip(values, kind, obs, timed=timed)

    return Case(call, check)


# ---------------------------------------------------------------- layer 1: invariants

INVARIANTS = (
    _case([1, 2, 3, 4]),
    _case([1, 2, 3, 4], inverse=True),
    _case([1.5]),
    _case([2j], inverse=True),
    _case([1 + 1j, -2.0, 0.5j]),
    _case([3 - 1j, 2.0, -1 + 4j, 0.25, 5j], kind="tuple", inverse=True),
    _case([1 + 2j, -1.5, 0.5 - 0.5j, 3j, 2.0, -2 - 1j, 0.0, 4 + 4j], kind="ndarray"),
    _case([0.5, -1.0, 2.0, 3.5, -4.0, 1.0], kind="ndarray", inverse=True),
    _case([complex(k % 5 - 2, (k * 7) % 3 - 1) for k in range(12)]),
    _case([complex(k, -k * k / 8) for k in range(16)], inverse=True),
)


# ---------------------------------------------------------------- layer 2: differential


def _against_reference(n: int, seed: int, real: bool) -> Any:
    values = make_values(n, seed, 1.0, real)
    tol = tolerance(values)

    def compare(cand: Observation, ref: Observation) -> str | None:
        if ref.raised:  # pragma: no cover - the reference never raises on these cases
            return checks.same_as_reference(cand, ref)
        if cand.raised:
            return f"reference returned {n} values, candidate {cand.describe()}"
        want = [complex(v) for v in ref.value["result"]]
        return _first(
            close_to(cand.value["result"], want, tol, "result vs reference"),
            "the input was mutated"
            if checks.same_plain(cand.value["input_after"], ref.value["input_after"])
            else None,
        )

    return compare


def _differential(n: int, seed: int, kind: str, inverse: bool, real: bool = False) -> DifferentialCase:
    call = Call(
        "transform_seeded",
        {"n": n, "seed": seed, "kind": kind, "inverse": inverse, "scale": 1.0, "real": real},
        label=f"{'ifft' if inverse else 'fft'}(seeded n={n}, seed={seed}, kind={kind}, real={real})",
    )
    return DifferentialCase(call, _against_reference(n, seed, real))


DIFFERENTIAL = tuple(
    _differential(n, 100 + i, kind, inverse, real)
    for i, (n, kind, inverse, real) in enumerate(
        [
            (1, "list", False, True),
            (2, "tuple", True, False),
            (3, "ndarray", False, False),
            (4, "list", True, True),
            (5, "list", False, False),
            (6, "tuple", False, True),
            (7, "ndarray", True, False),
            (8, "list", False, False),
            (9, "list", True, False),
            (12, "ndarray", False, True),
            (15, "list", False, False),
            (16, "tuple", True, False),
            (17, "list", False, False),
            (30, "ndarray", True, False),
            (31, "list", False, True),
            (32, "list", False, False),
            (64, "ndarray", True, False),
            (100, "list", False, False),
            (127, "tuple", True, False),
            (128, "list", False, True),
            (243, "list", False, False),
            (256, "ndarray", True, False),
        ]
    )
)


# ---------------------------------------------------------------- layer 3: properties

_REAL = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.integers(-1000, 1000))
_COMPLEX = st.complex_numbers(max_magnitude=1e6, allow_nan=False, allow_infinity=False)
_NUMBER = st.one_of(_COMPLEX, _REAL)
_KIND = st.sampled_from(["list", "tuple", "ndarray"])


def _property_transform(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    return judge_transform(list(kwargs["values"]), kwargs["kind"], kwargs["inverse"], obs)


def _property_seeded(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    values = make_values(kwargs["n"], kwargs["seed"], kwargs["scale"], kwargs["real"])
    return judge_transform(values, kwargs["kind"], kwargs["inverse"], obs)


def _property_round_trip(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    return judge_round_trip(list(kwargs["values"]), kwargs["kind"], obs)


def _transform_property(name: str, values: Any, kind: Any = _KIND, inverse: Any = None) -> PropertySpec:
    inverse = st.booleans() if inverse is None else inverse
    strategy = st.fixed_dictionaries({"values": values, "kind": kind, "inverse": inverse})
    return PropertySpec(name, "transform", strategy, _property_transform)


# Each property aims at one class of inputs, so that a defect confined to that class is
# found by most of its examples (Hypothesis' draws vary with the importing process).
PROPERTIES = (
    _transform_property(
        "fft agrees with numpy.fft.fft", st.lists(_NUMBER, min_size=1, max_size=40), inverse=st.just(False)
    ),
    _transform_property(
        "ifft agrees with numpy.fft.ifft", st.lists(_NUMBER, min_size=1, max_size=40), inverse=st.just(True)
    ),
    PropertySpec(
        "ifft(fft(x)) recovers x",
        "round_trip",
        st.fixed_dictionaries({"values": st.lists(_NUMBER, min_size=1, max_size=40), "kind": _KIND}),
        _property_round_trip,
    ),
    PropertySpec(
        "every length 1..300 agrees with numpy.fft",
        "transform_seeded",
        st.fixed_dictionaries(
            {
                "n": st.integers(1, 300),
                "seed": st.integers(0, 2**31 - 1),
                "kind": _KIND,
                "inverse": st.booleans(),
                "scale": st.sampled_from([1.0, 1e-3, 1e3, 1e8]),
                "real": st.booleans(),
            }
        ),
        _property_seeded,
    ),
    _transform_property(
        "length one: the value itself, as complex", st.lists(_NUMBER, min_size=1, max_size=1)
    ),
    _transform_property(
        "real input of power-of-two length",
        st.sampled_from([2, 4, 8, 16, 32]).flatmap(lambda n: st.lists(_REAL, min_size=n, max_size=n)),
    ),
    _transform_property(
        "complex ndarray input is left untouched",
        st.lists(_COMPLEX, min_size=1, max_size=40),
        kind=st.just("ndarray"),
    ),
)


# ---------------------------------------------------------------- layer 4: fuzz

_EMPTY = tuple(
    Case(_call([], kind, inverse), checks.raises("builtins.ValueError"))
    for kind in ("list", "tuple", "ndarray")
    for inverse in (False, True)
)

FUZZ = (
    *_EMPTY,
    _case([0.0]),
    _case([0j] * 6),
    _case([0] * 8, inverse=True),
    _case([0.0] * 5, kind="ndarray"),
    _case([7]),
    _case([7], kind="ndarray", inverse=True),
    _case([3 + 4j], kind="ndarray"),
    _case([-2.5], kind="tuple", inverse=True),
    _case([1, -1]),
    _case([1, -1], inverse=True),
    _case([3, 1, 4, 1, 5, 9, 2, 6], kind="ndarray"),
    _case([3, 1, 4, 1, 5, 9, 2], inverse=True),
    _case([1, 2.5, 3j, -4 - 1j, 0, 6], kind="tuple"),
    _case([complex(k % 3, -(k % 4)) for k in range(9)]),
    _case([complex(k % 3, -(k % 4)) for k in range(9)], inverse=True),
    _case([complex(k * 0.5, 1 - k) for k in range(16)], kind="ndarray", inverse=True),
    _case([complex(k * 0.5, 1 - k) for k in range(10)], kind="ndarray", inverse=True),
    _case([complex(k * 0.5, 1 - k) for k in range(10)], kind="ndarray"),
    _case([float(k * k) for k in range(8)], kind="ndarray"),
    _case([1.0] + [0.0] * 10),
    _case([2.0] * 13, inverse=True),
    _case([-0.0, 0.0, -0.0]),
)


# ---------------------------------------------------------------- layer 7: edge

EDGE = (
    # time bounds for power-of-two N up to 4096 (each call within one second); the N = 4096
    # round trip below times a forward and an inverse transform of a list as well
    _seeded_case(4096, 2, kind="ndarray", inverse=True),
    _seeded_case(4096, 19, kind="tuple", real=True),
    _seeded_case(2048, 3, kind="tuple", real=True),
    _seeded_case(1024, 4, kind="ndarray", real=True),
    _seeded_case(512, 5, inverse=True),
    # round trips up to N = 4096
    _seeded_round_trip_case(4096, 6),
    _seeded_round_trip_case(1024, 7, kind="ndarray"),
    _seeded_round_trip_case(360, 8),
    _seeded_round_trip_case(97, 9, kind="tuple"),
    _seeded_round_trip_case(257, 10, kind="ndarray", real=True),
    _round_trip_case([5 - 5j]),
    _round_trip_case([1, 2]),
    # extreme magnitudes: results stay finite and within the relative bound
    _seeded_case(8, 11, scale=1e300),
    _seeded_case(12, 12, scale=1e300, inverse=True),
    _seeded_case(5, 13, kind="ndarray", scale=1e300),
    _seeded_round_trip_case(7, 14, scale=1e300),
    _seeded_round_trip_case(16, 15, scale=1e300, real=True),
    _seeded_case(16, 16, scale=1e-300),
    _seeded_case(7, 17, scale=1e-300, inverse=True),
    _case([5e-324, -5e-324, 1e-310, 0.0]),
    _case([1e300, 1e-300, -1e300, 1.0, 0.0, 1e-300j]),
    _case([1e300j, -1e300, 1e300 + 1e300j], inverse=True),
    _case([10**15, -(10**15), 3, 10**15 + 1]),
    _case([1e300]),
)

TASK = Task(
    task_id="fft/transform",
    title="Forward and inverse FFT for every length",
    instructions=INSTRUCTIONS,
    unit_dir=Path(__file__).resolve().parent,
    invariants=INVARIANTS,
    differential=DIFFERENTIAL,
    properties=PROPERTIES,
    fuzz=FUZZ,
    edge=EDGE,
    semantic=SemanticRules(functions=(Signature("fft", ("x",)), Signature("ifft", ("X",)))),
    # A round trip is two transforms, each bounded by TIME_BOUND: past this it cannot pass
    # (and an O(N^2) candidate that fakes the per-call clocks is stopped here).
    edge_call_seconds=2 * TIME_BOUND,
)
