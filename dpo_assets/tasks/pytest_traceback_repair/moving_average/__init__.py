"""Task unit: pytest_traceback_repair/moving_average."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from dpo_assets.sandbox.outcome import Call, Observation
from dpo_assets.tasks import checks
from dpo_assets.tasks.base import Case, DifferentialCase, PropertySpec, SemanticRules, Signature, Task

INSTRUCTIONS = """\
Implement `moving_average(values, window: int) -> list[float]`: the mean of each contiguous
full window of `values`, in order — `len(values) - window + 1` floats, or `[]` when
`window > len(values)`. `window < 1` raises `ValueError`. It works for any sequence of numbers
(list, tuple, numpy array) and does not mutate it.
"""


def _expected(values: list[float], window: int) -> list[float]:
    return [sum(values[i : i + window]) / window for i in range(len(values) - window + 1)]


def _means_close(values: list[float], window: int) -> checks.Check:
    expected = _expected(values, window)

    def check(obs: Observation) -> str | None:
        if obs.raised:
            return f"expected {len(expected)} means, {obs.describe()}"
        reason = checks.float_list(obs.value["result"], len(expected))
        if reason:
            return reason
        scale = max([1.0] + [abs(v) for v in values])
        for i, (got, want) in enumerate(zip(obs.value["result"], expected)):
            if not checks.close(got, want, 1e-9 * scale):
                return f"mean {i}: expected {want!r}, got {got!r}"
        if obs.value["input_after"] != [float(v) for v in values] and obs.value["input_after"] != values:
            return "the input was mutated"
        return None

    return check


def _avg(values: list, window: int, kind: str = "list") -> Call:
    return Call("average", {"values": values, "window": window, "kind": kind})


INVARIANTS = (
    Case(_avg([1, 2, 3, 4], 2), _means_close([1, 2, 3, 4], 2)),
    Case(_avg([5.0], 1), _means_close([5.0], 1)),
    Case(_avg([1, 2], 3), _means_close([1, 2], 3)),
)

DIFFERENTIAL = tuple(
    DifferentialCase(_avg(values, window, kind), checks.same_as_reference)
    for values, window, kind in [
        ([1, 2, 3, 4, 5], 2, "list"),
        ([0.5, -1.5, 2.25, 8.0], 3, "tuple"),
        ([1.0, 3.0, 5.0, 7.0], 1, "ndarray"),
        ([10, 20, 30], 3, "list"),
        ([2, 4], 5, "list"),
    ]
)


def _property_means(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    return _means_close(kwargs["values"], kwargs["window"])(obs)


PROPERTIES = (
    PropertySpec(
        "means of full windows",
        "average",
        st.fixed_dictionaries(
            {
                "values": st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=30),
                "window": st.integers(1, 12),
                "kind": st.sampled_from(["list", "tuple", "ndarray"]),
            }
        ),
        _property_means,
    ),
)

FUZZ = (
    Case(_avg([1, 2, 3], 0), checks.raises("builtins.ValueError")),
    Case(_avg([1, 2, 3], -5), checks.raises("builtins.ValueError")),
    Case(_avg([], 1), _means_close([], 1)),
    Case(_avg([], 3), _means_close([], 3)),
    Case(_avg([7], 1, "ndarray"), _means_close([7], 1)),
    Case(_avg([1, 2, 3], 3, "tuple"), _means_close([1, 2, 3], 3)),
)

_RAMP = [float(i) for i in range(5000)]

EDGE = (
    Case(_avg([1e308, 1e308, -1e308], 1), _means_close([1e308, 1e308, -1e308], 1)),
    # Summed in input order the window stays finite; summing it backwards overflows to inf.
    Case(_avg([-1e308, 1e308, 1e308], 3), _means_close([-1e308, 1e308, 1e308], 3)),
    Case(_avg(_RAMP, 100, "ndarray"), _means_close(_RAMP, 100)),
    Case(_avg([1e-300] * 10, 10), _means_close([1e-300] * 10, 10)),
)

TASK = Task(
    task_id="pytest_traceback_repair/moving_average",
    title="Repair a moving average",
    instructions=INSTRUCTIONS,
    unit_dir=Path(__file__).resolve().parent,
    invariants=INVARIANTS,
    differential=DIFFERENTIAL,
    properties=PROPERTIES,
    fuzz=FUZZ,
    edge=EDGE,
    semantic=SemanticRules(functions=(Signature("moving_average", ("values", "window")),)),
    is_repair=True,
)
