"""Modelfile rendering and the deploy path against a fake Ollama HTTP API on loopback."""

from __future__ import annotations

import hashlib
import json
import threading
import typing
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from dpo_assets.export.ollama_deploy import (
    ModelfileSettings,
    deploy,
    reachable,
    render_modelfile,
    smoke_problems,
    write_modelfile,
)


def test_modelfile_has_from_adapter_parameters_and_no_template(tmp_path: Path) -> None:
    text = render_modelfile("adapter.gguf", ModelfileSettings(temperature=0.1, top_p=0.8, num_ctx=8192))
    lines = text.splitlines()
    assert lines[0] == "FROM qwen2.5-coder:7b" and lines[1] == "ADAPTER ./adapter.gguf"
    assert {"PARAMETER temperature 0.1", "PARAMETER top_p 0.8", "PARAMETER num_ctx 8192"} <= set(lines)
    assert not any(line.split()[0].upper() in {"TEMPLATE", "SYSTEM"} for line in lines)
    assert write_modelfile(tmp_path, "adapter.gguf").read_text().startswith("FROM qwen2.5-coder:7b\n")
    with pytest.raises(ValueError, match="one word"):
        render_modelfile("a.gguf", ModelfileSettings(base_tag="qwen2.5 coder"))


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("", "empty"),
        ("  \n", "empty"),
        ("<|im_start|>assistant\ndef add", "<|im_start|>"),
        ("x<|im_end|>", "<|im_end|>"),
    ],
)
def test_smoke_answers_that_fail(answer: str, problem: str) -> None:
    assert any(problem in p for p in smoke_problems(answer))


def test_a_good_smoke_answer_passes() -> None:
    assert smoke_problems("def add(a, b):\n    return a + b") == []


class _FakeOllama(BaseHTTPRequestHandler):
    blobs: typing.ClassVar[dict[str, bytes]] = {}
    created: typing.ClassVar[list[dict]] = []
    answer = "def add(a, b):\n    return a + b\n"

    def _json(self, payload: dict, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_GET(self) -> None:
        if self.path == "/api/version":
            self._json({"version": "0.12.0"})
        else:
            self._json({"error": "not found"}, 404)

    def do_POST(self) -> None:
        if self.path.startswith("/api/blobs/"):
            digest, body = self.path.rsplit("/", 1)[1], self._body()
            if digest != "sha256:" + hashlib.sha256(body).hexdigest():
                self._json({"error": "digest mismatch"}, 400)
                return
            type(self).blobs[digest] = body
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/api/create":
            request = json.loads(self._body())
            missing = [d for d in request.get("adapters", {}).values() if d not in type(self).blobs]
            if missing:
                self._json({"error": f"blob {missing[0]} not found"}, 400)
                return
            type(self).created.append(request)
            self._json({"status": "success"})
        elif self.path == "/api/chat":
            request = json.loads(self._body())
            self._json({"model": request["model"], "created_at": "2026-11-26T00:00:00Z", "done": True,
                        "message": {"role": "assistant", "content": type(self).answer}})  # fmt: skip
        else:
            self._json({"error": "not found"}, 404)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def ollama_host() -> Iterator[str]:
    _FakeOllama.blobs, _FakeOllama.created = {}, []
    _FakeOllama.answer = "def add(a, b):\n    return a + b\n"
    server = HTTPServer(("127.0.0.1", 0), _FakeOllama)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_deploy_uploads_creates_and_smoke_tests(ollama_host: str, tmp_path: Path) -> None:
    gguf = tmp_path / "adapter.gguf"
    gguf.write_bytes(b"GGUF" + bytes(range(200)))
    assert reachable(ollama_host) and not reachable("http://127.0.0.1:9")
    result = deploy(ollama_host, "dpo-coder:test", gguf, ModelfileSettings(num_ctx=2048))
    assert result.problems == [] and result.answer.startswith("def add")
    assert _FakeOllama.blobs[result.digest] == gguf.read_bytes()
    [created] = _FakeOllama.created
    assert created["model"] == "dpo-coder:test" and created["from"] == "qwen2.5-coder:7b"
    assert created["adapters"] == {"adapter.gguf": result.digest}
    assert created["parameters"]["num_ctx"] == 2048 and "template" not in created


def test_deploy_reports_a_template_leak(ollama_host: str, tmp_path: Path) -> None:
    gguf = tmp_path / "adapter.gguf"
    gguf.write_bytes(b"GGUF")
    _FakeOllama.answer = "<|im_start|>assistant\n<|im_end|>"
    result = deploy(ollama_host, "dpo-coder:test", gguf)
    assert len(result.problems) == 2
