"""Reference implementation of monte_carlo/metropolis (random-walk Metropolis-Hastings)."""

import math
import random


def proposal(current: float, sigma: float) -> float:
    """A Gaussian random-walk proposal around ``current`` (one ``random.gauss`` call)."""
    if not sigma > 0:  # also rejects NaN
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    return current + random.gauss(0.0, sigma)


def acceptance_ratio(log_target, current: float, proposed: float) -> float:
    """``min(1, exp(log_target(proposed) - log_target(current)))`` without overflow."""
    log_proposed = log_target(proposed)
    log_current = log_target(current)
    if math.isnan(log_proposed) or math.isnan(log_current):
        raise ValueError("log density is NaN")
    if log_proposed == -math.inf:
        return 0.0
    if log_current == -math.inf:
        return 1.0
    delta = log_proposed - log_current
    if delta >= 0.0:
        return 1.0
    return math.exp(delta)


def metropolis_step(current: float, log_target, sigma: float) -> tuple[float, bool]:
    """One Metropolis step; returns ``(new_state, accepted)``."""
    proposed = proposal(current, sigma)
    u = random.random()
    accepted = u < acceptance_ratio(log_target, current, proposed)
    return (proposed if accepted else current), accepted


def mcmc_sample(log_target, initial: float, n_samples: int, sigma: float, burn_in: int = 0) -> list[float]:
    """``n_samples`` states of the chain after ``burn_in`` discarded steps."""
    if n_samples < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples!r}")
    if burn_in < 0:
        raise ValueError(f"burn_in must be >= 0, got {burn_in!r}")
    state = float(initial)
    for _ in range(burn_in):
        state, _accepted = metropolis_step(state, log_target, sigma)
    samples: list[float] = []
    for _ in range(n_samples):
        state, _accepted = metropolis_step(state, log_target, sigma)
        samples.append(state)
    return samples
