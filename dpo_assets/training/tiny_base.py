"""The offline stand-in for the real base model: a tiny Qwen2 with a ChatML tokenizer.

Nothing can be downloaded here, yet the training, scoring and export stages must run through
the same code as ``Qwen/Qwen2.5-Coder-7B-Instruct``. So when no model is configured or
reachable, :func:`ensure_tiny_base` builds one once and caches it under ``data/models/``:

- a byte-level BPE tokenizer trained on the project's own text (task prompts, bundled
  samples, benchmark prompts when present), with Qwen's special tokens and ChatML template;
- a randomly initialised ``Qwen2ForCausalLM`` of a few hundred thousand parameters, saved as
  safetensors with its ``config.json``, loadable with ``AutoModelForCausalLM``.

Build inputs are deterministic, so two builds give the same tokenizer and weights.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dpo_assets import paths

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

ENDOFTEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = (ENDOFTEXT, IM_START, IM_END)
DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

# Qwen2.5's ChatML layout without its tool-calling branches: a default system turn, every
# message as <|im_start|>role\ncontent<|im_end|>\n, and the assistant header on request.
CHATML_TEMPLATE = (
    "{%- if messages[0]['role'] != 'system' %}"
    "{{- '<|im_start|>system\\n" + DEFAULT_SYSTEM + "<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
# The marker that tells a finished build from one that was interrupted.
BUILD_RECORD = "tiny_base.json"


@dataclass(frozen=True)
class TinyShape:
    """Qwen2 dimensions of the stand-in model (the real 7B: 3584 hidden, 28 layers, 28/4 heads)."""

    vocab_size: int = 4096
    hidden_size: int = 64
    intermediate_size: int = 176
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 4096
    seed: int = 0
    pretrain_epochs: float = 2.0  # causal-LM passes over the corpus conversations (0: random weights)
    pretrain_block: int = 1024
    pretrain_batch: int = 8
    pretrain_learning_rate: float = 3e-3


def default_dir() -> Path:
    """Where the stand-in is cached: ``data/models/tiny-qwen2``."""
    return paths.models_dir() / "tiny-qwen2"


def corpus_texts() -> Iterator[str]:
    """The text the tokenizer learns from, in a fixed order: task prompts and bundled code."""
    from dpo_assets.tasks import load_catalog

    for _task_id, task in sorted(load_catalog().items()):
        yield task.prompt()
    for path in sorted(paths.bundled_dir().glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                yield str(row.get("code") or "")
                if row.get("broken_code"):
                    yield str(row["broken_code"])
                if row.get("traceback"):
                    yield str(row["traceback"])


def corpus_conversations() -> Iterator[list[dict[str, str]]]:
    """Every bundled sample as the chat it answers (task prompt, then the code), in file order."""
    from dpo_assets.pool.pairs import fenced
    from dpo_assets.tasks import load_catalog

    catalog = load_catalog()
    for path in sorted(paths.bundled_dir().glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            task = catalog.get(str(row.get("task_id")))
            if task is None or not row.get("code"):
                continue
            prompt = task.prompt(row.get("broken_code"), row.get("traceback"))
            yield [{"role": "user", "content": prompt}, {"role": "assistant", "content": fenced(row["code"])}]


def pretrain(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, shape: TinyShape) -> list[float]:
    """A few causal-LM epochs over the corpus conversations, packed into blocks (seeded, CPU).

    The stand-in then knows the chat format and the code of the tasks, as a real instruct base
    does, so DPO has something to move. Returns the loss per step.
    """
    import torch

    ids: list[int] = []
    for chat in corpus_conversations():
        ids += tokenizer.apply_chat_template(chat, tokenize=True)["input_ids"]
    block = shape.pretrain_block
    blocks = torch.tensor(ids[: len(ids) // block * block]).view(-1, block)
    generator = torch.Generator().manual_seed(shape.seed)
    steps = math.ceil(len(blocks) / shape.pretrain_batch * shape.pretrain_epochs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=shape.pretrain_learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, shape.pretrain_learning_rate, total_steps=max(steps, 1)
    )
    losses: list[float] = []
    model.train()
    order = torch.randperm(len(blocks), generator=generator)
    for step in range(steps):
        start = (step * shape.pretrain_batch) % len(blocks)
        if start + shape.pretrain_batch > len(order):
            order = torch.randperm(len(blocks), generator=generator)
            start = 0
        batch = blocks[order[start : start + shape.pretrain_batch]]
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(loss.item(), 4))
    model.eval()
    return losses


def train_tokenizer(texts: Iterable[str], vocab_size: int = TinyShape.vocab_size) -> PreTrainedTokenizerBase:
    """A byte-level BPE tokenizer (GPT-2 pre-tokenisation, like Qwen's) with ChatML.

    ``eos`` is ``<|im_end|>`` and ``pad`` is ``<|endoftext|>``, as in Qwen2.5-Instruct.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token=IM_END,
        pad_token=ENDOFTEXT,
        bos_token=None,
        unk_token=None,
        additional_special_tokens=[IM_START, IM_END],
        model_max_length=TinyShape.max_position_embeddings,
        padding_side="right",
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def build_model(tokenizer: PreTrainedTokenizerBase, shape: TinyShape = TinyShape()) -> PreTrainedModel:
    """A randomly initialised Qwen2 causal LM sized for ``tokenizer`` (seeded)."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden_size,
        intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_hidden_layers,
        num_attention_heads=shape.num_attention_heads,
        num_key_value_heads=shape.num_key_value_heads,
        max_position_embeddings=shape.max_position_embeddings,
        tie_word_embeddings=False,  # as the 7B: lm_head is its own matrix
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids(IM_END),
        pad_token_id=tokenizer.convert_tokens_to_ids(ENDOFTEXT),
    )
    torch.manual_seed(shape.seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=[config.eos_token_id, config.pad_token_id], pad_token_id=config.pad_token_id
    )
    return model


def is_built(folder: Path) -> bool:
    """Whether ``folder`` holds a finished build (its record is written last)."""
    return (folder / BUILD_RECORD).is_file()


def _recorded(folder: Path) -> dict:
    data = json.loads((folder / BUILD_RECORD).read_text())
    return {"shape": data.get("shape"), "format": data.get("format")}


def ensure_tiny_base(folder: Path | None = None, shape: TinyShape = TinyShape()) -> Path:
    """The cached stand-in model folder, built first if missing or built with another shape.

    The build happens in a sibling temporary folder that is renamed into place, so an
    interrupted build leaves nothing that looks finished.
    """
    folder = Path(folder or default_dir())
    record = {"shape": asdict(shape), "format": 2}
    if is_built(folder) and _recorded(folder) == record:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    scratch.chmod(0o755)
    try:
        tokenizer = train_tokenizer(corpus_texts(), shape.vocab_size)
        tokenizer.save_pretrained(scratch)
        model = build_model(tokenizer, shape)
        losses = pretrain(model, tokenizer, shape) if shape.pretrain_epochs > 0 else []
        model.save_pretrained(scratch, safe_serialization=True)
        build = {**record, "pretrain_steps": len(losses), "pretrain_loss": losses[:1] + losses[-1:]}
        (scratch / BUILD_RECORD).write_text(json.dumps(build, indent=1) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(scratch, folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return folder
