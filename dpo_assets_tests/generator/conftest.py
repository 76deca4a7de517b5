"""Fixtures of the generator tests: a scripted chat server on loopback and one sandbox per module."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dpo_assets.sandbox.forkserver import ForkServerSandbox


@dataclass
class Seen:
    """One request the fake server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float  # time.monotonic() on arrival

    @property
    def prompt(self) -> str:
        return self.body["messages"][-1]["content"]


class FakeChatServer:
    """Answers Ollama ``/api/chat`` and OpenAI ``/v1/chat/completions`` from a script, in order.

    ``reply(text)`` queues a 200 answer in the format of the path asked; ``fail(status, ...)``
    an error status (with an API-style error body and optional ``Retry-After``); ``raw(...)``
    exact bytes. An unscripted request gets HTTP 418 (not retried), so a test cannot pass by it.
    """

    def __init__(self) -> None:
        self.script: deque[tuple[int, Any, dict[str, str]]] = deque()
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True).start()

    def reply(self, *texts: str | None) -> FakeChatServer:
        for text in texts:
            self.script.append((200, ("content", text), {}))
        return self

    def fail(self, status: int, message: str = "boom", retry_after: str | None = None) -> FakeChatServer:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.script.append((status, ("error", message), headers))
        return self

    def raw(self, status: int, data: bytes) -> FakeChatServer:
        self.script.append((status, ("raw", data), {}))
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _answer(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        if path not in ("/api/chat", "/v1/chat/completions"):
            return 404, b'{"error": "no such endpoint"}', {}
        with self._lock:
            if not self.script:
                return 418, json.dumps({"error": "fake server: no scripted reply left"}).encode(), {}
            status, (kind, value), headers = self.script.popleft()
        if kind == "raw":
            return status, value, headers
        if kind == "error":
            body = {"error": value} if path == "/api/chat" else {"error": {"message": value, "type": "x"}}
            return status, json.dumps(body).encode(), headers
        message = {"role": "assistant", "content": value}
        if path == "/api/chat":
            body = {"model": "m", "message": message, "done": True}
        else:
            body = {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
        return status, json.dumps(body).encode(), headers

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                seen = Seen(self.path, dict(self.headers.items()), body, time.monotonic())
                with server._lock:
                    server.requests.append(seen)
                status, data, headers = server._answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def chat_server() -> Iterator[FakeChatServer]:
    server = FakeChatServer()
    yield server
    server.close()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ForkServerSandbox]:
    with ForkServerSandbox() as sb:
        yield sb
