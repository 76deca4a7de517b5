"""The chat client against a scripted loopback server: both APIs, retries, rate limit, clear errors."""

from __future__ import annotations

import email.utils
import time

import pytest

from dpo_assets.generator.client import (
    ChatClient,
    HTTPStatusError,
    MalformedReplyError,
    RateLimiter,
    RetriesExhaustedError,
    UnreachableError,
    endpoint_url,
    retry_after_seconds,
)
from dpo_assets.generator.extract import extract_code

CHAT = [{"role": "user", "content": "write f"}]


class Recorder:
    """A fake clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_ollama_request_and_reply(chat_server) -> None:
    chat_server.reply("```python\ndef f():\n    return 1\n```")
    client = ChatClient("ollama", chat_server.url, "qwen2.5-coder:7b")
    assert client.chat(CHAT, temperature=0.7, max_tokens=99) == "```python\ndef f():\n    return 1\n```"
    [seen] = chat_server.requests
    assert seen.path == "/api/chat"
    assert seen.body == {
        "model": "qwen2.5-coder:7b",
        "messages": CHAT,
        "stream": False,
        "options": {"temperature": 0.7, "num_predict": 99},
    }
    assert "Authorization" not in seen.headers
    assert (client.requests, client.retried) == (1, 0)


@pytest.mark.parametrize("suffix", ["", "/v1", "/v1/"])
def test_openai_request_reply_and_key(chat_server, suffix: str) -> None:
    chat_server.reply("hello")
    client = ChatClient("openai", chat_server.url + suffix, "gpt-x", api_key="sk-test")
    assert client.chat(CHAT, temperature=0.2, max_tokens=5) == "hello"
    [seen] = chat_server.requests
    assert seen.path == "/v1/chat/completions"
    assert seen.body == {"model": "gpt-x", "messages": CHAT, "temperature": 0.2, "max_tokens": 5}
    assert seen.headers["Authorization"] == "Bearer sk-test"


def test_null_content_is_an_empty_reply(chat_server) -> None:
    chat_server.reply(None)
    assert ChatClient("openai", chat_server.url, "m").chat(CHAT) == ""


def test_retries_429_and_500_honouring_retry_after(chat_server) -> None:
    chat_server.fail(429, "slow down", retry_after="0.25").fail(500, "oops").reply("ok")
    fake = Recorder()
    client = ChatClient("ollama", chat_server.url, "m", retries=3, backoff=0.5, sleep=fake.sleep)
    assert client.chat(CHAT) == "ok"
    assert fake.sleeps == [0.25, 1.0]  # Retry-After, then backoff 0.5 * 2
    assert (client.requests, client.retried, len(chat_server.requests)) == (3, 2, 3)


def test_retry_after_really_waits(chat_server) -> None:
    chat_server.fail(503, "busy", retry_after="0.2").reply("ok")
    client = ChatClient("openai", chat_server.url, "m", retries=1, backoff=0.0)
    assert client.chat(CHAT) == "ok"
    first, second = chat_server.requests
    assert 0.2 <= second.at - first.at < 2.0


def test_retries_exhausted_says_how_many_and_the_last_error(chat_server) -> None:
    chat_server.fail(502, "bad gateway").fail(503, "still warming up").fail(503, "still warming up")
    client = ChatClient("openai", chat_server.url, "m", retries=2, sleep=lambda s: None)
    with pytest.raises(RetriesExhaustedError) as info:
        client.chat(CHAT)
    message = str(info.value)
    assert "after 3 tries" in message and "HTTP 503: still warming up" in message
    assert chat_server.url + "/v1/chat/completions" in message
    assert len(chat_server.requests) == 3


def test_client_error_is_not_retried_and_carries_the_body_message(chat_server) -> None:
    chat_server.fail(404, "model 'nope' not found, try pulling it first")
    client = ChatClient("ollama", chat_server.url, "nope", sleep=lambda s: pytest.fail("retried"))
    with pytest.raises(HTTPStatusError, match=r"HTTP 404: model 'nope' not found") as info:
        client.chat(CHAT)
    assert info.value.status == 404 and len(chat_server.requests) == 1


@pytest.mark.parametrize(
    ("data", "match"), [(b'{"id": 1}', "unexpected reply"), (b"<html>hi</html>", "not JSON")]
)
def test_malformed_replies(chat_server, data: bytes, match: str) -> None:
    chat_server.raw(200, data)
    with pytest.raises(MalformedReplyError, match=match):
        ChatClient("openai", chat_server.url, "m").chat(CHAT)


def test_unreachable_server_names_the_url(dead_url: str) -> None:
    fake = Recorder()
    client = ChatClient("ollama", dead_url, "m", retries=2, backoff=0.1, sleep=fake.sleep)
    with pytest.raises(UnreachableError) as info:
        client.chat(CHAT)
    message = str(info.value)
    assert message.startswith(f"cannot reach {dead_url}/api/chat") and "after 3 tries" in message
    assert "refused" in message.lower()
    assert fake.sleeps == [0.1, 0.2]


def test_rate_limit_spaces_requests_with_a_fake_clock(chat_server) -> None:
    chat_server.reply("a", "b", "c")
    fake = Recorder()
    client = ChatClient("ollama", chat_server.url, "m", rate_limit=4, clock=fake.clock, sleep=fake.sleep)
    for _ in range(3):
        client.chat(CHAT)
    assert fake.sleeps == [0.25, 0.25]


def test_rate_limit_counts_time_already_spent() -> None:
    fake = Recorder()
    limiter = RateLimiter(2.0, fake.clock, fake.sleep)
    limiter.wait()
    fake.now += 0.3  # the request took 0.3 s
    limiter.wait()
    fake.now += 1.0
    limiter.wait()
    assert fake.sleeps == [pytest.approx(0.2)]
    RateLimiter(0, fake.clock, fake.sleep).wait()
    assert len(fake.sleeps) == 1


def test_rate_limit_on_a_real_clock(chat_server) -> None:
    chat_server.reply("a", "b", "c", "d")
    client = ChatClient("openai", chat_server.url, "m", rate_limit=20)
    started = time.monotonic()
    for _ in range(4):
        client.chat(CHAT)
    assert time.monotonic() - started >= 0.15 - 1e-3


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("3") == 3.0 and retry_after_seconds("0.5") == 0.5
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert retry_after_seconds(date, now=lambda: 1_000_000) == pytest.approx(30)
    assert endpoint_url("ollama", "http://h:1/") == "http://h:1/api/chat"
    with pytest.raises(ValueError, match="unknown chat api"):
        endpoint_url("grpc", "http://h")


def test_extract_code() -> None:
    assert extract_code("Here:\n```python\ndef f():\n    return 1\n```\nDone") == "def f():\n    return 1\n"
    longest = "```py\nimport os\n```\ntext\n```python\ndef g(a):\n    return a\n```"
    assert extract_code(longest) == "def g(a):\n    return a\n"
    assert extract_code("```python\ndef h():\n    pass") == "def h():\n    pass\n"  # unterminated
    assert extract_code("def k(): return 2") == "def k(): return 2\n"  # bare code
    assert extract_code("<think>```python\ndef x(): pass\n```</think>```python\ndef y(): pass\n```") == (
        "def y(): pass\n"
    )
    for no_code in ("", "I cannot help with that.", "```python\n\n```", "<think>def z(): pass</think>"):
        assert extract_code(no_code) is None, no_code
