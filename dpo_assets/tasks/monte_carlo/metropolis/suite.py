"""pytest suite for monte_carlo/metropolis (imports the candidate as ``solution``)."""

import itertools
import math
import random

import pytest

from solution import acceptance_ratio, mcmc_sample, metropolis_step, proposal


def std_normal(x):
    return -0.5 * x * x


def unit_interval(x):
    return 0.0 if 0.0 <= x <= 1.0 else -math.inf


def linear(x):
    return x


def nowhere(x):
    return -math.inf


class Recorder:
    def __init__(self, fn):
        self.fn = fn
        self.calls = []

    def __call__(self, x):
        self.calls.append(x)
        return self.fn(x)


def expected_step(rng, log_target, current, sigma):
    """The contract's step, drawing from an explicit generator ``rng``."""
    proposed = current + rng.gauss(0.0, sigma)
    u = rng.random()
    lp, lc = log_target(proposed), log_target(current)
    if lp == -math.inf:
        ratio = 0.0
    elif lc == -math.inf:
        ratio = 1.0
    else:
        ratio = math.exp(min(0.0, lp - lc))
    accepted = u < ratio
    return (proposed if accepted else current), accepted


def expected_chain(seed, log_target, initial, n_samples, sigma, burn_in=0):
    rng = random.Random(seed)
    state = initial
    for _ in range(burn_in):
        state, _accepted = expected_step(rng, log_target, state, sigma)
    out = []
    for _ in range(n_samples):
        state, _accepted = expected_step(rng, log_target, state, sigma)
        out.append(state)
    return out


def zero_uniform_state(gauss_next):
    """A generator state whose next gauss() is ``gauss_next`` and next random() is 0.0."""
    words = list(random.Random(0).getstate()[1][:624])
    words[100] = words[101] = 0
    return (3, (*words, 100), gauss_next)


# ----------------------------------------------------------------------------- proposal


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_proposal_is_current_plus_one_gauss(seed):
    random.seed(seed)
    got = proposal(1.5, 0.5)
    rng = random.Random(seed)
    assert got == 1.5 + rng.gauss(0.0, 0.5)
    assert type(got) is float
    assert random.getstate() == rng.getstate()


@pytest.mark.parametrize("sigma", [0.0, -0.0, -1.0, -math.inf, math.nan])
def test_proposal_rejects_bad_sigma(sigma):
    with pytest.raises(ValueError):
        proposal(0.0, sigma)


# ----------------------------------------------------------------------------- acceptance_ratio


def test_ratio_of_downhill_move():
    assert acceptance_ratio(std_normal, 0.0, 1.0) == pytest.approx(math.exp(-0.5), rel=1e-12)


def test_ratio_of_uphill_move_is_one_float():
    result = acceptance_ratio(std_normal, 1.0, 0.0)
    assert result == 1.0
    assert type(result) is float


def test_ratio_of_equal_points_is_one():
    result = acceptance_ratio(std_normal, 0.3, 0.3)
    assert result == 1.0
    assert type(result) is float


@pytest.mark.parametrize(
    ("current", "proposed", "want"),
    [(0.5, 2.0, 0.0), (2.0, 0.5, 1.0), (2.0, 3.0, 0.0)],
)
def test_ratio_with_infinite_log_densities(current, proposed, want):
    result = acceptance_ratio(unit_interval, current, proposed)
    assert result == want
    assert type(result) is float


def test_ratio_when_both_log_densities_are_minus_infinity():
    assert acceptance_ratio(nowhere, 0.0, 1.0) == 0.0


@pytest.mark.parametrize(("current", "proposed"), [(0.0, 710.0), (0.0, 1e6), (-1e6, 1e6)])
def test_ratio_does_not_overflow(current, proposed):
    assert acceptance_ratio(linear, current, proposed) == 1.0


@pytest.mark.parametrize(("current", "proposed"), [(1e6, 0.0), (0.0, -800.0)])
def test_ratio_of_huge_downhill_move_is_zero(current, proposed):
    assert acceptance_ratio(linear, current, proposed) == 0.0


def test_ratio_rejects_nan_at_proposed():
    with pytest.raises(ValueError):
        acceptance_ratio(lambda x: math.nan if x > 0 else 0.0, -1.0, 1.0)


def test_ratio_rejects_nan_at_current():
    with pytest.raises(ValueError):
        acceptance_ratio(lambda x: math.nan if x > 0 else 0.0, 1.0, -1.0)


def test_ratio_calls_log_target_once_per_argument():
    target = Recorder(std_normal)
    acceptance_ratio(target, 0.25, -1.75)
    assert sorted(target.calls) == [-1.75, 0.25]


def test_ratio_consumes_no_randomness():
    random.seed(5)
    before = random.getstate()
    acceptance_ratio(std_normal, 0.0, 2.0)
    acceptance_ratio(unit_interval, 0.5, 3.0)
    assert random.getstate() == before


def test_ratio_is_in_unit_interval():
    rng = random.Random(11)
    for _ in range(200):
        a, b = rng.uniform(-30, 30), rng.uniform(-30, 30)
        r = acceptance_ratio(std_normal, a, b)
        assert 0.0 <= r <= 1.0


# ----------------------------------------------------------------------------- metropolis_step


@pytest.mark.parametrize("seed", range(12))
def test_step_matches_contract_draw_for_draw(seed):
    random.seed(seed)
    got = metropolis_step(1.5, std_normal, 2.0)
    rng = random.Random(seed)
    assert got == expected_step(rng, std_normal, 1.5, 2.0)
    assert random.getstate() == rng.getstate()


def test_step_returns_state_and_real_bool():
    random.seed(3)
    result = metropolis_step(0.0, std_normal, 1.0)
    assert type(result) is tuple
    assert len(result) == 2
    assert type(result[0]) is float
    assert type(result[1]) is bool


def test_step_flag_is_computed():
    flags = set()
    for seed in range(20):
        random.seed(seed)
        state, accepted = metropolis_step(1.5, std_normal, 2.0)
        flags.add(accepted)
        if not accepted:
            assert state == 1.5
    assert flags == {True, False}


def test_step_rejects_outside_support():
    random.setstate(zero_uniform_state(5.0))
    assert metropolis_step(0.5, unit_interval, 1.0) == (0.5, False)


def test_step_accepts_with_strict_comparison():
    random.setstate(zero_uniform_state(0.5))
    assert metropolis_step(0.0, std_normal, 1.0) == (0.5, True)
    random.setstate(zero_uniform_state(-800.0))
    assert metropolis_step(0.0, linear, 1.0) == (0.0, False)


def test_step_rejects_bad_sigma():
    with pytest.raises(ValueError):
        metropolis_step(0.0, std_normal, 0.0)


# ----------------------------------------------------------------------------- mcmc_sample


@pytest.mark.parametrize(("seed", "burn_in"), [(0, 0), (1, 5), (2, 30)])
def test_chain_matches_contract_draw_for_draw(seed, burn_in):
    random.seed(seed)
    got = mcmc_sample(std_normal, 0.0, 40, 1.3, burn_in=burn_in)
    assert got == expected_chain(seed, std_normal, 0.0, 40, 1.3, burn_in)


def test_chain_default_burn_in_is_zero():
    random.seed(9)
    default = mcmc_sample(std_normal, 0.0, 25, 1.0)
    random.seed(9)
    explicit = mcmc_sample(std_normal, 0.0, 25, 1.0, burn_in=0)
    assert default == explicit


def test_burn_in_states_are_discarded():
    random.seed(4)
    long_chain = mcmc_sample(std_normal, 0.0, 50, 1.0)
    random.seed(4)
    assert mcmc_sample(std_normal, 0.0, 30, 1.0, burn_in=20) == long_chain[20:]


def test_chain_length_and_types():
    random.seed(1)
    samples = mcmc_sample(std_normal, 0.0, 100, 1.0, burn_in=10)
    assert type(samples) is list
    assert len(samples) == 100
    assert all(type(x) is float for x in samples)


def test_chain_appends_rejected_states_too():
    random.seed(7)
    samples = mcmc_sample(unit_interval, 0.5, 200, 2.0)
    assert len(samples) == 200
    assert any(a == b for a, b in itertools.pairwise(samples))
    assert all(0.0 <= x <= 1.0 for x in samples)


def test_chain_that_never_accepts_stays_put():
    random.seed(2)
    assert mcmc_sample(nowhere, 0.25, 15, 1.0) == [0.25] * 15


def test_chain_moves_into_support():
    random.seed(12)
    samples = mcmc_sample(unit_interval, -2.0, 100, 1.0)
    assert 0.0 <= samples[-1] <= 1.0


def test_zero_samples():
    assert mcmc_sample(std_normal, 0.0, 0, 1.0) == []
    assert mcmc_sample(std_normal, 0.0, 0, 1.0, burn_in=3) == []


@pytest.mark.parametrize(("n_samples", "burn_in"), [(-1, 0), (5, -1), (-2, -2)])
def test_negative_counts_raise(n_samples, burn_in):
    with pytest.raises(ValueError):
        mcmc_sample(std_normal, 0.0, n_samples, 1.0, burn_in=burn_in)


def test_chain_rejects_nan_log_density():
    with pytest.raises(ValueError):
        mcmc_sample(lambda x: math.nan, 0.0, 3, 1.0)


def test_seeded_chains_are_reproducible():
    random.seed(123)
    first = mcmc_sample(std_normal, 0.0, 50, 1.0, burn_in=5)
    random.seed(123)
    assert mcmc_sample(std_normal, 0.0, 50, 1.0, burn_in=5) == first


def test_peaked_target_does_not_overflow():
    random.seed(17)
    samples = mcmc_sample(lambda x: -1e6 * x * x, 1.0, 200, 1.0)
    assert samples == expected_chain(17, lambda x: -1e6 * x * x, 1.0, 200, 1.0)


def test_standard_normal_moments():
    random.seed(2718)
    samples = mcmc_sample(std_normal, 0.0, 20000, 2.4, burn_in=1000)
    mean = sum(samples) / len(samples)
    var = sum((x - mean) ** 2 for x in samples) / len(samples)
    assert abs(mean) < 0.1
    assert abs(var - 1.0) < 0.15
