"""Tests of the offline candidate generator: rewrites, mutations, batch expansion and CLI."""

from __future__ import annotations

import ast
import asyncio
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dpo_assets.corpus import generate, mutations, rewrites
from dpo_assets.corpus.generate import Mix, generate_batch, write_jsonl_atomic
from dpo_assets.corpus.mutations import MUTATIONS
from dpo_assets.corpus.rewrites import REWRITES, normalize

# ---------------------------------------------------------------------------- fixtures

MA = "pytest_traceback_repair/moving_average"
MH = "monte_carlo/metropolis"
PD = "pytest_traceback_repair/parse_duration"

MA_FSUM = '''
import math


def moving_average(values, window: int) -> list[float]:
    """Mean of each contiguous full window of ``values``, in order."""
    if window < 1:
        raise ValueError("window must be at least 1")
    items = [float(v) for v in values]
    # one mean per full window
    return [math.fsum(items[i:i + window]) / window for i in range(len(items) - window + 1)]
'''

MA_RUNNING = '''
def moving_average(values, window: int) -> list[float]:
    """Sliding-window mean using a running sum."""
    if window < 1:
        raise ValueError("window must be at least 1")
    items = [float(v) for v in values]
    n = len(items)
    if window > n:
        return []
    total = 0.0
    for k in range(window):
        total = total + items[k]
    means = [total / window]
    start = 0
    while start + window < n:
        total += items[start + window] - items[start]
        start += 1
        means.append(total / window)
    return means
'''

MA_LOOP = '''
def moving_average(values, window: int) -> list[float]:
    """Average of each full window."""
    if window < 1:
        raise ValueError("window must be at least 1")
    seq = list(values)
    n = len(seq)
    result = []
    count = 0
    for start in range(n):
        if start + window <= n:
            acc = 0.0
            for x in seq[start:start + window]:
                acc += x
            result.append(acc / window)
            count = count + 1
    assert count == len(result)
    return result
'''

MA_NUMPY = """
import numpy as np
from itertools import accumulate


def moving_average(values, window: int) -> list[float]:
    if window < 1:
        raise ValueError("window must be at least 1")
    arr = np.asarray(values, dtype=float)
    if window > arr.shape[0]:
        return []
    sums = list(accumulate(arr.tolist(), initial=0.0))
    out = []
    for i in range(arr.shape[0] - window + 1):
        out.append((sums[i + window] - sums[i]) / window)
    return out
"""

MA_BROKEN = '''
def moving_average(values, window: int) -> list[float]:
    """Mean of each contiguous full window of ``values``, in order."""
    if window < 1:
        raise ValueError("window must be at least 1")
    means = []
    for start in range(len(values) - window):
        chunk = values[start:start + window]
        means.append(sum(chunk) / window)
    return means
'''

MH_GUARD = '''
import math
import random


def proposal(current: float, sigma: float) -> float:
    """Gaussian random-walk proposal."""
    if not sigma > 0:
        raise ValueError("sigma must be positive")
    return current + random.gauss(0.0, sigma)


def acceptance_ratio(log_target, current: float, proposed: float) -> float:
    lp_new = log_target(proposed)
    lp_old = log_target(current)
    if math.isnan(lp_new) or math.isnan(lp_old):
        raise ValueError("NaN log density")
    if lp_new == -math.inf:
        return 0.0
    if lp_old == -math.inf:
        return 1.0
    delta = lp_new - lp_old
    if delta >= 0:
        return 1.0
    return math.exp(delta)


def metropolis_step(current: float, log_target, sigma: float) -> tuple[float, bool]:
    proposed = proposal(current, sigma)
    u = random.random()
    accepted = u < acceptance_ratio(log_target, current, proposed)
    if accepted:
        return proposed, accepted
    else:
        return current, accepted


def mcmc_sample(log_target, initial: float, n_samples: int, sigma: float, burn_in: int = 0) -> list[float]:
    if n_samples < 0 or burn_in < 0:
        raise ValueError("n_samples and burn_in must be non-negative")
    current = initial
    for _ in range(burn_in):
        current, _accepted = metropolis_step(current, log_target, sigma)
    samples = []
    for _ in range(n_samples):
        current, accepted = metropolis_step(current, log_target, sigma)
        samples.append(current)
    return samples
'''

MH_CLAMP = """
import random
from math import exp, inf, isnan


def proposal(current, sigma):
    if sigma <= 0 or isnan(sigma):
        raise ValueError("bad sigma")
    step = random.gauss(0.0, sigma)
    return current + step


def acceptance_ratio(log_target, current, proposed):
    new = log_target(proposed)
    old = log_target(current)
    if isnan(new) or isnan(old):
        raise ValueError("nan")
    if new == -inf:
        return 0.0
    if old == -inf:
        return 1.0
    return min(1.0, exp(min(0.0, new - old)))


def metropolis_step(current, log_target, sigma):
    proposed = proposal(current, sigma)
    u = random.random()
    accepted = bool(u < acceptance_ratio(log_target, current, proposed))
    return (proposed if accepted else current, accepted)


def mcmc_sample(log_target, initial, n_samples, sigma, burn_in=0):
    if n_samples < 0:
        raise ValueError("n_samples < 0")
    if burn_in < 0:
        raise ValueError("burn_in < 0")
    state = initial
    taken = 0
    while taken < burn_in:
        state, _ = metropolis_step(state, log_target, sigma)
        taken += 1
    chain = []
    for _ in range(n_samples):
        state, ok = metropolis_step(state, log_target, sigma)
        chain.append(state)
    return chain
"""

PD_REGEX = """
import re

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_PATTERN = re.compile(r"(\\d+)([dhms])")


def parse_duration(text: str) -> int:
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    if not text:
        raise ValueError("empty duration")
    pos = 0
    total = 0
    last_rank = -1
    order = "dhms"
    while pos < len(text):
        match = _PATTERN.match(text, pos)
        if match is None:
            raise ValueError(f"bad duration: {text!r}")
        digits, unit = match.groups()
        if not digits.isascii():
            raise ValueError("non-ASCII digits")
        rank = order.index(unit)
        if rank <= last_rank:
            raise ValueError("units out of order")
        last_rank = rank
        total += int(digits) * _UNITS[unit]
        pos = match.end()
    return total
"""

PD_SCAN = '''
def parse_duration(text: str) -> int:
    """Parse '1h30m'-style durations into seconds."""
    if not isinstance(text, str):
        raise TypeError("expected str")
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    order = ["d", "h", "m", "s"]
    seen_index = -1
    number = ""
    total = 0
    groups = 0
    for ch in text:
        if ch in "0123456789":
            number += ch
        elif ch in units:
            if not number:
                raise ValueError("missing number")
            idx = order.index(ch)
            if idx <= seen_index:
                raise ValueError("misordered unit")
            seen_index = idx
            total += int(number) * units[ch]
            number = ""
            groups += 1
        else:
            raise ValueError(f"unexpected character {ch!r}")
    if number or groups == 0:
        raise ValueError("trailing digits or empty")
    return total
'''

ASYNC_RETRY = """
import asyncio


async def retry_async(fn, attempts: int = 3, base_delay: float = 0.0, retry_on: tuple = (Exception,)):
    if attempts < 1:
        raise ValueError("attempts must be >= 1")
    for i in range(attempts):
        try:
            return await fn()
        except asyncio.CancelledError:
            raise
        except retry_on:
            if i == attempts - 1:
                raise
            await asyncio.sleep(base_delay * 2 ** i)
"""

BASES: dict[str, list[str]] = {
    MA: [MA_FSUM, MA_RUNNING, MA_LOOP, MA_NUMPY],
    MH: [MH_GUARD, MH_CLAMP],
    PD: [PD_REGEX, PD_SCAN],
}
ALL_BASES: list[tuple[str, str]] = [(task, src) for task, srcs in BASES.items() for src in srcs]
BROKEN_TRACEBACK = "E       assert [1.5, 2.5] == [1.5, 2.5, 3.5]\nE         Right contains one more item: 3.5"
_DOCS = ["Candidate solution.", "Autopilot sample.", "Model answer.", "Solution module.", "Repaired module."]


def fixture_samples() -> list[dict]:
    """~40 raw samples over three tasks: each base under several module docstrings."""
    samples: list[dict] = []
    n = 0
    for task, sources in BASES.items():
        per_base = 10 if task == MH else 5 if task == PD else 3
        for b, src in enumerate(sources):
            for d in range(per_base):
                doc = f"{_DOCS[d % len(_DOCS)]} Variant {d}."
                sample: dict[str, Any] = {
                    "task_id": task,
                    "code": f'"""{doc}"""\n{src}',
                    "sample_id": f"fx-{task.split('/')[1]}-{b}-{d}",
                    "origin": "bundled",
                }
                if task != MH:
                    sample["broken_code"] = MA_BROKEN
                    sample["traceback"] = BROKEN_TRACEBACK
                samples.append(sample)
                n += 1
    samples.append(
        {"task_id": MA, "code": MA_BROKEN, "sample_id": "fx-broken", "origin": "bundled",
         "broken_code": MA_BROKEN, "traceback": BROKEN_TRACEBACK}
    )  # fmt: skip
    return samples


# ---------------------------------------------------------------------------- behaviour oracle


def _load(code: str) -> dict:
    namespace: dict = {"__name__": "candidate"}
    exec(compile(code, "<candidate>", "exec"), namespace)
    return namespace


def _observe(call: Callable[[], Any]) -> tuple[str, str]:
    try:
        return ("ok", repr(call()))
    except Exception as exc:
        return ("error", type(exc).__name__)


def _behaviour_ma(ns: dict) -> list:
    f = ns["moving_average"]
    cases = [([1, 2, 3, 4, 5], 2), ([1.5, -2.0, 3.25], 3), ((4, 8), 1), ([1, 2], 3), ([], 1),
             ([1, 2, 3], 0), ([1, 2, 3], -1), ([0.1] * 7, 3)]  # fmt: skip
    return [_observe(lambda v=v, w=w: f(v, w)) for v, w in cases]


def _behaviour_mh(ns: dict) -> list:
    out = []
    for seed in (1, 2):
        random.seed(seed)
        out.append(_observe(lambda: ns["mcmc_sample"](lambda x: -0.5 * x * x, 0.0, 25, 1.0, burn_in=3)))
        out.append(_observe(lambda: ns["metropolis_step"](0.5, lambda x: -abs(x), 2.0)))
    ratio = ns["acceptance_ratio"]
    cases = [
        (lambda x: -x * x, 0.0, 1.0),
        (lambda x: x, 0.0, 1e6),
        (lambda x: -x, 0.0, 1e6),
        (lambda x: -math.inf if x > 1 else 0.0, 0.0, 2.0),
        (lambda x: math.nan, 0.0, 1.0),
    ]
    for log, cur, new in cases:
        out.append(_observe(lambda log=log, cur=cur, new=new: ratio(log, cur, new)))
    for sigma in (0.0, -1.0, math.nan):
        out.append(_observe(lambda sigma=sigma: ns["proposal"](0.0, sigma)))
    out.append(_observe(lambda: ns["mcmc_sample"](lambda x: 0.0, 0.0, -1, 1.0)))
    out.append(_observe(lambda: ns["mcmc_sample"](lambda x: 0.0, 0.0, 0, 1.0)))
    return out


def _behaviour_pd(ns: dict) -> list:
    f = ns["parse_duration"]
    cases = ["90s", "1h30m", "2d5s", "0001m", "1d2h3m4s", "", "12", "1h1h", "1m1h", "1H", " 1s", "+1s", 5]
    return [_observe(lambda c=c: f(c)) for c in cases]


BEHAVIOUR = {MA: _behaviour_ma, MH: _behaviour_mh, PD: _behaviour_pd}


def behaviour(task: str, code: str) -> list:
    return BEHAVIOUR[task](_load(code))


# ---------------------------------------------------------------------------- rewrites


@pytest.mark.parametrize("op", sorted(REWRITES))
def test_rewrite_applies_and_preserves_behaviour(op: str) -> None:
    applied = 0
    for task, src in ALL_BASES:
        expected = behaviour(task, src)
        for seed in range(3):
            out = REWRITES[op](src, random.Random(seed))
            if out is None:
                continue
            applied += 1
            ast.parse(out)
            assert behaviour(task, out) == expected, f"{op} changed behaviour:\n{out}"
    assert applied, f"{op} never applied to the fixtures"


def test_rewrite_chains_preserve_behaviour() -> None:
    names = sorted(REWRITES)
    for task, src in ALL_BASES:
        expected = behaviour(task, src)
        for seed in range(6):
            rng = random.Random(seed)
            code, used = src, []
            for name in rng.sample(names, 4):
                out = REWRITES[name](code, rng)
                if out is not None:
                    code, used = out, [*used, name]
            assert behaviour(task, code) == expected, f"chain {used} changed behaviour:\n{code}"


def test_rename_keeps_public_names_and_parameters() -> None:
    for seed in range(5):
        out = rewrites.rename_locals(MH_GUARD, random.Random(seed))
        assert out is not None
        tree = ast.parse(out)
        funcs = {f.name: [a.arg for a in f.args.args] for f in tree.body if isinstance(f, ast.FunctionDef)}
        assert funcs == {
            "proposal": ["current", "sigma"],
            "acceptance_ratio": ["log_target", "current", "proposed"],
            "metropolis_step": ["current", "log_target", "sigma"],
            "mcmc_sample": ["log_target", "initial", "n_samples", "sigma", "burn_in"],
        }


def test_rename_skips_closure_and_global_names() -> None:
    src = (
        "counter = 0\n\ndef f(xs):\n    global counter\n    counter = 1\n    acc = 2\n"
        "    def inner():\n        return acc\n    tmp = inner()\n    return tmp\n"
    )
    for seed in range(5):
        out = rewrites.rename_locals(src, random.Random(seed))
        assert out is not None
        assert "counter = 1" in out and "return acc" in out and "acc = 2" in out
        assert "tmp = inner()" not in out and "return tmp\n" not in out


def test_for_to_while_needs_a_dead_loop_variable_and_int_bounds() -> None:
    used_after = "def f(xs):\n    n = len(xs)\n    for i in range(n):\n        pass\n    return i\n"
    float_bound = (
        "def f(xs, n):\n    out = []\n    for i in range(n):\n        out.append(i)\n    return out\n"
    )
    with_continue = (
        "def f(xs):\n    out = []\n    for i in range(len(xs)):\n        if i % 2:\n            continue\n"
        "        out.append(i)\n    return out\n"
    )
    for src in (used_after, float_bound, with_continue):
        assert rewrites.for_to_while(src, random.Random(0)) is None
    ok = (
        "def f(xs):\n    out = []\n    for i in range(1, len(xs)):\n"
        "        out.append(xs[i] - xs[i - 1])\n    return out\n"
    )
    out = rewrites.for_to_while(ok, random.Random(0))
    assert out is not None and "while i <" in out and "for " not in out
    for xs in ([], [1], [1, 4, 9, 16]):
        assert _load(out)["f"](xs) == _load(ok)["f"](xs)


def test_augassign_only_for_plain_numbers() -> None:
    aliased = "def f(xs):\n    ys = xs\n    ys += [1]\n    return xs\n"
    assert rewrites.augassign_expand(aliased, random.Random(0)) is None
    out = rewrites.augassign_expand(PD_SCAN, random.Random(0))
    assert out is not None and "groups = groups + 1" in out


def test_swap_if_else_negates_condition() -> None:
    out = rewrites.swap_if_else(MH_GUARD, random.Random(0))
    assert out is not None and "if not accepted:" in out


def test_reorder_imports_keeps_future_first() -> None:
    src = '"""Doc."""\nfrom __future__ import annotations\nimport math\nimport random\nimport re\n'
    out = rewrites.reorder_imports(src, random.Random(1))
    assert out is not None
    lines = out.splitlines()
    assert lines[1] == "from __future__ import annotations" and sorted(lines[2:]) == sorted(
        src.splitlines()[2:]
    )
    assert rewrites.reorder_imports("import os\nimport os.path\n", random.Random(0)) is None


# ---------------------------------------------------------------------------- mutations

MUTATION_SOURCES = [src for _, src in ALL_BASES] + [ASYNC_RETRY]


@pytest.mark.parametrize("op", sorted(MUTATIONS))
def test_mutation_changes_code_and_records_operator(op: str) -> None:
    applied = 0
    for src in MUTATION_SOURCES:
        for seed in range(3):
            mutant = MUTATIONS[op](src, random.Random(seed))
            if mutant is None:
                continue
            applied += 1
            assert mutant.operator == op and mutant.detail
            compile(mutant.code, "<mutant>", "exec")
            assert normalize(mutant.code) != normalize(src)
    assert applied, f"{op} never applied to the fixtures"


def test_targeted_mutations_model_known_bugs() -> None:
    def mutate(op: str, src: str) -> str:
        mutant = MUTATIONS[op](src, random.Random(0))
        assert mutant is not None
        return mutant.code

    assert "if accepted:\n            samples.append(current)" in mutate("append_only_if_accepted", MH_GUARD)
    assert "exp(new - old)" in mutate("unguarded_exp", MH_CLAMP)
    assert "if delta >= 0" not in mutate("unguarded_exp", MH_GUARD)
    assert "time.sleep(base_delay" in mutate("blocking_sleep", ASYNC_RETRY)
    assert "import time" in mutate("blocking_sleep", ASYNC_RETRY)
    swapped = mutate("swap_random_order", MH_GUARD)
    assert swapped.index("u = random.random()") < swapped.index("proposed = proposal(current, sigma)")
    assert "_ = " in mutate("discard_result", MH_CLAMP)


def test_mutants_are_defects() -> None:
    ns = _load(mutations.assert_to_pass(MA_LOOP, random.Random(0)).code)  # type: ignore[union-attr]
    assert "assert" not in ns["moving_average"].__code__.co_names
    guardless = [mutations.delete_guard(PD_REGEX, random.Random(seed)) for seed in range(6)]
    assert any(behaviour(PD, m.code) != behaviour(PD, PD_REGEX) for m in guardless if m is not None)
    swallowed = mutations.swallow_exceptions(ASYNC_RETRY, random.Random(0))
    assert swallowed is not None
    fn = _load(swallowed.code)["retry_async"]

    async def boom() -> None:
        raise KeyError("x")

    assert asyncio.run(fn(boom, attempts=1)) is None  # the error was swallowed


# ---------------------------------------------------------------------------- batch


@pytest.fixture(scope="module")
def big_batch() -> tuple[list[dict], float]:
    started = time.process_time()  # CPU time: wall time depends on the machine's load
    batch = generate_batch(fixture_samples(), 2000, seed=11)
    return batch, time.process_time() - started


def test_batch_reaches_target_with_unique_parsable_candidates(big_batch: tuple[list[dict], float]) -> None:
    batch, seconds = big_batch
    seeds = fixture_samples()
    assert len(seeds) >= 40
    assert len(batch) == 2000
    assert seconds < 20
    assert len({r["sample_id"] for r in batch}) == len(batch)
    seed_norms = {(s["task_id"], normalize(s["code"])) for s in seeds}
    norms = [(r["task_id"], normalize(r["code"])) for r in batch]
    assert len(set(norms)) == len(norms)
    assert not set(norms) & seed_norms
    for r in batch:
        compile(r["code"], r["sample_id"], "exec")


def test_batch_records_origin_and_lineage(big_batch: tuple[list[dict], float]) -> None:
    batch, _ = big_batch
    seeds = {s["sample_id"]: s for s in fixture_samples()}
    for r in batch:
        kind, ops = r["origin"].split(":", 1)
        assert kind in ("rewrite", "mutation")
        names = ops.split("+")
        assert 1 <= len(names) <= 3
        assert [op.split(":", 1)[1] for op in r["operators"]] == names
        if kind == "mutation":
            assert names[0] in MUTATIONS and all(n in REWRITES for n in names[1:]) and r["mutation_detail"]
        else:
            assert all(n in REWRITES for n in names)
        assert r["sample_id"].startswith("gen-11-")
        parent = seeds[r["parent_id"]]
        assert parent["task_id"] == r["task_id"]
        for key in ("broken_code", "traceback"):
            assert r.get(key) == parent.get(key)
    assert {op for r in batch for op in r["operators"] if op.startswith("mutation:")} >= {
        f"mutation:{name}" for name in MUTATIONS if name not in ("drop_await", "blocking_sleep")
    }


def test_batch_rewrites_behave_like_their_parent(big_batch: tuple[list[dict], float]) -> None:
    batch, _ = big_batch
    seeds = {s["sample_id"]: s for s in fixture_samples()}
    rewritten = [r for r in batch if r["origin"].startswith("rewrite:")]
    assert len(rewritten) > 1000
    for r in rewritten[::5]:  # rewrites only: mutants may loop forever and are not run here
        parent = seeds[r["parent_id"]]
        assert behaviour(r["task_id"], r["code"]) == behaviour(r["task_id"], parent["code"]), r["origin"]


def test_batch_mix_and_task_balance(big_batch: tuple[list[dict], float]) -> None:
    batch, _ = big_batch
    per_task = Counter(r["task_id"] for r in batch)
    assert set(per_task) == {MA, MH, PD}
    assert max(per_task.values()) - min(per_task.values()) <= 1
    share = sum(r["origin"].startswith("mutation:") for r in batch) / len(batch)
    assert 0.40 <= share <= 0.50


def test_batch_is_deterministic_for_a_seed() -> None:
    seeds = fixture_samples()
    first = generate_batch(seeds, 150, seed=5)
    assert first == generate_batch(seeds, 150, seed=5)
    assert [r["code"] for r in first] != [r["code"] for r in generate_batch(seeds, 150, seed=6)]


def test_small_corpus_stops_when_exhausted() -> None:
    tiny = [{"task_id": "x/y", "code": "def f():\n    return 1\n", "sample_id": "t"}]
    batch = generate_batch(tiny, 500, seed=0)
    assert 0 < len(batch) < 500
    assert len({normalize(r["code"]) for r in batch}) == len(batch)


def test_parent_labels_are_recorded() -> None:
    seeds = fixture_samples()
    labels = {s["sample_id"]: "correct" for s in seeds if s["sample_id"] != "fx-broken"}
    labels["fx-broken"] = "broken"
    batch = generate_batch(seeds, 200, seed=1, labels=labels)
    assert {r["parent_label"] for r in batch} <= {"correct", "broken"}
    assert all(r["parent_label"] == labels[r["parent_id"]] for r in batch)


def test_labelled_batch_follows_the_mix() -> None:
    seeds = fixture_samples()
    labels = {s["sample_id"]: ("broken" if i % 3 == 0 else "correct") for i, s in enumerate(seeds)}
    batch = generate_batch(seeds, 300, seed=2, labels=labels, mix=Mix(clean=0.2, mutation=0.4))
    assert len(batch) == 300
    kinds: Counter[str] = Counter()
    mutation_parents: Counter[str] = Counter()
    for r in batch:
        if r["origin"].startswith("mutation:"):
            kinds["mutation"] += 1
            mutation_parents[r["parent_label"]] += 1
        else:
            kinds["clean" if r["parent_label"] == "correct" else "disguise"] += 1
    assert abs(kinds["clean"] / 300 - 0.2) <= 0.03, kinds
    assert abs(kinds["mutation"] / 300 - 0.4) <= 0.03, kinds
    assert abs(kinds["disguise"] / 300 - 0.4) <= 0.03, kinds
    assert mutation_parents["correct"] > 2 * mutation_parents["broken"]  # near misses first


def test_default_mix_is_mostly_defective() -> None:
    shares = Mix().shares()
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["clean"] < 0.2 < shares["mutation"]


@pytest.mark.parametrize(("clean", "mutation"), [(-0.1, 0.4), (0.7, 0.4), (0.1, 1.2)])
def test_impossible_mix_is_refused(clean: float, mutation: float) -> None:
    with pytest.raises(ValueError, match="mix shares"):
        Mix(clean=clean, mutation=mutation)


# ---------------------------------------------------------------------------- I/O and CLI


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "batch.jsonl"

    def records():
        yield {"a": 1}
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_jsonl_atomic(out, records())
    assert list(tmp_path.iterdir()) == []
    out.write_text("old\n")
    with pytest.raises(RuntimeError):
        write_jsonl_atomic(out, records())
    assert out.read_text() == "old\n" and list(tmp_path.iterdir()) == [out]
    assert write_jsonl_atomic(out, [{"a": 1}, {"b": 2}]) == 2
    assert out.read_text().splitlines() == ['{"a": 1}', '{"b": 2}']


def _write_corpus(root: Path) -> Path:
    corpus, labels = root / "bundled", root / "labels"
    corpus.mkdir()
    labels.mkdir()
    by_task: dict[str, list[dict]] = {}
    for s in fixture_samples():
        by_task.setdefault(s["task_id"], []).append(s)
    for task, samples in by_task.items():
        name = task.replace("/", "__") + ".jsonl"
        lines = [json.dumps(s) for s in samples] + ["not json"]
        (corpus / name).write_text("\n".join(lines) + "\n")
        label_lines = [
            json.dumps({"sample_id": s["sample_id"], "task_id": task, "label": "correct"}) for s in samples
        ]
        (labels / name).write_text("\n".join(label_lines) + "\n")
    return corpus


def test_cli_writes_the_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _write_corpus(tmp_path)
    out = tmp_path / "out" / "nightly.jsonl"
    rc = generate.main(["--corpus", str(corpus), "--count", "600", "--seed", "3", "--out", str(out)])
    assert rc == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 600 and all(r["parent_label"] == "correct" for r in records)
    err = capsys.readouterr().err
    assert "generate: 250/600 candidates" in err and "generate: 600/600 candidates" in err
    assert "skipped 3 unreadable" in err and "wrote 600 candidates" in err
    assert [p.name for p in out.parent.iterdir()] == ["nightly.jsonl"]


def test_cli_rejects_an_impossible_mix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _write_corpus(tmp_path)
    out = tmp_path / "o.jsonl"
    rc = generate.main(["--corpus", str(corpus), "--clean-share", "0.9", "--out", str(out)])
    assert rc == 2 and not out.exists()
    assert "mix shares" in capsys.readouterr().err


def test_cli_rejects_missing_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = generate.main(["--corpus", str(tmp_path / "nope"), "--out", str(tmp_path / "o.jsonl")])
    assert rc == 2 and "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()
