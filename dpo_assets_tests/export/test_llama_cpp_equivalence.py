"""Opt-in (``pytest --llama-cpp``): llama.cpp runs our GGUF files as PEFT runs the checkpoint.

The stand-in base is written as a full GGUF (``export_model_gguf``), a random LoRA (B not zero,
so the adapter moves the logits) as a GGUF adapter (``convert_adapter``); llama.cpp, through
``llama-cpp-python``, must reproduce the PEFT model's logits within 1e-3 with the adapter, and
the base's without it. llama-cpp-python does not raise when llama.cpp ignores an adapter, so the
adapter's logits must also differ from the base's. The first run builds llama-cpp-python (it
compiles llama.cpp, 5-9 min on 2 cores) into ``data/cache/``; later runs reuse it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dpo_assets.export.gguf_adapter import convert_adapter
from dpo_assets.export.gguf_model import export_model_gguf

pytestmark = [pytest.mark.llama_cpp, pytest.mark.slow]

LLAMA_CPP_PYTHON = "llama-cpp-python==0.3.36"
EXTRA_RUNTIME = "diskcache==5.6.3"  # llama-cpp-python's one dependency the project does not have
CACHE = Path(__file__).resolve().parents[2] / "data" / "cache" / "llama-cpp-python-0.3.36"
TOLERANCE = 1e-3

RUNNER = r"""
import json, sys
import numpy as np
from llama_cpp import Llama

request = json.load(open(sys.argv[1]))
out = {}
for label, lora in (("base", None), ("adapter", request["adapter"])):
    llm = Llama(model_path=request["base"], lora_path=lora, n_ctx=128, n_batch=128, n_threads=2,
                logits_all=True, verbose=False, seed=0, type_k=0, type_v=0)  # f32 KV cache
    llm.eval(request["tokens"])
    np.save(request["out"] + f"/{label}.npy", np.asarray(llm.scores[: len(request["tokens"])]))
    out[label + "_tokenized"] = llm.tokenize(request["text"].encode(), add_bos=False, special=True)
json.dump(out, open(request["out"] + "/tokens.json", "w"))
"""


def _runtime_path() -> str | None:
    """Where ``llama_cpp`` imports from: already installed (None), else the cache, built once."""
    probe = subprocess.run([sys.executable, "-c", "import llama_cpp"], capture_output=True)
    if probe.returncode == 0:
        return None
    if (CACHE / "llama_cpp").is_dir():
        return str(CACHE)
    partial = CACHE.with_name(CACHE.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    print(f"building {LLAMA_CPP_PYTHON} into {CACHE} (compiles llama.cpp: 5-9 min)", file=sys.stderr)
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--target",
            str(partial),
            LLAMA_CPP_PYTHON,
            EXTRA_RUNTIME,
        ],
        env={**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2)},
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        pytest.fail(f"building {LLAMA_CPP_PYTHON} failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}")
    os.replace(partial, CACHE)
    return str(CACHE)


@pytest.fixture(scope="module")
def llama_cpp_path() -> str | None:
    return _runtime_path()


def _peft_model(tiny_base: Path, **lora_options):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(tiny_base), dtype=torch.float32)
    lora = LoraConfig(
        r=4, lora_alpha=8, init_lora_weights=False, lora_dropout=0.0,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        **lora_options,
    )  # fmt: skip
    model = get_peft_model(base, lora).eval()
    with torch.no_grad():  # random B at a realistic size: the adapter shifts logits by O(1)
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.mul_(0.05)
    return model


def _logits(model, tokens: list[int], *, adapter: bool) -> np.ndarray:
    import torch

    with torch.no_grad():
        if adapter:
            return model(torch.tensor([tokens])).logits[0].numpy()
        with model.disable_adapter():
            return model(torch.tensor([tokens])).logits[0].numpy()


@pytest.mark.parametrize(
    "lora_options",
    [{}, {"use_rslora": True, "alpha_pattern": {"down_proj": 16}}],
    ids=["plain", "rslora+alpha_pattern"],
)
def test_llama_cpp_reproduces_the_peft_logits(
    tiny_base: Path, tmp_path: Path, llama_cpp_path: str | None, lora_options: dict
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_base))
    text = (
        tokenizer.apply_chat_template(
            [{"role": "user", "content": "Write cholesky(a) for a symmetric positive definite matrix."}],
            tokenize=False,
            add_generation_prompt=True,
        )
        + "import numpy as np\n\ndef cholesky(a):\n"
    )
    tokens = tokenizer(text)["input_ids"]
    model = _peft_model(tiny_base, **lora_options)
    model.save_pretrained(str(tmp_path / "adapter"))
    export_model_gguf(tiny_base, tmp_path / "base.gguf", out_type="f32")
    report = convert_adapter(
        tmp_path / "adapter", tmp_path / "adapter.gguf", base=str(tiny_base), out_type="f32"
    )
    assert bool(report.folded_scales) == bool(lora_options)

    request = {"base": str(tmp_path / "base.gguf"), "adapter": str(tmp_path / "adapter.gguf"),
               "tokens": tokens, "text": text, "out": str(tmp_path)}  # fmt: skip
    (tmp_path / "request.json").write_text(json.dumps(request))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [llama_cpp_path, os.environ.get("PYTHONPATH")])),
    }
    run = subprocess.run(
        [sys.executable, "-c", RUNNER, str(tmp_path / "request.json")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]

    ours = {label: np.load(tmp_path / f"{label}.npy") for label in ("base", "adapter")}
    peft = {"base": _logits(model, tokens, adapter=False), "adapter": _logits(model, tokens, adapter=True)}
    for label in ("base", "adapter"):
        assert ours[label].shape == peft[label].shape == (len(tokens), len(tokenizer))
        gap = float(np.abs(ours[label] - peft[label]).max())
        print(f"{label}: max |llama.cpp - PEFT| = {gap:.2e}")
        assert gap < TOLERANCE, f"{label}: llama.cpp and PEFT logits differ by up to {gap:.2e}"
    shift = float(np.abs(peft["adapter"] - peft["base"]).max())
    print(f"the adapter moves the PEFT logits by up to {shift:.2f}")
    assert shift > 100 * TOLERANCE, (
        f"the adapter barely moves the logits ({shift:.2e}): the test would be blind"
    )
    assert float(np.abs(ours["adapter"] - ours["base"]).max()) > 100 * TOLERANCE, (
        "llama.cpp ignored the adapter"
    )
    # the vocabulary written into the GGUF tokenizes as the Hugging Face tokenizer does
    tokenized = json.loads((tmp_path / "tokens.json").read_text())
    assert tokenized["base_tokenized"] == tokens
