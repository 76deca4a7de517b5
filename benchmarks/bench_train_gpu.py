"""DPO training throughput: TRL's default memory settings vs the memory plan, on model shapes.

On a CUDA machine this trains randomly initialised Qwen2.5-Coder-0.5B- and 7B-shaped models
(no weights needed: the shapes are the published configs) on the bundled pairs for a few
steps, through the same ``build_trainer`` as ``lora_checkpoint``, once per mode:

- ``trl-default``: 2 pairs per device x 4 accumulation, gradient checkpointing on, reference
  log-probs recomputed every step (TRL's defaults);
- ``auto``: batch and checkpointing from the free memory, reference log-probs precomputed.

It prints tokens/s, peak memory and seconds per step, and the seconds the reference workload
(45 steps of 8 pairs) would take, end to end (trainer set-up and reference pass included).
On CPU it runs the tiny stand-in shape so the script cannot rot (a test does that).

    python benchmarks/bench_train_gpu.py                      # CUDA: 0.5b and 7b shapes
    python benchmarks/bench_train_gpu.py --shapes tiny --steps 2   # CPU smoke run
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dpo_assets.training.settings import QWEN2_TARGETS, TrainingSettings  # noqa: E402

# Published config.json values (hidden, intermediate, layers, heads, kv heads, vocab, tied).
SHAPES: dict[str, dict[str, Any]] = {
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
    "7b": dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
               num_key_value_heads=4, vocab_size=152064, tie_word_embeddings=False),
    "tiny": {},  # the offline stand-in's own config
}  # fmt: skip
MODES = {
    "trl-default": {"per_device_batch_size": 2, "gradient_accumulation_steps": 4,
                    "gradient_checkpointing": "on", "precompute_ref_log_probs": "off"},
    "auto": {},
}  # fmt: skip
REFERENCE_STEPS = 45


def _pairs(path: Path | None, workdir: Path) -> Path:
    if path is not None:
        return path
    default = REPO / "data" / "pairs" / "pairs.parquet"
    if default.is_file():
        return default
    from dpo_assets.training.bundled_pairs import bundled_pairs

    out = workdir / "pairs.parquet"
    bundled_pairs(12).to_parquet(out, index=False)
    return out


def _model(shape: str, tokenizer_dir: Path, cuda: bool):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, Qwen2Config, Qwen2ForCausalLM

    if shape == "tiny":
        return AutoModelForCausalLM.from_pretrained(tokenizer_dir)
    dtype = torch.bfloat16 if cuda else torch.float32
    config = Qwen2Config(**SHAPES[shape], max_position_embeddings=32768, rope_theta=1e6)
    base = AutoConfig.from_pretrained(tokenizer_dir)
    config.eos_token_id, config.pad_token_id = base.eos_token_id, base.pad_token_id
    with torch.device("cuda" if cuda else "cpu"):
        torch.manual_seed(0)
        return Qwen2ForCausalLM(config).to(dtype)


def run_one(shape: str, mode: str, steps: int, pairs_path: Path, workdir: Path) -> dict[str, Any]:
    import torch
    from peft import LoraConfig
    from transformers import AutoTokenizer

    from dpo_assets.training.dataset import load_pairs
    from dpo_assets.training.tiny_base import ensure_tiny_base
    from dpo_assets.training.trainer import build_trainer, cuda_available

    cuda = cuda_available()
    stand_in = ensure_tiny_base()
    tokenizer = AutoTokenizer.from_pretrained(stand_in)
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    model = _model(shape, stand_in, cuda)
    loaded = time.perf_counter()
    settings = TrainingSettings(
        base_model="" if shape == "tiny" else f"random-{shape}", save_steps=10**6,
        extra={"max_steps": steps, "save_strategy": "no"}, **MODES[mode],
    )  # fmt: skip
    peft_config = LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=list(QWEN2_TARGETS),
        task_type="CAUSAL_LM",
    )
    pairs = load_pairs(pairs_path)
    built = build_trainer(
        settings, model, tokenizer, peft_config, pairs, None, workdir / f"{shape}-{mode}", cuda=cuda
    )
    prepared = time.perf_counter()
    built.trainer.train()
    if cuda:
        torch.cuda.synchronize()
    done = time.perf_counter()
    per_pair = _mean_tokens(built.trainer.train_dataset)
    pairs_done = steps * built.settings.per_device_batch_size * built.settings.gradient_accumulation_steps
    train_seconds = done - prepared
    setup_seconds = prepared - loaded  # tokenisation + the reference pass when precomputed
    peak = (
        torch.cuda.max_memory_allocated()
        if cuda
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    result = {
        "shape": shape,
        "mode": mode,
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "plan": built.plan_text,
        "batch": f"{built.settings.per_device_batch_size} x {built.settings.gradient_accumulation_steps}",
        "steps": steps,
        "tokens_per_pair": round(per_pair),
        "seconds_per_step": round(train_seconds / steps, 3),
        "setup_seconds": round(setup_seconds, 2),
        "tokens_per_second": round(pairs_done * per_pair / train_seconds, 1),
        "peak_memory_gib": round(peak / 1024**3, 2),
        "reference_workload_seconds": round(setup_seconds + train_seconds / steps * REFERENCE_STEPS, 1),
        "model_load_seconds": round(loaded - started, 2),
    }
    del built, model
    if cuda:
        torch.cuda.empty_cache()
    return result


def _mean_tokens(dataset) -> float:
    total = sum(2 * len(p) + len(c) + len(r) for p, c, r in
                zip(dataset["prompt_ids"], dataset["chosen_ids"], dataset["rejected_ids"]))  # fmt: skip
    return total / max(len(dataset), 1)


def main(argv: list[str] | None = None) -> int:
    from dpo_assets.training.trainer import cuda_available

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    shapes_help = "comma list of 0.5b,7b,tiny (default: 0.5b,7b on CUDA, tiny on CPU)"
    parser.add_argument("--shapes", default=None, help=shapes_help)
    parser.add_argument("--modes", default="trl-default,auto")
    parser.add_argument("--steps", type=int, default=12, help="optimiser steps per measurement")
    parser.add_argument(
        "--pairs", type=Path, default=None, help="pairs.parquet (default: data/pairs or built)"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    shapes = (args.shapes or ("0.5b,7b" if cuda_available() else "tiny")).split(",")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-train-") as scratch:
        pairs = _pairs(args.pairs, Path(scratch))
        for shape in shapes:
            for mode in args.modes.split(","):
                result = run_one(shape, mode, args.steps, pairs, Path(scratch))
                results.append(result)
                print(json.dumps(result), flush=True)
    columns = ("shape", "mode", "batch", "tokens_per_pair", "seconds_per_step", "tokens_per_second",
               "peak_memory_gib", "reference_workload_seconds")  # fmt: skip
    print("\n" + " | ".join(columns))
    for r in results:
        print(" | ".join(str(r[c]) for c in columns))
    for shape in shapes:
        by_mode = {r["mode"]: r for r in results if r["shape"] == shape}
        if {"trl-default", "auto"} <= by_mode.keys():
            gain = (
                by_mode["trl-default"]["reference_workload_seconds"]
                / by_mode["auto"]["reference_workload_seconds"]
            )
            print(f"{shape}: auto is {gain:.2f}x TRL's defaults end to end")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
