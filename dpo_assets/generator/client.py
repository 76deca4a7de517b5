"""One chat client for Ollama's ``/api/chat`` (non-streaming) and OpenAI's ``/v1/chat/completions``.

Retries with exponential backoff on connection errors, timeouts, HTTP 429 and 5xx, honouring
``Retry-After``; an optional rate limit spaces request starts. Every failure is a
:class:`ChatError` whose message names the URL: unreachable server, HTTP error (with the
message from the body), malformed reply, or retries exhausted (how many tries, last error).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

APIS = ("ollama", "openai")
RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))
Message = Mapping[str, str]


class ChatError(RuntimeError):
    """The chat endpoint failed; the message says where and why."""


class UnreachableError(ChatError):
    """No HTTP answer at all (refused, unknown host, timeout) on every try."""


class HTTPStatusError(ChatError):
    """The server answered with an HTTP error status."""

    def __init__(self, url: str, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{url}: HTTP {status}: {message}")
        self.status, self.message, self.retry_after = status, message, retry_after


class MalformedReplyError(ChatError):
    """The server answered 200 with something that is not a chat reply."""


class RetriesExhaustedError(ChatError):
    """A retryable failure (429, 5xx, connection) persisted through every try."""


def endpoint_url(api: str, base_url: str) -> str:
    """The chat URL of ``api`` under ``base_url`` (an OpenAI base may already end in ``/v1``)."""
    base = base_url.rstrip("/")
    if api == "ollama":
        return base + "/api/chat"
    if api == "openai":
        return base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")
    raise ValueError(f"unknown chat api {api!r} (use one of {', '.join(APIS)})")


def request_body(
    api: str, model: str, messages: Sequence[Message], temperature: float | None, max_tokens: int | None
) -> dict[str, Any]:
    """The JSON body of one non-streaming chat request."""
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages]}
    if api == "ollama":
        options: dict[str, Any] = {}
        if temperature is not None:
            options["temperature"] = temperature
        if max_tokens is not None:
            options["num_predict"] = max_tokens
        body["stream"] = False
        if options:
            body["options"] = options
        return body
    if temperature is not None:
        body["temperature"] = temperature
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return body


def reply_text(api: str, url: str, data: Any) -> str:
    """The assistant's text in a decoded reply (``""`` for a null content)."""
    try:
        content = data["message"]["content"] if api == "ollama" else data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise MalformedReplyError(f"{url}: unexpected reply {json.dumps(data)[:200]}") from None
    if content is not None and not isinstance(content, str):
        raise MalformedReplyError(f"{url}: reply content is a {type(content).__name__}, not text")
    return content or ""


def error_message(body: bytes) -> str:
    """The human message of an error body (OpenAI ``{"error": {"message"}}``, Ollama ``{"error"}``)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return text[:300] or "(empty body)"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:300]
    if isinstance(error, str) and error:
        return error[:300]
    return text[:300]


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


class RateLimiter:
    """Spaces calls at least ``1 / per_second`` apart (``per_second <= 0``: no limit)."""

    def __init__(self, per_second: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self._next: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if self._next is not None and now < self._next:
            self.sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


@dataclass
class ChatClient:
    """A chat endpoint of ``api`` (``ollama`` or ``openai``) at ``base_url`` serving ``model``.

    ``clock`` and ``sleep`` default to ``time.monotonic`` and ``time.sleep`` (looked up at call
    time). ``requests`` counts HTTP attempts, ``retried`` the attempts that were retries.
    """

    api: str
    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 120.0
    retries: int = 3
    backoff: float = 1.0  # first retry delay; doubles per retry
    max_wait: float = 60.0  # cap of one backoff or Retry-After wait
    rate_limit: float = 0.0  # requests per second, 0 = unlimited
    clock: Callable[[], float] | None = None
    sleep: Callable[[float], None] | None = None
    requests: int = field(default=0, init=False)
    retried: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.url = endpoint_url(self.api, self.base_url)
        self._limiter = RateLimiter(self.rate_limit, self._now, self._sleep)

    def _now(self) -> float:
        return (self.clock or time.monotonic)()

    def _sleep(self, seconds: float) -> None:
        (self.sleep or time.sleep)(seconds)

    def chat(
        self, messages: Sequence[Message], *, temperature: float | None = None, max_tokens: int | None = None
    ) -> str:
        """The reply text to ``messages``; raises :class:`ChatError` subclasses (see module doc)."""
        body = json.dumps(request_body(self.api, self.model, messages, temperature, max_tokens)).encode()
        tries = self.retries + 1
        unreachable = True
        last: Exception | None = None
        for attempt in range(tries):
            if attempt:
                self.retried += 1
                retry_after = last.retry_after if isinstance(last, HTTPStatusError) else None
                delay = retry_after if retry_after is not None else self.backoff * 2 ** (attempt - 1)
                self._sleep(min(delay, self.max_wait))
            self._limiter.wait()
            self.requests += 1
            try:
                return self._post(body)
            except HTTPStatusError as exc:
                if exc.status not in RETRY_STATUSES:
                    raise
                last, unreachable = exc, False
            except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
                last = exc
        reason = getattr(last, "reason", None) or last
        if unreachable:
            raise UnreachableError(f"cannot reach {self.url}: {reason} (after {tries} tries)") from last
        raise RetriesExhaustedError(
            f"{self.url}: still failing after {tries} tries; last error: {last}"
        ) from last

    def _post(self, body: bytes) -> str:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            retry_after = retry_after_seconds(exc.headers.get("Retry-After") if exc.headers else None)
            raise HTTPStatusError(self.url, exc.code, error_message(exc.read()), retry_after) from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise MalformedReplyError(f"{self.url}: reply is not JSON: {raw[:200]!r}") from None
        return reply_text(self.api, self.url, data)
