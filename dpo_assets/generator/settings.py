"""What a generation run is configured with: the LLM backends' settings and the offline generator's."""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from dpo_assets.corpus.generate import Mix
from dpo_assets.generator.client import APIS, ChatClient

DEFAULT_HOSTS = {"ollama": "http://127.0.0.1:11434", "openai": "https://api.openai.com/v1"}


class SettingsError(ValueError):
    """A generation setting is invalid; the message names it."""


@dataclass(frozen=True)
class LLMGeneratorSettings:
    """Generate raw samples with a chat model served by Ollama or an OpenAI-compatible server.

    ``base_url`` empty means the backend's default (:data:`DEFAULT_HOSTS`). ``tasks`` empty
    means every task of the catalog. ``batch_size`` implementations are asked per task, each
    followed by one repair request when it fails its suite. ``api_key_env`` names the
    environment variable holding the key (openai only; unset sends no key, for local servers).
    """

    backend: str
    model: str
    base_url: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.8
    max_tokens: int = 2048
    tasks: tuple[str, ...] = ()
    batch_size: int = 4
    repair: bool = True
    retries: int = 3
    backoff: float = 1.0  # seconds before the first retry; doubles per retry
    rate_limit: float = 0.0  # requests per second, 0 = unlimited
    timeout: float = 120.0  # seconds per HTTP request

    @property
    def url(self) -> str:
        return self.base_url or DEFAULT_HOSTS.get(self.backend, "")

    def api_key(self) -> str:
        return os.environ.get(self.api_key_env, "") if self.backend == "openai" else ""

    def validate(self) -> LLMGeneratorSettings:
        """``self`` when every setting is usable; else :class:`SettingsError` naming the first bad one."""
        if self.backend not in APIS:
            raise SettingsError(f"backend must be one of {', '.join(APIS)}, got {self.backend!r}")
        if not self.model.strip():
            raise SettingsError(f"a model is required for the {self.backend} backend (--model)")
        parsed = urllib.parse.urlsplit(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SettingsError(f"base URL must be http(s)://host[:port][/path], got {self.url!r}")
        checks = {
            "batch_size": self.batch_size >= 1,
            "retries": self.retries >= 0,
            "rate_limit": self.rate_limit >= 0,
            "timeout": self.timeout > 0,
            "backoff": self.backoff >= 0,
            "max_tokens": self.max_tokens >= 1,
            "temperature": 0 <= self.temperature <= 2,
        }
        for name, ok in checks.items():
            if not ok:
                raise SettingsError(f"{name} out of range: {getattr(self, name)!r}")
        from dpo_assets.tasks import task_ids

        unknown = sorted(set(self.tasks) - set(task_ids()))
        if unknown:
            raise SettingsError(f"unknown task(s): {', '.join(unknown)}")
        return self

    def task_ids(self) -> list[str]:
        """The tasks to generate for: ``tasks``, or every task of the catalog."""
        from dpo_assets.tasks import task_ids

        return list(self.tasks) or task_ids()

    def slots(self) -> int:
        """Implementation requests the batch makes (tasks × batch size)."""
        return len(self.task_ids()) * self.batch_size

    def client(self) -> ChatClient:
        """The chat client these settings describe."""
        return ChatClient(
            self.backend, self.url, self.model, api_key=self.api_key(), timeout=self.timeout,
            retries=self.retries, backoff=self.backoff, rate_limit=self.rate_limit,
        )  # fmt: skip

    @property
    def origin_prefix(self) -> str:
        """``llm:<backend>:<model>``; records append ``:implement`` or ``:repair``."""
        return f"llm:{self.backend}:{self.model}"


@dataclass(frozen=True)
class OfflineSettings:
    """The offline generator (rewrites and mutations of a seed corpus, :mod:`dpo_assets.corpus.generate`).

    ``corpus`` None means the bundled corpus; ``labels`` None means the labels beside it.
    """

    count: int = 2000
    seed: int = 0
    corpus: Path | None = None
    labels: Path | None = None
    clean_share: float = Mix.clean
    mutation_share: float = Mix.mutation
