"""Trusted, parent-side material for monte_carlo/metropolis.

* an *oracle*: an independent implementation of the contract that draws from an explicit
  ``random.Random`` seeded like the drivers seed the module-level generator, so it
  predicts every driver result (values, accept flags, RNG state afterwards) exactly;
* a *judge*: exact-type comparisons of a driver observation with an expected result,
  shared by the invariant, differential, property, fuzz and edge layers.

Nothing here calls ``==`` on a candidate-built object: the wire has turned anything that is
not a plain builtin into :class:`~dpo_assets.sandbox.wire.Foreign` already.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any

from dpo_assets.sandbox.outcome import Call, Observation
from dpo_assets.sandbox.wire import Foreign
from dpo_assets.tasks import checks
from dpo_assets.tasks.monte_carlo.metropolis import harness

VALUE_ERROR = "builtins.ValueError"
# States are computed with identical arithmetic by every correct candidate; ratios may be
# computed in slightly different (equivalent) ways. Any difference in the random stream moves
# states by O(sigma), far beyond this tolerance.
REL_TOL = 1e-9
ABS_TOL = 1e-12


# --------------------------------------------------------------------------- oracle


def _o_proposal(rng: random.Random, current: float, sigma: float) -> float:
    if math.isnan(sigma) or sigma <= 0:
        raise ValueError("sigma")
    return current + rng.gauss(0.0, sigma)


def _o_ratio(fn: Callable[[float], float], current: float, proposed: float) -> float:
    lp = fn(proposed)
    lc = fn(current)
    if math.isnan(lp) or math.isnan(lc):
        raise ValueError("nan")
    if lp == -math.inf:
        return 0.0
    if lc == -math.inf:
        return 1.0
    return math.exp(min(0.0, lp - lc))


def _o_step(rng: random.Random, fn: Callable[[float], float], current: float, sigma: float):
    proposed = _o_proposal(rng, current, sigma)
    u = rng.random()
    accepted = u < _o_ratio(fn, current, proposed)
    return (proposed if accepted else current), accepted


def _o_chain(rng, fn, initial: float, n_samples: int, sigma: float, burn_in: int) -> list[float]:
    if n_samples < 0 or burn_in < 0:
        raise ValueError("negative")
    state = float(initial)
    for _ in range(burn_in):
        state = _o_step(rng, fn, state, sigma)[0]
    out = []
    for _ in range(n_samples):
        state = _o_step(rng, fn, state, sigma)[0]
        out.append(state)
    return out


def _seeded(seed: int) -> random.Random:
    return random.Random(seed)


def _fp(rng: random.Random) -> list:
    return harness.fingerprint(rng.getstate())


def oracle(driver: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """What the driver returns for a correct candidate; raises ``ValueError`` where it must."""
    k = dict(kwargs)
    if driver == "propose":
        rng = _seeded(k.get("seed", 0))
        result = _o_proposal(rng, k["current"], k["sigma"])
        return {"result": result, "rng": _fp(rng)}
    if driver == "ratio":
        rng = _seeded(k.get("seed", 0))
        fn = harness.TARGETS[k["target"]]
        result = _o_ratio(fn, k["current"], k["proposed"])
        return {
            "result": result,
            "calls": [k["proposed"], k["current"]],
            "rng_before": _fp(rng),
            "rng": _fp(rng),
        }
    if driver in ("step", "step_crafted"):
        if driver == "step":
            rng = _seeded(k.get("seed", 0))
        else:
            rng = random.Random()
            rng.setstate(harness.crafted_state(k["gauss_next"]))
        fn = harness.TARGETS[k["target"]]
        result = _o_step(rng, fn, k["current"], k["sigma"])
        return {"result": result, "ncalls": 2, "rng": _fp(rng)}
    if driver == "chain":
        rng = _seeded(k.get("seed", 0))
        fn = harness.TARGETS[k["target"]]
        burn_in = k.get("burn_in")
        burn_in = 0 if burn_in is None else burn_in
        result = _o_chain(rng, fn, k["initial"], k["n_samples"], k["sigma"], burn_in)
        return {"result": result, "ncalls": 2 * (burn_in + k["n_samples"]), "rng": _fp(rng)}
    raise KeyError(driver)


# --------------------------------------------------------------------------- judge


def _close(actual: float, expected: float) -> bool:
    if math.isnan(expected):
        return math.isnan(actual)
    if math.isinf(expected) or math.isinf(actual):
        return actual == expected
    return abs(actual - expected) <= ABS_TOL + REL_TOL * abs(expected)


def same_value(actual: Any, expected: Any, where: str = "result") -> str | None:
    """Exact types, equal structure, floats within tolerance (expected is trusted plain data)."""
    if type(actual) is not type(expected):
        return (
            f"{where}: expected {checks.type_name(expected)}, got {checks.type_name(actual)} {actual!r:.120}"
        )
    if type(expected) is float:
        if not _close(actual, expected):
            return f"{where}: expected {expected!r}, got {actual!r}"
        return None
    if type(expected) in (list, tuple):
        if len(actual) != len(expected):
            return f"{where}: expected {len(expected)} items, got {len(actual)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            reason = same_value(a, e, f"{where}[{i}]")
            if reason:
                return reason
        return None
    if actual != expected:  # bool, int, None, str: plain types on both sides
        return f"{where}: expected {expected!r}, got {actual!r}"
    return None


def _plain_number(x: Any) -> Any:
    if isinstance(x, Foreign) and type(x.value) in (float, int):
        return float(x.value)
    return x


def _calls_reason(kwargs: Mapping[str, Any], calls: Any) -> str | None:
    """``log_target`` is called at most once per argument, with that argument, and exactly
    once per argument when both log densities are finite and the arguments differ."""
    if type(calls) is not list:
        return "log_target calls not recorded"
    current, proposed = float(kwargs["current"]), float(kwargs["proposed"])
    remaining = [proposed, current]
    for raw in calls:
        x = _plain_number(raw)
        match = next((i for i, v in enumerate(remaining) if type(x) in (float, int) and x == v), None)
        if match is None:
            return (
                f"log_target called {len(calls)} times with {[_plain_number(c) for c in calls]!r}; "
                f"expected once each with {proposed!r} and {current!r}"
            )
        remaining.pop(match)
    fn = harness.TARGETS[kwargs["target"]]
    both_finite = all(math.isfinite(fn(v)) for v in (current, proposed))
    if both_finite and current != proposed and remaining:
        return f"log_target not called with {remaining!r}"
    return None


def judge(
    driver: str, kwargs: Mapping[str, Any], obs: Observation, want: Any, want_error: str | None
) -> str | None:
    """Judge one observation against the expected driver result (or expected exception)."""
    if want_error is not None:
        if obs.raised and obs.raised_subclass_of(want_error):
            return None
        return f"expected {want_error.removeprefix('builtins.')}, {obs.describe()}"
    if obs.raised:
        return f"expected a result, {obs.describe()}"
    got = obs.value
    if type(got) is not dict or "result" not in got:
        return f"driver returned {got!r:.120}"
    result = got["result"]
    if driver == "ratio":
        if type(result) is not float:
            return f"acceptance_ratio returned {checks.type_name(result)}, not float"
        if not 0.0 <= result <= 1.0:
            return f"acceptance_ratio returned {result!r}, outside [0, 1]"
        reason = same_value(result, want["result"])
        if reason:
            return reason
        if got["rng"] != got["rng_before"]:
            return "acceptance_ratio consumed randomness"
        return _calls_reason(kwargs, got["calls"])
    if driver in ("step", "step_crafted"):
        if type(result) is not tuple or len(result) != 2:
            return f"metropolis_step must return a 2-tuple, got {checks.type_name(result)} {result!r:.120}"
        if type(result[0]) is not float:
            return f"metropolis_step state is {checks.type_name(result[0])}, not float"
        if type(result[1]) is not bool:
            return f"metropolis_step accepted flag is {checks.type_name(result[1])}, not bool"
    if driver == "chain":
        reason = checks.float_list(result, len(want["result"]), finite=False)
        if reason:
            return f"mcmc_sample: {reason}"
    reason = same_value(result, want["result"])
    if reason:
        return reason
    if got["rng"] != want["rng"]:
        return "random draws differ from the contract's order (random module state differs afterwards)"
    if "ncalls" in want and (type(got.get("ncalls")) is not int or got["ncalls"] > want["ncalls"]):
        return f"log_target called {got.get('ncalls')!r} times, expected at most {want['ncalls']}"
    return None


def expect(driver: str, kwargs: Mapping[str, Any]) -> tuple[Any, str | None]:
    """The oracle's expectation: (driver result, None) or (None, exception name)."""
    try:
        return oracle(driver, kwargs), None
    except ValueError:
        return None, VALUE_ERROR


def oracle_check(driver: str, kwargs: Mapping[str, Any]) -> checks.Check:
    """A layer check: the observation matches the oracle (computed lazily, once)."""
    cache: list[tuple[Any, str | None]] = []

    def check(obs: Observation) -> str | None:
        if not cache:
            cache.append(expect(driver, kwargs))
        want, error = cache[0]
        return judge(driver, kwargs, obs, want, error)

    return check


def reference_compare(driver: str, kwargs: Mapping[str, Any]) -> checks.Compare:
    """A differential compare: the candidate's observation against the reference's."""

    def compare(cand: Observation, ref: Observation) -> str | None:
        if ref.raised:
            return judge(driver, kwargs, cand, None, ref.error_type)
        return judge(driver, kwargs, cand, ref.value, None)

    return compare


def call(driver: str, **kwargs: Any) -> Call:
    return Call(driver, kwargs)


# --------------------------------------------------------------------------- other checks


def hygiene_check(obs: Observation) -> str | None:
    """The standard functions the contract relies on were not replaced (no import side effects)."""
    if obs.raised:
        return f"hygiene probe {obs.describe()}"
    facts = obs.value
    if type(facts) is not dict:
        return "hygiene probe returned no facts"
    patched = [name for name, ok in facts.items() if ok is not True]
    if patched:
        return "the module replaced standard functions: " + ", ".join(sorted(patched))
    return None


def chain_stats_reason(result: Any, n: int, mean_tol: float, var_tol: float) -> str | None:
    """A standard-normal chain: ``n`` plain floats with mean ~ 0 and variance ~ 1."""
    reason = checks.float_list(result, n)
    if reason:
        return f"mcmc_sample: {reason}"
    mean = math.fsum(result) / n
    var = math.fsum((x - mean) ** 2 for x in result) / n
    if abs(mean) > mean_tol:
        return f"standard normal chain has mean {mean:.4f} (|mean| must be <= {mean_tol})"
    if abs(var - 1.0) > var_tol:
        return f"standard normal chain has variance {var:.4f} (must be within {var_tol} of 1)"
    return None


def stats_check(n: int, mean_tol: float, var_tol: float) -> checks.Check:
    def check(obs: Observation) -> str | None:
        if obs.raised:
            return f"expected a chain, {obs.describe()}"
        return chain_stats_reason(obs.value["result"], n, mean_tol, var_tol)

    return check
