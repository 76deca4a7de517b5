"""One scorecard: generate with base and base + adapter, score both, compare, decide, record.

Plain logic behind the ``scorecard`` asset: :func:`run_scorecard` writes every artefact into
an iteration folder and returns a :class:`Scorecard`; the asset only describes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dpo_assets.evaldata.problems import Problem
from dpo_assets.scorecard import ledger
from dpo_assets.scorecard.compare import Comparison, compare
from dpo_assets.scorecard.decision import Decision, Thresholds, decide
from dpo_assets.scorecard.generate import Generator, generate_solutions
from dpo_assets.scoring.execute import load_problems, score_completions
from dpo_assets.storage import atomic_text, write_jsonl

BENCHMARKS = ("humaneval", "mbpp")
VARIANTS = ("base", "trained")
Log = Callable[[str], None]


@dataclass
class Scorecard:
    iteration_id: str
    folder: Path
    comparisons: dict[str, Comparison]
    decision: Decision
    ledger_path: Path
    chart: Path
    problems: dict[str, int]


def select(problems: list[Problem], limit: int | None) -> list[Problem]:
    """The first ``limit`` problems in benchmark order (all with ``None``): a fixed subset, so
    base and trained, and successive iterations, are scored on the same problems."""
    return problems if not limit else problems[:limit]


def _frame(results: list[Any], keep: set[str]) -> pd.DataFrame:
    rows = [r.row() for r in results if r.task_id in keep]
    return pd.DataFrame(rows, columns=["task_id", "passed", "category", "exception_type"])


def run_scorecard(
    *,
    iteration_id: str,
    generators: Mapping[str, Generator],
    folder: Path,
    ledger_path: Path,
    limit: int | None,
    plus: bool,
    thresholds: Thresholds,
    pairs: int,
    pool_size: int,
    adapter: str,
    data_dir: str | None = None,
    cache_dir: Path | None = None,
    log: Log = print,
) -> Scorecard:
    """Generate, score and compare on both benchmarks; append the ledger; draw its chart."""
    folder.mkdir(parents=True, exist_ok=True)
    comparisons: dict[str, Comparison] = {}
    sizes: dict[str, int] = {}
    for benchmark in BENCHMARKS:
        problems = select(load_problems(benchmark, data_dir), limit)
        keep = {p.task_id for p in problems}
        sizes[benchmark] = len(problems)
        frames: dict[str, pd.DataFrame] = {}
        for variant in VARIANTS:
            log(f"{benchmark}: generating {len(problems)} completions with the {variant} model")
            samples = generate_solutions(
                generators[variant],
                problems,
                lambda done, total, b=benchmark, v=variant: log(f"{b} {v}: {done}/{total} generated"),
            )
            write_jsonl(folder / f"samples_{variant}_{benchmark}.jsonl",
                        [{"task_id": k, **v} for k, v in samples.items()])  # fmt: skip
            results = score_completions(benchmark, samples, plus=plus, data_dir=data_dir, cache_dir=cache_dir)
            write_jsonl(folder / f"results_{variant}_{benchmark}.jsonl",
                        [r.row() for r in results if r.task_id in keep])  # fmt: skip
            frames[variant] = _frame(results, keep)
            passed = int(frames[variant]["passed"].sum())
            log(f"{benchmark} {variant}: {passed}/{len(problems)} passed")
        comparisons[benchmark] = compare(benchmark, frames["base"], frames["trained"])
    decision = decide(comparisons, thresholds)
    entry = ledger.make_entry(iteration_id, comparisons, decision, pairs=pairs, pool_size=pool_size,
                              adapter=adapter)  # fmt: skip
    history = ledger.append(ledger_path, entry)
    chart = ledger.delta_chart(history, ledger_path.with_name("delta_per_iteration.png"))
    record = {
        "iteration_id": iteration_id,
        "decision": decision.label,
        "failed_rules": decision.failed_rules,
        "passed_rules": decision.passed_rules,
        "problems": sizes,
        "plus": plus,
    }
    with atomic_text(folder / "decision.json") as handle:
        json.dump(record, handle, indent=1)
    return Scorecard(iteration_id, folder, comparisons, decision, ledger_path, chart, sizes)
