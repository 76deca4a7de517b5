"""The Ollama side: a Modelfile for the GGUF adapter, and create + smoke test on a server.

The Modelfile names the official base tag (``FROM``), the adapter (``ADAPTER``) and sampling
parameters, and deliberately no ``TEMPLATE``: the base's chat template must stay in force, or
the model answers with literal ``<|im_start|>`` markers. Deploying uploads the GGUF as a blob and
creates the model through the ``ollama`` client (``from_`` + ``adapters``), then asks one question;
the answer must be non-empty and free of chat-template tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dpo_assets.storage import atomic_text

DEFAULT_BASE_TAG = "qwen2.5-coder:7b"
TEMPLATE_TOKENS = ("<|im_start|>", "<|im_end|>")
SMOKE_PROMPT = "Write a Python function add(a, b) that returns the sum of a and b."


@dataclass(frozen=True)
class ModelfileSettings:
    base_tag: str = DEFAULT_BASE_TAG
    temperature: float = 0.2
    top_p: float = 0.9
    num_ctx: int = 4096


def render_modelfile(adapter_file: str, settings: ModelfileSettings = ModelfileSettings()) -> str:
    """``FROM`` the base tag, ``ADAPTER`` the GGUF (a path relative to the Modelfile), parameters."""
    if re.search(r"\s", settings.base_tag) or not settings.base_tag:
        raise ValueError(f"base tag {settings.base_tag!r} must be one word, e.g. {DEFAULT_BASE_TAG}")
    return (
        f"FROM {settings.base_tag}\n"
        f"ADAPTER ./{adapter_file}\n"
        f"PARAMETER temperature {settings.temperature}\n"
        f"PARAMETER top_p {settings.top_p}\n"
        f"PARAMETER num_ctx {settings.num_ctx}\n"
    )


def write_modelfile(
    folder: Path, adapter_file: str, settings: ModelfileSettings = ModelfileSettings()
) -> Path:
    path = folder / "Modelfile"
    with atomic_text(path) as handle:
        handle.write(render_modelfile(adapter_file, settings))
    return path


def smoke_problems(answer: str) -> list[str]:
    """What is wrong with a smoke answer (empty when nothing is)."""
    problems = []
    if not answer.strip():
        problems.append("the answer is empty")
    problems += [
        f"the answer contains the literal chat-template token {t}" for t in TEMPLATE_TOKENS if t in answer
    ]
    return problems


@dataclass
class Deployment:
    host: str
    model: str
    digest: str
    answer: str
    problems: list[str]


def reachable(host: str, timeout: float = 2.0) -> bool:
    """Whether an Ollama server answers ``GET /api/version`` at ``host``."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(host.rstrip("/") + "/api/version", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def deploy(
    host: str, model: str, gguf: Path, settings: ModelfileSettings = ModelfileSettings()
) -> Deployment:
    """Upload ``gguf``, create ``model`` from the base tag with it, and run the smoke question."""
    import ollama

    client = ollama.Client(host=host)
    digest = client.create_blob(gguf)
    client.create(
        model=model,
        from_=settings.base_tag,
        adapters={gguf.name: digest},
        parameters={
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "num_ctx": settings.num_ctx,
        },
    )
    reply = client.chat(model=model, messages=[{"role": "user", "content": SMOKE_PROMPT}])
    answer = reply.message.content or ""
    return Deployment(host, model, digest, answer, smoke_problems(answer))
