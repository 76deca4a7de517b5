"""Drivers for monte_carlo/metropolis: call the candidate, return raw results (no judgement).

Log targets are chosen by name (``TARGETS``); the trusted parent imports the same table to
compute expected values. Every driver that involves randomness seeds the module-level
``random`` generator itself and reports a fingerprint of the generator's state after the
call, so a candidate that draws more, fewer or different random numbers is visible.
"""

from __future__ import annotations

import builtins
import math
import random
import types

_LOG_HALF = math.log(0.5)


def _std_normal(x):
    return -0.5 * x * x


def _shifted_normal(x):
    return -0.5 * ((x - 3.0) / 2.0) ** 2


def _bimodal(x):
    # log(0.5 N(-3, 1) + 0.5 N(3, 1)) up to a constant, computed stably.
    a = -0.5 * (x + 3.0) ** 2
    b = -0.5 * (x - 3.0) ** 2
    top = a if a > b else b
    if top == -math.inf:
        return -math.inf
    return _LOG_HALF + top + math.log(math.exp(a - top) + math.exp(b - top))


def _unit_interval(x):
    return 0.0 if 0.0 <= x <= 1.0 else -math.inf


def _half_line(x):
    return -x if x >= 0.0 else -math.inf


def _peaked(x):
    return -1e6 * x * x


def _linear(x):
    return 1.0 * x


def _flat(x):
    return 0.0


def _neg_inf(x):
    return -math.inf


def _nan(x):
    return math.nan


def _nan_right(x):
    return math.nan if x > 0.0 else -0.5 * x * x


TARGETS = {
    "std_normal": _std_normal,
    "shifted_normal": _shifted_normal,
    "bimodal": _bimodal,
    "unit_interval": _unit_interval,
    "half_line": _half_line,
    "peaked": _peaked,
    "linear": _linear,
    "flat": _flat,
    "neg_inf": _neg_inf,
    "nan": _nan,
    "nan_right": _nan_right,
}


class _Recorder:
    """A log target that records every argument it is called with."""

    def __init__(self, name: str) -> None:
        self._fn = TARGETS[name]
        self.calls: list = []

    def __call__(self, x):
        self.calls.append(x)
        return self._fn(x)


def fingerprint(state) -> list:
    """A compact, deterministic summary of a ``random.getstate()`` value."""
    _version, words, gauss_next = state
    return [words[-1], hash(words), gauss_next]


def _rng() -> list:
    return fingerprint(random.getstate())


def propose(solution, current: float, sigma: float, seed: int = 0):
    """``proposal(current, sigma)`` after ``random.seed(seed)``."""
    random.seed(seed)
    result = solution.proposal(current, sigma)
    return {"result": result, "rng": _rng()}


def ratio(solution, target: str, current: float, proposed: float, seed: int = 0):
    """``acceptance_ratio`` on a named target; reports the calls made and the RNG state."""
    random.seed(seed)
    before = _rng()
    log_target = _Recorder(target)
    result = solution.acceptance_ratio(log_target, current, proposed)
    return {"result": result, "calls": list(log_target.calls), "rng_before": before, "rng": _rng()}


def step(solution, target: str, current: float, sigma: float, seed: int = 0):
    """``metropolis_step`` on a named target after ``random.seed(seed)``."""
    random.seed(seed)
    log_target = _Recorder(target)
    result = solution.metropolis_step(current, log_target, sigma)
    return {"result": result, "ncalls": len(log_target.calls), "rng": _rng()}


def crafted_state(gauss_next: float, position: int = 100, seed: int = 0) -> tuple:
    """A generator state whose next ``gauss`` is ``gauss_next`` and next ``random()`` is 0.0."""
    words = list(random.Random(seed).getstate()[1][:624])
    # Tempering maps 0 to 0, so two zero words make the next random() exactly 0.0.
    words[position] = 0
    words[position + 1] = 0
    return (3, (*words, position), gauss_next)


def step_crafted(solution, target: str, current: float, sigma: float, gauss_next: float):
    """``metropolis_step`` with the proposal's draw fixed to ``gauss_next`` and ``u == 0.0``."""
    random.setstate(crafted_state(gauss_next))
    log_target = _Recorder(target)
    result = solution.metropolis_step(current, log_target, sigma)
    return {"result": result, "ncalls": len(log_target.calls), "rng": _rng()}


def chain(solution, target: str, initial: float, n_samples: int, sigma: float, burn_in=None, seed: int = 0):
    """``mcmc_sample`` on a named target after ``random.seed(seed)`` (``burn_in=None``: default)."""
    random.seed(seed)
    log_target = _Recorder(target)
    if burn_in is None:
        result = solution.mcmc_sample(log_target, initial, n_samples, sigma)
    else:
        result = solution.mcmc_sample(log_target, initial, n_samples, sigma, burn_in=burn_in)
    return {"result": result, "ncalls": len(log_target.calls), "rng": _rng()}


def _builtin_of(fn, owner, name: str) -> bool:
    return type(fn) is types.BuiltinFunctionType and fn.__self__ is owner and fn.__name__ == name


def _random_method(name: str) -> bool:
    fn = getattr(random, name, None)
    inst = getattr(random, "_inst", None)
    if type(fn) is types.MethodType:
        func = fn.__func__
        return (
            fn.__self__ is inst
            and type(func) is types.FunctionType
            and func is random.Random.__dict__.get(name)
            and func.__module__ == "random"
            and func.__qualname__ == f"Random.{name}"
        )
    return _builtin_of(fn, inst, name) and name not in random.Random.__dict__


def hygiene(solution):
    """Whether the standard functions a Metropolis run relies on are still the originals."""
    facts = {}
    for name in ("exp", "log", "isnan", "isinf", "isfinite", "sqrt", "cos", "sin"):
        facts[f"math.{name}"] = _builtin_of(getattr(math, name, None), math, name)
    for name in ("random", "getrandbits"):
        facts[f"random.{name}"] = _random_method(name)
    for name in ("gauss", "seed", "getstate", "setstate", "normalvariate", "uniform"):
        facts[f"random.{name}"] = _random_method(name)
    facts["random.Random"] = random.Random.__module__ == "random" and random.Random is type(random._inst)
    for name in ("min", "max", "abs", "len", "isinstance", "getattr", "hash", "sum"):
        facts[f"builtins.{name}"] = _builtin_of(getattr(builtins, name, None), builtins, name)
    for name in ("float", "int", "bool", "list", "tuple", "range", "type", "dict"):
        cls = getattr(builtins, name, None)
        facts[f"builtins.{name}"] = (
            type(cls) is type and cls.__module__ == "builtins" and cls.__qualname__ == name
        )
    return facts
