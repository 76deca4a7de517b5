"""Task unit: monte_carlo/metropolis (random-walk Metropolis-Hastings in one dimension)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from dpo_assets.sandbox.outcome import Observation
from dpo_assets.tasks import checks
from dpo_assets.tasks.base import (
    AppendEveryIteration,
    CarryState,
    Case,
    DifferentialCase,
    PropertySpec,
    SemanticRules,
    Signature,
    Task,
)
from dpo_assets.tasks.monte_carlo.metropolis.material import (
    VALUE_ERROR,
    call,
    chain_stats_reason,
    expect,
    hygiene_check,
    judge,
    oracle_check,
    reference_compare,
    stats_check,
)

INSTRUCTIONS = """\
Implement random-walk Metropolis–Hastings on a one-dimensional target given by its log density.
Randomness comes only from the module-level functions of the standard `random` module, in exactly
the order below, so that a seeded run is reproducible call for call.

`proposal(current: float, sigma: float) -> float`
Returns `current + random.gauss(0.0, sigma)` (one `random.gauss` call). `sigma <= 0` (or NaN)
raises `ValueError`.

`acceptance_ratio(log_target, current: float, proposed: float) -> float`
Returns `min(1, exp(log_target(proposed) - log_target(current)))` as a `float` in `[0, 1]`,
computed without overflow for any finite log densities (differences of ±1e6 included).
`log_target(proposed) == -inf` gives `0.0`. `log_target(current) == -inf` with a finite
`log_target(proposed)` gives `1.0`. A NaN log density raises `ValueError`. Calls `log_target`
exactly once per argument. Consumes no randomness.

`metropolis_step(current: float, log_target, sigma: float) -> tuple[float, bool]`
One step: `proposed = proposal(current, sigma)`, then `u = random.random()`, then
`accepted = u < acceptance_ratio(log_target, current, proposed)`. Returns the 2-tuple
`(proposed if accepted else current, accepted)` where `accepted` is a real `bool`.

`mcmc_sample(log_target, initial: float, n_samples: int, sigma: float, burn_in: int = 0) -> list[float]`
Runs `burn_in` steps whose states are discarded, then `n_samples` steps, appending the current
state after every step, accepted or not. Returns a list of exactly `n_samples` floats.
`n_samples == 0` gives `[]`. Negative `n_samples` or `burn_in` raises `ValueError`.
For a standard normal target the chain's mean and variance converge to 0 and 1.
"""


def _case(driver: str, **kwargs: Any) -> Case:
    return Case(call(driver, **kwargs), oracle_check(driver, kwargs))


def _diff(driver: str, **kwargs: Any) -> DifferentialCase:
    return DifferentialCase(call(driver, **kwargs), reference_compare(driver, kwargs))


HYGIENE = Case(call("hygiene"), hygiene_check)

# --------------------------------------------------------------------------- layer 1

INVARIANTS = (
    HYGIENE,
    _case("propose", current=0.0, sigma=1.0, seed=1),
    _case("propose", current=2.5, sigma=0.3, seed=7),
    _case("propose", current=-4.0, sigma=2.0, seed=123),
    _case("ratio", target="std_normal", current=0.0, proposed=1.0),
    _case("ratio", target="std_normal", current=1.0, proposed=0.0),
    _case("ratio", target="std_normal", current=0.5, proposed=0.5),
    _case("ratio", target="bimodal", current=3.0, proposed=0.0),
    _case("ratio", target="shifted_normal", current=3.0, proposed=5.0),
    *(_case("step", target="std_normal", current=0.0, sigma=1.0, seed=s) for s in range(8)),
    *(_case("step", target="std_normal", current=1.5, sigma=2.0, seed=s) for s in range(8)),
    # Proposals almost always leave [0, 1]: the step must usually reject (accepted is False).
    *(_case("step", target="unit_interval", current=0.5, sigma=5.0, seed=s) for s in range(6)),
    *(_case("step", target="bimodal", current=3.0, sigma=2.0, seed=s) for s in (10, 11, 12, 13)),
    _case("chain", target="std_normal", initial=0.0, n_samples=10, sigma=1.0),
    _case("chain", target="std_normal", initial=0.5, n_samples=20, sigma=0.8, burn_in=5, seed=3),
    _case("chain", target="unit_interval", initial=0.5, n_samples=15, sigma=0.5, burn_in=2, seed=11),
    _case("chain", target="bimodal", initial=-3.0, n_samples=12, sigma=1.5, burn_in=0, seed=21),
    HYGIENE,
)

# --------------------------------------------------------------------------- layer 2

DIFFERENTIAL = (
    _diff("propose", current=1.5, sigma=0.5, seed=42),
    _diff("propose", current=-3.0, sigma=10.0, seed=9),
    _diff("propose", current=0.0, sigma=1e-3, seed=5),
    _diff("propose", current=0.0, sigma=-1.0, seed=5),
    _diff("ratio", target="bimodal", current=-3.0, proposed=3.0),
    _diff("ratio", target="bimodal", current=3.0, proposed=0.0),
    _diff("ratio", target="std_normal", current=-2.0, proposed=0.7),
    _diff("ratio", target="peaked", current=1.0, proposed=0.0),
    _diff("ratio", target="peaked", current=0.0, proposed=1.0),
    _diff("ratio", target="linear", current=0.0, proposed=710.0),
    _diff("ratio", target="linear", current=0.0, proposed=-710.0),
    _diff("ratio", target="unit_interval", current=0.5, proposed=1.5),
    _diff("ratio", target="unit_interval", current=1.5, proposed=0.5),
    _diff("ratio", target="unit_interval", current=2.0, proposed=3.0),
    _diff("ratio", target="half_line", current=-1.0, proposed=2.0),
    _diff("ratio", target="nan_right", current=-1.0, proposed=1.0),
    *(_diff("step", target="std_normal", current=0.3, sigma=1.0, seed=s) for s in (100, 101, 102, 103)),
    *(_diff("step", target="bimodal", current=-3.0, sigma=3.0, seed=s) for s in (200, 201, 202, 203)),
    *(_diff("step", target="unit_interval", current=0.9, sigma=0.5, seed=s) for s in (300, 301, 302, 303)),
    *(_diff("step", target="peaked", current=1.0, sigma=1.0, seed=s) for s in (400, 401, 402, 403)),
    *(_diff("step", target="half_line", current=-0.5, sigma=1.0, seed=s) for s in (500, 501)),
    _diff("chain", target="std_normal", initial=0.0, n_samples=300, sigma=1.0, seed=2024),
    _diff("chain", target="bimodal", initial=0.0, n_samples=400, sigma=2.5, burn_in=100, seed=7),
    _diff("chain", target="unit_interval", initial=0.5, n_samples=200, sigma=0.3, burn_in=10, seed=5),
    _diff("chain", target="unit_interval", initial=5.0, n_samples=100, sigma=1.0, seed=8),
    _diff("chain", target="peaked", initial=1.0, n_samples=100, sigma=0.5, seed=13),
    _diff("chain", target="half_line", initial=1.0, n_samples=150, sigma=2.0, burn_in=0, seed=99),
    _diff("chain", target="shifted_normal", initial=3.0, n_samples=50, sigma=2.0, burn_in=25, seed=4),
    _diff("chain", target="std_normal", initial=0.0, n_samples=0, sigma=1.0, burn_in=10, seed=6),
    _diff("chain", target="neg_inf", initial=0.25, n_samples=20, sigma=1.0, seed=1),
    _diff("chain", target="std_normal", initial=0.0, n_samples=-1, sigma=1.0),
    DifferentialCase(call("hygiene"), lambda cand, ref: hygiene_check(cand)),
)

# --------------------------------------------------------------------------- layer 3

_FINITE_TARGETS = ["std_normal", "shifted_normal", "bimodal", "peaked", "linear", "flat"]
_ALL_TARGETS = [*_FINITE_TARGETS, "unit_interval", "half_line", "neg_inf"]
_POINT = st.one_of(st.floats(-2.0, 2.0), st.floats(-50.0, 50.0), st.sampled_from([0.0, 0.5, 1.0, -1.0]))
_SIGMA = st.one_of(st.floats(0.01, 10.0), st.sampled_from([1.0, 2.4, 0.1]))
_SEED = st.integers(0, 2**32 - 1)


def _oracle_property(driver: str):
    def check(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
        want, error = expect(driver, kwargs)
        return judge(driver, kwargs, obs, want, error)

    check.__name__ = f"oracle_{driver}"
    return check


def _stats_property(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    if obs.raised:
        return f"expected a chain, {obs.describe()}"
    return chain_stats_reason(obs.value["result"], kwargs["n_samples"], 0.25, 0.35)


def _bad_sigma_property(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    return checks.raises(VALUE_ERROR)(obs)


def _ratio_bounds_property(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    want, error = expect("ratio", kwargs)
    reason = judge("ratio", kwargs, obs, want, error)
    if reason is None and kwargs["target"] == "linear":
        delta = kwargs["proposed"] - kwargs["current"]
        result = obs.value["result"]
        if delta >= 0 and result != 1.0:
            return f"difference {delta!r} >= 0 must give 1.0, got {result!r}"
    return reason


PROPERTIES = (
    PropertySpec(
        "acceptance ratio is min(1, exp(difference)) in [0, 1], no draws, one call per argument",
        "ratio",
        st.fixed_dictionaries(
            {"target": st.sampled_from(_ALL_TARGETS), "current": _POINT, "proposed": _POINT, "seed": _SEED}
        ),
        _oracle_property("ratio"),
    ),
    PropertySpec(
        "acceptance ratio survives huge log-density differences",
        "ratio",
        st.fixed_dictionaries(
            {
                "target": st.just("linear"),
                "current": st.floats(-1e6, 1e6),
                "proposed": st.floats(-1e6, 1e6),
            }
        ),
        _ratio_bounds_property,
        max_examples=20,
    ),
    PropertySpec(
        "seeded metropolis_step matches the contract draw for draw",
        "step",
        st.fixed_dictionaries(
            {"target": st.sampled_from(_ALL_TARGETS), "current": _POINT, "sigma": _SIGMA, "seed": _SEED}
        ),
        _oracle_property("step"),
    ),
    PropertySpec(
        "seeded mcmc_sample matches the contract draw for draw",
        "chain",
        st.fixed_dictionaries(
            {
                "target": st.sampled_from(_ALL_TARGETS),
                "initial": _POINT,
                "n_samples": st.integers(0, 40),
                "sigma": _SIGMA,
                "burn_in": st.one_of(st.none(), st.integers(0, 15)),
                "seed": _SEED,
            }
        ),
        _oracle_property("chain"),
    ),
    PropertySpec(
        "a standard normal chain has mean ~0 and variance ~1",
        "chain",
        st.fixed_dictionaries(
            {
                "target": st.just("std_normal"),
                "initial": st.floats(-1.0, 1.0),
                "n_samples": st.just(5000),
                "sigma": st.sampled_from([1.5, 2.4, 3.0]),
                "burn_in": st.just(200),
                "seed": _SEED,
            }
        ),
        _stats_property,
        max_examples=6,
    ),
    PropertySpec(
        "non-positive or NaN sigma raises ValueError",
        "propose",
        st.fixed_dictionaries(
            {
                "current": st.floats(-10.0, 10.0),
                "sigma": st.one_of(st.floats(max_value=0.0), st.just(math.nan)),
                "seed": _SEED,
            }
        ),
        _bad_sigma_property,
        max_examples=10,
    ),
)

# --------------------------------------------------------------------------- layer 4

FUZZ = (
    *(_case("propose", current=0.0, sigma=s) for s in (0.0, -0.0, -1.0, math.nan, -math.inf)),
    *(_case("step", target="std_normal", current=0.0, sigma=s) for s in (0.0, -2.0, math.nan)),
    _case("chain", target="std_normal", initial=0.0, n_samples=-1, sigma=1.0),
    _case("chain", target="std_normal", initial=0.0, n_samples=5, sigma=1.0, burn_in=-1),
    _case("chain", target="std_normal", initial=0.0, n_samples=-3, sigma=1.0, burn_in=2),
    _case("chain", target="std_normal", initial=0.0, n_samples=0, sigma=1.0, burn_in=-2),
    _case("chain", target="std_normal", initial=0.0, n_samples=5, sigma=0.0),
    _case("chain", target="std_normal", initial=0.0, n_samples=3, sigma=math.nan),
    _case("chain", target="std_normal", initial=0.0, n_samples=0, sigma=1.0),
    _case("chain", target="std_normal", initial=0.0, n_samples=0, sigma=1.0, burn_in=4, seed=2),
    _case("chain", target="std_normal", initial=0.0, n_samples=1, sigma=1.0, seed=3),
    _case("chain", target="std_normal", initial=0.0, n_samples=1, sigma=1.0, burn_in=1, seed=3),
    _case("ratio", target="nan", current=0.0, proposed=1.0),
    _case("ratio", target="nan_right", current=-1.0, proposed=1.0),
    _case("ratio", target="nan_right", current=1.0, proposed=-1.0),
    _case("step", target="nan", current=0.0, sigma=1.0),
    _case("chain", target="nan_right", initial=0.5, n_samples=5, sigma=1.0),
    _case("ratio", target="unit_interval", current=0.5, proposed=2.0),
    _case("ratio", target="unit_interval", current=2.0, proposed=0.5),
    _case("ratio", target="unit_interval", current=2.0, proposed=3.0),
    _case("ratio", target="neg_inf", current=0.0, proposed=1.0),
    _case("ratio", target="half_line", current=-1.0, proposed=-2.0),
    _case("ratio", target="flat", current=0.2, proposed=0.7),
    _case("chain", target="neg_inf", initial=0.25, n_samples=20, sigma=1.0, seed=4),
    _case("chain", target="unit_interval", initial=-2.0, n_samples=30, sigma=1.0, seed=12),
    *(_case("step", target="unit_interval", current=5.0, sigma=2.0, seed=s) for s in range(4)),
    *(_case("step", target="neg_inf", current=0.0, sigma=1.0, seed=s) for s in range(3)),
)

# --------------------------------------------------------------------------- layer 7

EDGE = (
    *(
        _case("ratio", target="linear", current=c, proposed=p)
        for c, p in [
            (0.0, 709.0),
            (0.0, 710.0),
            (0.0, 1e6),
            (-1e6, 1e6),
            (1e6, 0.0),
            (0.0, -745.0),
            (0.0, -800.0),
            (1e300, -1e300),
        ]
    ),
    _case("ratio", target="peaked", current=1.0, proposed=0.0),
    _case("ratio", target="peaked", current=0.0, proposed=1.0),
    _case("ratio", target="peaked", current=1e3, proposed=0.0),
    # u == 0.0 exactly: with a zero ratio the step must still reject (u < ratio, not <=).
    _case("step_crafted", target="unit_interval", current=0.5, sigma=1.0, gauss_next=5.0),
    _case("step_crafted", target="neg_inf", current=0.5, sigma=1.0, gauss_next=0.5),
    _case("step_crafted", target="linear", current=0.0, sigma=1.0, gauss_next=-800.0),
    _case("step_crafted", target="std_normal", current=0.0, sigma=1.0, gauss_next=0.5),
    _case("step_crafted", target="half_line", current=-1.0, sigma=1.0, gauss_next=3.0),
    _case("chain", target="peaked", initial=1.0, n_samples=300, sigma=1.0, seed=17),
    _case("chain", target="linear", initial=0.0, n_samples=200, sigma=2000.0, seed=18),
    _case("chain", target="std_normal", initial=0.3, n_samples=50, sigma=1e-300, seed=19),
    _case("chain", target="std_normal", initial=0.0, n_samples=50, sigma=1e300, seed=20),
    _case("step", target="std_normal", current=1e200, sigma=1.0, seed=21),
    _case("step", target="std_normal", current=5e-324, sigma=1e-320, seed=22),
    # A long seeded trajectory: past any recursion limit, still step for step the oracle's.
    _case("chain", target="std_normal", initial=0.0, n_samples=10_000, sigma=1.0, burn_in=1000, seed=31337),
    Case(
        call("chain", target="std_normal", initial=0.0, n_samples=20_000, sigma=2.4, burn_in=1000, seed=2718),
        stats_check(20_000, 0.1, 0.15),
    ),
    HYGIENE,
)

TASK = Task(
    task_id="monte_carlo/metropolis",
    title="Random-walk Metropolis-Hastings",
    instructions=INSTRUCTIONS,
    unit_dir=Path(__file__).resolve().parent,
    invariants=INVARIANTS,
    differential=DIFFERENTIAL,
    properties=PROPERTIES,
    fuzz=FUZZ,
    edge=EDGE,
    semantic=SemanticRules(
        functions=(
            Signature("proposal", ("current", "sigma")),
            Signature("acceptance_ratio", ("log_target", "current", "proposed")),
            Signature("metropolis_step", ("current", "log_target", "sigma")),
            Signature("mcmc_sample", ("log_target", "initial", "n_samples", "sigma", "burn_in")),
        ),
        computed_flags={"metropolis_step": 1},
        carried_results=frozenset({"metropolis_step"}),
    ),
    dataflow=(
        AppendEveryIteration("mcmc_sample", "metropolis_step"),
        CarryState("mcmc_sample", "metropolis_step", arg_index=0, result_index=0),
    ),
)
