"""Completions for benchmark problems: a local model (transformers, + LoRA) or an HTTP endpoint.

Every backend turns a list of chat prompts into reply texts, greedily. The prompt asks for a
self-contained program in a fenced block (evalplus' instruction); :func:`extract_solution`
takes the code back out. The local backend batches with left padding and the model's chat
template; the endpoint backend speaks the OpenAI-compatible ``/v1/chat/completions`` and
Ollama's ``/api/chat``, with retries, so the deployed model can be scored the same way.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dpo_assets.evaldata.problems import Problem

INSTRUCTION = (
    "Please provide a self-contained Python script that solves the following problem in a "
    "markdown code block:\n```python\n{prompt}\n```"
)
_FENCE = re.compile(r"```(?:python|py|Python)?[ \t]*\n(.*?)(?:```|\Z)", re.S)
Progress = Callable[[int, int], None]


class Generator(Protocol):
    name: str

    def generate(
        self, chats: Sequence[list[dict[str, str]]], progress: Progress | None = None
    ) -> list[str]: ...


def chat_for(problem: Problem) -> list[dict[str, str]]:
    return [{"role": "user", "content": INSTRUCTION.format(prompt=problem.prompt.strip())}]


def extract_solution(reply: str, problem: Problem) -> str:
    """The program in ``reply``: the longest fenced block (else the whole reply); the problem's
    prompt is put in front when the code does not define the entry point itself."""
    blocks = _FENCE.findall(reply)
    code = max(blocks, key=len) if blocks else reply
    code = code.strip("\n") + "\n"
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


class EndpointError(RuntimeError):
    """The endpoint kept failing after its retries, or answered something unreadable."""


@dataclass
class EndpointGenerator:
    """An OpenAI-compatible (``api="openai"``) or Ollama (``api="ollama"``) chat endpoint."""

    base_url: str
    model: str
    api: str = "openai"
    max_new_tokens: int = 512
    retries: int = 3
    timeout: float = 120.0
    api_key: str = ""
    name: str = "endpoint"

    def _request(self, chat: list[dict[str, str]]) -> str:
        if self.api == "ollama":
            url = self.base_url.rstrip("/") + "/api/chat"
            options = {"temperature": 0, "num_predict": self.max_new_tokens}
            body: dict[str, Any] = {
                "model": self.model,
                "messages": chat,
                "stream": False,
                "options": options,
            }
        elif self.api == "openai":
            url = self.base_url.rstrip("/") + "/v1/chat/completions"
            body = {
                "model": self.model,
                "messages": chat,
                "temperature": 0,
                "max_tokens": self.max_new_tokens,
            }
        else:
            raise ValueError(f"unknown endpoint api {self.api!r} (use 'openai' or 'ollama')")
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            data = json.loads(response.read().decode())
        try:
            if self.api == "ollama":
                return str(data["message"]["content"])
            return str(data["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError) as exc:
            raise EndpointError(f"{url}: unexpected reply {str(data)[:200]!r}") from exc

    def generate(self, chats: Sequence[list[dict[str, str]]], progress: Progress | None = None) -> list[str]:
        replies = []
        for chat in chats:
            for attempt in range(self.retries + 1):
                try:
                    replies.append(self._request(chat))
                    break
                except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                    if attempt == self.retries:
                        raise EndpointError(
                            f"{self.base_url}: {exc} (after {self.retries + 1} tries)"
                        ) from exc
                    time.sleep(min(2.0**attempt, 10.0))
            if progress:
                progress(len(replies), len(chats))
        return replies


def generate_solutions(
    generator: Generator, problems: Sequence[Problem], progress: Progress | None = None
) -> dict[str, dict[str, str]]:
    """``{task_id: {"solution": program, "reply": raw reply}}`` for ``problems``."""
    replies = generator.generate([chat_for(p) for p in problems], progress)
    return {p.task_id: {"solution": extract_solution(r, p), "reply": r} for p, r in zip(problems, replies)}
