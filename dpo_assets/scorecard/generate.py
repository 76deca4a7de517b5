"""Completions for benchmark problems: a local model (transformers, + LoRA) or an HTTP endpoint.

Every backend turns a list of chat prompts into reply texts, greedily. The prompt asks for a
self-contained program in a fenced block (evalplus' instruction); :func:`extract_solution`
takes the code back out. The local backend batches with left padding and the model's chat
template; the endpoint backend speaks the OpenAI-compatible ``/v1/chat/completions`` and
Ollama's ``/api/chat`` (through the shared :mod:`dpo_assets.generator.client`), with retries, so
the deployed model can be scored the same way.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from dpo_assets.evaldata.problems import Problem
from dpo_assets.generator.client import ChatClient, ChatError
from dpo_assets.generator.extract import extract_code

INSTRUCTION = (
    "Please provide a self-contained Python script that solves the following problem in a "
    "markdown code block:\n```python\n{prompt}\n```"
)
Progress = Callable[[int, int], None]


class Generator(Protocol):
    name: str

    def generate(
        self, chats: Sequence[list[dict[str, str]]], progress: Progress | None = None
    ) -> list[str]: ...


def chat_for(problem: Problem) -> list[dict[str, str]]:
    return [{"role": "user", "content": INSTRUCTION.format(prompt=problem.prompt.strip())}]


def extract_solution(reply: str, problem: Problem) -> str:
    """The program in ``reply``: its code (:func:`extract_code`), else the whole reply (a bare
    completion body); the problem's prompt is put in front when the code does not define the
    entry point itself."""
    code = extract_code(reply) or reply.strip("\n") + "\n"
    if not re.search(rf"^\s*def\s+{re.escape(problem.entry_point)}\s*\(", code, re.M):
        code = problem.prompt + code
    return code


@dataclass
class TransformersGenerator:
    """Greedy generation with a local model, optionally with a LoRA adapter on top."""

    model_path: str
    adapter_dir: str | None = None
    batch_size: int = 8
    max_new_tokens: int = 512
    name: str = "transformers"

    def _load(self):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        cuda = torch.cuda.is_available()
        tokenizer = AutoTokenizer.from_pretrained(self.adapter_dir or self.model_path)
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(
            self.model_path,
            dtype=torch.bfloat16 if cuda else torch.float32,
            device_map={"": 0} if cuda else None,
        )
        if self.adapter_dir:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, self.adapter_dir)
        model.eval()
        return model, tokenizer

    def generate(self, chats: Sequence[list[dict[str, str]]], progress: Progress | None = None) -> list[str]:
        import torch

        model, tokenizer = self._load()
        replies: list[str] = []
        for start in range(0, len(chats), self.batch_size):
            batch = chats[start : start + self.batch_size]
            texts = [
                tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in batch
            ]
            inputs = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            inputs = inputs.to(model.device)
            with torch.no_grad():
                output = model.generate(
                    **inputs,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                )
            new = output[:, inputs["input_ids"].shape[1] :]
            replies += tokenizer.batch_decode(new, skip_special_tokens=True)
            if progress:
                progress(len(replies), len(chats))
        del model
        return replies


EndpointError = ChatError  # the endpoint kept failing after its retries, or answered something unreadable


@dataclass
class EndpointGenerator:
    """An OpenAI-compatible (``api="openai"``) or Ollama (``api="ollama"``) chat endpoint, greedy.

    The HTTP side (retries, backoff, error messages) is :class:`~dpo_assets.generator.client.ChatClient`.
    """

    base_url: str
    model: str
    api: str = "openai"
    max_new_tokens: int = 512
    retries: int = 3
    timeout: float = 120.0
    api_key: str = ""
    name: str = "endpoint"

    def generate(self, chats: Sequence[list[dict[str, str]]], progress: Progress | None = None) -> list[str]:
        client = ChatClient(
            self.api, self.base_url, self.model, api_key=self.api_key, timeout=self.timeout,
            retries=self.retries, max_wait=10.0, sleep=time.sleep,
        )  # fmt: skip
        replies = []
        for chat in chats:
            replies.append(client.chat(chat, temperature=0, max_tokens=self.max_new_tokens))
            if progress:
                progress(len(replies), len(chats))
        return replies


def generate_solutions(
    generator: Generator, problems: Sequence[Problem], progress: Progress | None = None
) -> dict[str, dict[str, str]]:
    """``{task_id: {"solution": program, "reply": raw reply}}`` for ``problems``."""
    replies = generator.generate([chat_for(p) for p in problems], progress)
    return {p.task_id: {"solution": extract_solution(r, p), "reply": r} for p, r in zip(problems, replies)}
