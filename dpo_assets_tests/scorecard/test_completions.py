"""Completions: extraction of the program, the endpoint backends against a fake server on
loopback, and the local backend on the stand-in model (with and without an adapter)."""

from __future__ import annotations

import json
import threading
import typing
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from dpo_assets.evaldata.problems import Problem
from dpo_assets.scorecard.generate import (
    EndpointError,
    EndpointGenerator,
    TransformersGenerator,
    chat_for,
    extract_solution,
    generate_solutions,
)

PROBLEM = Problem(
    "humaneval", "HumanEval/x", 'def add(a, b):\n    """Sum."""\n', "    return a + b\n", "add", ""
)


def test_extracts_the_longest_fenced_block_and_adds_the_prompt_when_needed() -> None:
    reply = "Sure!\n```python\nimport os\n```\nand\n```python\ndef add(a, b):\n    return a + b\n```\nDone."
    assert extract_solution(reply, PROBLEM) == "def add(a, b):\n    return a + b\n"
    body_only = "```python\n    return a + b\n```"
    assert extract_solution(body_only, PROBLEM) == PROBLEM.prompt + "    return a + b\n"
    unterminated = "```python\ndef add(a, b):\n    return b + a"
    assert extract_solution(unterminated, PROBLEM) == "def add(a, b):\n    return b + a\n"
    assert extract_solution("def add(a, b): return 0", PROBLEM) == "def add(a, b): return 0\n"
    thinking = "<think>```python\ndef add(a, b):\n    return a - b\n```</think>```python\nx = 1\n```"
    assert extract_solution(thinking, PROBLEM) == PROBLEM.prompt + "x = 1\n"  # reasoning is not the answer
    assert extract_solution("    return a + b\n", PROBLEM) == PROBLEM.prompt + "    return a + b\n"
    assert "```python\ndef add(a, b):" in chat_for(PROBLEM)[0]["content"]


class _Fake(BaseHTTPRequestHandler):
    requests: typing.ClassVar[list[tuple[str, dict]]] = []
    fail_first = 0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.path, body))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        text = "```python\ndef add(a, b):\n    return a + b\n```"
        if self.path == "/api/chat":
            reply = {"message": {"role": "assistant", "content": text}, "done": True}
        else:
            reply = {"choices": [{"message": {"role": "assistant", "content": text}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Fake.requests, _Fake.fail_first = [], 0
    httpd = HTTPServer(("127.0.0.1", 0), _Fake)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize(("api", "path"), [("openai", "/v1/chat/completions"), ("ollama", "/api/chat")])
def test_endpoint_backends_speak_their_api(server: str, api: str, path: str) -> None:
    generator = EndpointGenerator(server, "qwen2.5-coder:7b", api=api, max_new_tokens=64)
    solutions = generate_solutions(generator, [PROBLEM, PROBLEM])
    assert solutions["HumanEval/x"]["solution"] == "def add(a, b):\n    return a + b\n"
    [(seen_path, body), _] = _Fake.requests
    assert seen_path == path and body["model"] == "qwen2.5-coder:7b"
    assert body["messages"] == chat_for(PROBLEM)
    temperature = body["options"]["temperature"] if api == "ollama" else body["temperature"]
    assert temperature == 0


def test_endpoint_retries_then_gives_a_clear_error(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dpo_assets.scorecard.generate.time.sleep", lambda s: None)
    _Fake.fail_first = 2
    assert EndpointGenerator(server, "m", retries=2).generate([chat_for(PROBLEM)])
    assert len(_Fake.requests) == 3
    _Fake.fail_first = 10
    with pytest.raises(EndpointError, match=r"after 2 tries"):
        EndpointGenerator(server, "m", retries=1).generate([chat_for(PROBLEM)])


def test_local_backend_generates_greedily_in_batches(tiny_base: Path) -> None:
    generator = TransformersGenerator(str(tiny_base), batch_size=2, max_new_tokens=12)
    seen: list[tuple[int, int]] = []
    chats = [
        chat_for(PROBLEM),
        [{"role": "user", "content": "Write a longer prompt " * 5}],
        chat_for(PROBLEM),
    ]
    first = generator.generate(chats, lambda done, total: seen.append((done, total)))
    assert len(first) == 3 and all(isinstance(r, str) for r in first)
    assert seen == [(2, 3), (3, 3)]
    assert first[0] == first[2]  # greedy and independent of the batch's padding
    assert generator.generate(chats[:1]) == first[:1]
