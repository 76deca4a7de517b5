"""Benchmark problems (HumanEval, HumanEval+, MBPP+, sanitized MBPP) for decontamination."""

from dpo_assets.evaldata.problems import (
    BENCHMARK_FILES,
    ENV_VAR,
    Problem,
    default_offline_dir,
    load_all,
    load_humaneval,
    load_humaneval_plus,
    load_mbpp_plus,
    load_mbpp_sanitized,
)

__all__ = [
    "BENCHMARK_FILES",
    "ENV_VAR",
    "Problem",
    "default_offline_dir",
    "load_all",
    "load_humaneval",
    "load_humaneval_plus",
    "load_mbpp_plus",
    "load_mbpp_sanitized",
]
