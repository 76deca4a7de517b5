"""Score completions on HumanEval(+)/MBPP(+) in the sandbox, one problem per sandbox run.

A candidate program (prompt + ``completion``, or a whole ``solution``) is loaded in a fresh
sandbox child, and :func:`dpo_assets.scoring.harness.call_input` calls its entry point once per
benchmark input (the Plus files' ``base_input``, with ``plus=True`` also ``plus_input``: for
HumanEval the base inputs are the original tests' inputs). Every output crosses the wire by
exact type and is compared in this process with :mod:`dpo_assets.scoring.oracle`; the first
failing input decides the category (:mod:`dpo_assets.scoring.categories`).

Time limits per problem come from the canonical solution's measured seconds in the same
sandbox: each input may take ``max(1 s, 4 x the slowest reference input) + 1 s`` (evalplus:
``max(1 s, 4 x reference)``; the extra second covers loading the candidate, which the first
input's clock includes), the whole problem ``10 s + 4 x the reference total``.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dpo_assets import paths
from dpo_assets.evaldata import problems as evaldata
from dpo_assets.sandbox.concurrency import default_jobs
from dpo_assets.sandbox.executor import Executor
from dpo_assets.sandbox.limits import Limits
from dpo_assets.sandbox.outcome import Call, Observation, Outcome, Status
from dpo_assets.scoring import oracle
from dpo_assets.scoring.categories import Category, builtin_mro, classify, exception_name

HARNESS = "dpo_assets.scoring.harness"
DRIVER = "call_input"
BENCHMARKS = ("humaneval", "mbpp")

TIME_FACTOR = 4.0  # evalplus' DEFAULT_GT_TIME_LIMIT_FACTOR
MIN_CALL_SECONDS = 1.0  # evalplus' DEFAULT_MIN_TIME_LIMIT
LOAD_SECONDS = 1.0  # added to the per-input limit: the first input's clock includes loading
MIN_WALL_SECONDS = 10.0
CHUNK_SECONDS = 2.0  # reference seconds per sandbox run, at most about (one input may take longer)
REFERENCE_LIMITS = Limits(wall_seconds=600.0, cpu_seconds=600, memory_bytes=4 * 1024**3)
MEMORY_BYTES = 4 * 1024**3  # evalplus' default cap (EVALPLUS_MAX_MEMORY_BYTES)

Progress = Callable[[str, int, int], None]  # (phase: "reference" | "score", done, total)


@dataclass(frozen=True)
class ProblemResult:
    """The verdict on one benchmark problem."""

    task_id: str
    passed: bool
    category: Category
    exception_type: str | None = None
    detail: str = ""

    def row(self) -> dict[str, Any]:
        """The ``results.jsonl`` object (``spec/formats.md``)."""
        return {
            "task_id": self.task_id,
            "passed": self.passed,
            "category": self.category.value,
            "exception_type": self.exception_type,
        }


@dataclass
class Benchmark:
    """A benchmark's problems with their canonical solutions' references (see :func:`prepare`)."""

    name: str  # "humaneval" or "mbpp"
    problems: list[evaldata.Problem]
    references: dict[str, oracle.Reference]
    plus: bool = True  # whether the references cover the plus inputs too
    _chunks: dict[tuple[str, bool], tuple[Chunk, ...]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def problem(self, task_id: str) -> evaldata.Problem | None:
        return next((p for p in self.problems if p.task_id == task_id), None)

    def inputs(self, problem: evaldata.Problem, plus: bool) -> list[Any]:
        """The raw (stored) inputs scored, base inputs first."""
        return _inputs(problem, plus)[: len(self.references[problem.task_id].outputs)]

    def chunks(self, problem: evaldata.Problem, plus: bool) -> tuple[Chunk, ...]:
        """The problem's inputs as sandbox runs, the same objects each time (a sandbox then ships
        a batch once): consecutive inputs whose reference seconds add up to about
        :data:`CHUNK_SECONDS`, so a heavy problem spreads over the pool's slots."""
        key = (problem.task_id, plus)
        with self._lock:
            hit = self._chunks.get(key)
            if hit is None:
                hit = self._chunks[key] = _split(self.name, problem, self.inputs(problem, plus),
                                                 self.references[problem.task_id].seconds)  # fmt: skip
        return hit


@dataclass(frozen=True)
class Chunk:
    """Consecutive inputs of one problem, run in one sandbox: ``calls`` from input ``start``."""

    start: int
    calls: tuple[Call, ...]
    limits: Limits
    reference_seconds: float


def _split(
    benchmark: str, problem: evaldata.Problem, inputs: Sequence[Any], seconds: Sequence[float]
) -> tuple[Chunk, ...]:
    calls = input_calls(benchmark, problem, inputs)
    bounds, total = [0], 0.0
    for i in range(len(calls)):
        total += seconds[i]
        if total >= CHUNK_SECONDS and i + 1 < len(calls):
            bounds.append(i + 1)
            total = 0.0
    bounds.append(len(calls))
    chunks = []
    for start, end in itertools.pairwise(bounds):
        times = seconds[start:end]
        chunks.append(Chunk(start, tuple(calls[start:end]), limits_for(times), sum(times)))
    return tuple(chunks)


def task_number(benchmark: str, task_id: str) -> int:
    """MBPP's task number (its inputs need rebuilding by number); 0 for HumanEval."""
    return int(task_id.rpartition("/")[2]) if benchmark == "mbpp" else 0


def input_calls(benchmark: str, problem: evaldata.Problem, inputs: Sequence[Any]) -> list[Call]:
    """One harness call per stored input (shipped as its JSON text)."""
    number = task_number(benchmark, problem.task_id)
    return [
        Call(DRIVER, {"function": problem.entry_point, "args": json.dumps(a), "task": number}) for a in inputs
    ]


def _inputs(problem: evaldata.Problem, plus: bool) -> list[Any]:
    base = list(problem.extra.get("base_input") or [])
    return base + list(problem.extra.get("plus_input") or []) if plus else base


def load_problems(benchmark: str, data_dir: str | os.PathLike[str] | None = None) -> list[evaldata.Problem]:
    """HumanEval+ or MBPP+ problems (the Plus files carry the inputs of both variants)."""
    if benchmark == "humaneval":
        return evaldata.load_humaneval_plus(data_dir)
    if benchmark == "mbpp":
        return evaldata.load_mbpp_plus(data_dir)
    raise ValueError(f"unknown benchmark {benchmark!r}: expected one of {', '.join(BENCHMARKS)}")


def _digest_rows(problems: Iterable[evaldata.Problem]) -> list[dict[str, Any]]:
    keys = ("base_input", "plus_input", "atol")
    return [
        {"task_id": p.task_id, "prompt": p.prompt, "canonical_solution": p.canonical_solution,
         "entry_point": p.entry_point, **{k: p.extra.get(k) for k in keys}}
        for p in problems
    ]  # fmt: skip


# --------------------------------------------------------------------------- references


def _reference(benchmark: str, problem: evaldata.Problem, executor: Executor, plus: bool) -> oracle.Reference:
    """Run the canonical solution over the inputs (base, and with ``plus`` the plus ones) in the sandbox."""
    inputs = _inputs(problem, plus)
    calls = input_calls(benchmark, problem, inputs)
    outcome = executor.run(problem.prompt + problem.canonical_solution, HARNESS, calls, REFERENCE_LIMITS)
    outputs: list[Any] = []
    seconds: list[float] = []
    error: str | None = None
    for i, obs in enumerate(outcome.observations):
        if obs.raised:
            error = f"input {i + 1}: {obs.describe()}"
            break
        try:
            outputs.append(oracle.reference_entry(benchmark, problem.entry_point, obs.value))
        except ValueError as exc:
            error = f"input {i + 1}: {exc}"
            break
        seconds.append(obs.seconds)
    if error is None and not outcome.ok:
        error = f"after {len(outputs)} of {len(inputs)} inputs: {outcome.describe()}"
    n_base = len(problem.extra.get("base_input") or [])
    return oracle.Reference(outputs, seconds, min(n_base, len(outputs)), error)


def prepare(
    benchmark: str,
    *,
    plus: bool = True,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: Path | None = None,
    executor: Executor | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    task_ids: Collection[str] | None = None,
) -> Benchmark:
    """Load ``benchmark`` and its canonical solutions' references for the base inputs, with
    ``plus`` (the default) for all inputs: from the cache under ``cache_dir`` (default
    ``<data>/cache``; a base-only run also takes an all-inputs cache), else computed in the
    sandbox and cached. ``task_ids`` keeps only those problems (tests, quick looks)."""
    problems = load_problems(benchmark, data_dir)
    if task_ids is not None:
        problems = [p for p in problems if p.task_id in task_ids]
    digest = oracle.problems_digest(_digest_rows(problems))
    folder = cache_dir or paths.data_dir() / "cache"
    task_ids = {p.task_id for p in problems}
    for variant in (True,) if plus else (False, True):
        references = oracle.load_cache(oracle.cache_file(folder, benchmark, digest, variant))
        if references is not None and set(references) == task_ids:
            return Benchmark(benchmark, problems, references, variant)
    with _executor(executor, jobs) as (run, size):
        tasks = [lambda p=p: _reference(benchmark, p, run, plus) for p in problems]
        found = _parallel(tasks, size, "reference", progress)
    references = {p.task_id: ref for p, ref in zip(problems, found)}
    oracle.save_cache(oracle.cache_file(folder, benchmark, digest, plus), references)
    return Benchmark(benchmark, problems, references, plus)


# --------------------------------------------------------------------------- scoring


def limits_for(seconds: Sequence[float]) -> Limits:
    """Limits of a run from the reference's seconds per input (see the module docstring)."""
    slowest, total = max(seconds, default=0.0), sum(seconds)
    wall = MIN_WALL_SECONDS + TIME_FACTOR * total
    return Limits(
        wall_seconds=wall,
        cpu_seconds=math.ceil(wall) + 1,
        memory_bytes=MEMORY_BYTES,
        call_seconds=max(MIN_CALL_SECONDS, TIME_FACTOR * slowest) + LOAD_SECONDS,
    )


def program(problem: evaldata.Problem, sample: Mapping[str, Any]) -> str:
    """The candidate program: the sample's ``solution``, else the prompt + its ``completion``."""
    solution = sample.get("solution")
    if isinstance(solution, str):
        return solution
    return problem.prompt + str(sample.get("completion") or "")


def _failed(task_id: str, category: Category, exception: str | None, detail: str) -> ProblemResult:
    return ProblemResult(task_id, False, category, exception, detail[:500])


_TRANSFER = "result could not be transferred: "


def _judge_raised(task_id: str, where: str, obs: Observation) -> ProblemResult:
    assert obs.error_type is not None
    if obs.error_message.startswith(_TRANSFER):  # the output itself could not cross the wire
        return _failed(task_id, Category.ASSERTION_FAIL, None, f"{where}: {obs.error_message}")
    category = classify(obs.error_mro)
    return _failed(task_id, category, exception_name(obs.error_type), f"{where}: {obs.describe()}")


def _judge_status(task_id: str, outcome: Outcome) -> ProblemResult:
    detail = outcome.describe()
    if outcome.status is Status.IMPORT_ERROR:
        etype, _, _ = outcome.detail.partition(": ")
        category = classify(builtin_mro(etype), at_import=True)
        return _failed(task_id, category, exception_name(etype) or None, f"loading the program: {detail}")
    if outcome.status is Status.TIMEOUT:
        return _failed(task_id, Category.TIMEOUT, None, detail)
    if outcome.status is Status.MEMORY:
        raised = "MemoryError" if outcome.detail.startswith("MemoryError") else None
        return _failed(task_id, Category.OTHER_RUNTIME, raised, detail)
    return _failed(task_id, Category.OTHER_RUNTIME, None, detail)  # EXITED, CRASHED


def judge(
    bench: Benchmark, problem: evaldata.Problem, chunk: Chunk, outcome: Outcome, plus: bool
) -> ProblemResult | None:
    """The verdict on one sandbox run of a chunk: the first failing input's, or None if all pass."""
    task_id = problem.task_id
    reference = bench.references[task_id]
    inputs = bench.inputs(problem, plus)
    atol = float(problem.extra.get("atol") or 0.0)
    check = oracle.special_check(bench.name, task_id, problem.entry_point)
    number = task_number(bench.name, task_id)
    for j, obs in enumerate(outcome.observations):
        i = chunk.start + j
        where = f"input {i + 1} of {len(inputs)}"
        if obs.raised:
            return _judge_raised(task_id, where, obs)
        expected = oracle.decode_output(reference.outputs[i])
        try:
            got = oracle.unwrap(obs.value)
        except ValueError as exc:
            return _failed(task_id, Category.ASSERTION_FAIL, None, f"{where}: {exc}")
        if check is not None:
            ok = check(got, expected, oracle.call_args(bench.name, number, inputs[i]), atol)
        else:
            ok = oracle.outputs_match(got, expected, atol)
        if not ok:
            detail = (
                f"{where} {oracle.describe(inputs[i], 100)}: returned {oracle.describe(got)}, "
                f"expected {oracle.describe(expected)}"
            )
            return _failed(task_id, Category.ASSERTION_FAIL, None, detail)
    if outcome.ok and len(outcome.observations) == len(chunk.calls):
        return None
    return _judge_status(task_id, outcome)


def run_chunk(
    bench: Benchmark, problem: evaldata.Problem, chunk: Chunk, source: str, executor: Executor, plus: bool
) -> ProblemResult | None:
    """Run one chunk of a candidate in the sandbox and judge it (None: every input passed)."""
    outcome = executor.run(source, HARNESS, chunk.calls, chunk.limits)
    if outcome.status is Status.CRASHED:  # the machinery, or a candidate breaking the channel: once more
        outcome = executor.run(source, HARNESS, chunk.calls, chunk.limits)
    return judge(bench, problem, chunk, outcome, plus)


def _missing(task_id: str) -> ProblemResult:
    return _failed(task_id, Category.MISSING, None, "no sample")


def _verdict(task_id: str, failures: Iterable[ProblemResult | None]) -> ProblemResult:
    """The first chunk's failure (chunks in input order), else a pass."""
    return next((f for f in failures if f is not None), None) or ProblemResult(task_id, True, Category.PASS)


def score_problem(
    bench: Benchmark,
    problem: evaldata.Problem,
    sample: Mapping[str, Any] | None,
    executor: Executor,
    plus: bool,
) -> ProblemResult:
    """Score one sample of ``problem``, chunk after chunk, stopping at the first failure
    (MISSING without a sample)."""
    if sample is None:
        return _missing(problem.task_id)
    source = program(problem, sample)
    for chunk in bench.chunks(problem, plus):
        failure = run_chunk(bench, problem, chunk, source, executor, plus)
        if failure is not None:
            return failure
    return ProblemResult(problem.task_id, True, Category.PASS)


def score_completions(
    benchmark: str,
    samples: Mapping[str, Mapping[str, Any]],
    *,
    plus: bool,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: Path | None = None,
    executor: Executor | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    prepared: Benchmark | None = None,
) -> list[ProblemResult]:
    """Score one sample per problem (``{task_id: {"completion"|"solution": str}}``), in benchmark
    order; a problem without a sample is ``MISSING``, samples for unknown task ids are ignored.

    ``data_dir`` is where the benchmark files are (see :mod:`dpo_assets.evaldata.problems`);
    ``executor`` defaults to a fresh sandbox pool of ``jobs`` slots (CPUs + 2), closed at the end;
    ``progress(phase, done, total)`` counts sandbox runs.
    """
    with _executor(executor, jobs) as (run, size):
        bench = prepared or prepare(
            benchmark, plus=plus, data_dir=data_dir, cache_dir=cache_dir, executor=run, jobs=size,
            progress=progress,
        )  # fmt: skip
        if plus and not bench.plus:
            raise ValueError("the prepared benchmark has no references for the plus inputs")
        work: list[tuple[int, Chunk]] = []
        for index, problem in enumerate(bench.problems):
            if problem.task_id in samples:
                work.extend((index, chunk) for chunk in bench.chunks(problem, plus))
        work.sort(key=lambda item: -item[1].reference_seconds)  # longest first: no slow straggler
        sources = {i: program(bench.problems[i], samples[bench.problems[i].task_id]) for i, _ in work}
        tasks = [
            lambda i=i, c=c: run_chunk(bench, bench.problems[i], c, sources[i], run, plus) for i, c in work
        ]
        found = _parallel(tasks, size, "score", progress)
    failures: dict[int, list[tuple[int, ProblemResult | None]]] = {}
    for (index, chunk), failure in zip(work, found):
        failures.setdefault(index, []).append((chunk.start, failure))
    results = []
    for index, problem in enumerate(bench.problems):
        if index not in failures:
            results.append(_missing(problem.task_id))
        else:
            results.append(_verdict(problem.task_id, (f for _, f in sorted(failures[index], key=_first))))
    return results


def _first(item: tuple[int, Any]) -> int:
    return item[0]


def summarize(results: Sequence[ProblemResult]) -> dict[str, Any]:
    """``summary.json``: ``pass_at_1`` (a fraction), the problem count and a count per category."""
    counts = Counter(r.category for r in results)
    passed = sum(1 for r in results if r.passed)
    return {
        "pass_at_1": passed / len(results) if results else 0.0,
        "problems": len(results),
        "passed": passed,
        "categories": {c.value: counts.get(c, 0) for c in Category},
    }


# --------------------------------------------------------------------------- plumbing


class _executor:
    """``with _executor(executor, jobs) as (run, size)``: the given executor, or a new pool."""

    def __init__(self, executor: Executor | None, jobs: int | None) -> None:
        self.given, self.jobs = executor, jobs or default_jobs()
        self.pool: Any = None

    def __enter__(self) -> tuple[Executor, int]:
        if self.given is not None:
            return self.given, self.jobs
        from dpo_assets.sandbox.forkserver import SandboxPool

        self.pool = SandboxPool(size=self.jobs)
        return self.pool, self.jobs

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.close()


def _parallel(
    tasks: Sequence[Callable[[], Any]], jobs: int, phase: str, progress: Progress | None
) -> list[Any]:
    """Run ``tasks`` on ``jobs`` threads; results in order; ``progress(phase, done, total)``."""
    total, done, lock = len(tasks), [0], threading.Lock()

    def run(task: Callable[[], Any]) -> Any:
        result = task()
        if progress is not None:
            with lock:
                done[0] += 1
                progress(phase, done[0], total)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(run, tasks))
