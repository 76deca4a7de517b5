"""``dpo-assets generate --backend ollama|openai`` end to end against the fake server, and its errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dpo_assets.corpus import generate
from dpo_assets.generator.progress import SlotProgress
from dpo_assets.intake import intake_lines, is_known_task
from dpo_assets.tasks import get_task

TASK = get_task("pytest_traceback_repair/parse_duration")


def test_cli_ollama_end_to_end(chat_server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = TASK.broken_source or ""
    chat_server.reply(f"```python\n{TASK.reference_source}```", f"```python\n{broken}```", "no code here")
    out, report = tmp_path / "inbox" / "llm.jsonl", tmp_path / "report.json"
    argv = [
        "--backend", "ollama", "--host", chat_server.url, "--model", "coder:7b", "--tasks", TASK.task_id,
        "--batch-size", "2", "--temperature", "0.5", "--retries", "0", "--rate-limit", "0",
        "--out", str(out), "--report", str(report),
    ]  # fmt: skip
    assert generate.main(argv) == 0
    err = capsys.readouterr().err
    assert "generate: 1/2 slots" in err and "generate: 2/2 slots" in err
    assert f"{TASK.task_id}: 2 implementations (1 failing), 0 repairs, 1 empty" in err
    assert f"wrote 2 samples from 1 tasks to {out}" in err
    data = out.read_bytes()
    results = list(intake_lines([("llm.jsonl", data)], is_known_task))
    assert [r.rejection for r in results] == [None, None]
    assert [r.sample.origin for r in results] == ["llm:ollama:coder:7b:implement"] * 2
    assert all(
        r.path == "/api/chat" and r.body["options"]["temperature"] == 0.5 for r in chat_server.requests
    )
    counts = json.loads(report.read_text())
    assert counts["backend"] == "ollama" and counts["written"] == 2 and counts["requested"] == 2
    assert counts["per_task"][TASK.task_id]["empty_replies"] == 1 and counts["requests"] == 3


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--backend", "ollama", "--model", "m", "--batch-size", "0"], "batch_size out of range"),
        (["--backend", "ollama", "--model", "m", "--tasks", "x/y,z/w"], "unknown task(s): x/y, z/w"),
        (["--backend", "openai"], "a model is required"),
        (["--model", "m", "--rate-limit", "1"], "--model, --rate-limit: only for --backend ollama|openai"),
    ],
)
def test_cli_bad_config_exits_2(tmp_path: Path, capsys, extra: list[str], message: str) -> None:
    out = tmp_path / "o.jsonl"
    assert generate.main([*extra, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_cli_unreachable_server_exits_2(dead_url: str, tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    argv = ["generate", "--backend", "openai", "--base-url", dead_url, "--model", "m", "--retries", "0",
            "--tasks", TASK.task_id, "--batch-size", "1", "--out", str(out)]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "dpo_assets.cli", *argv], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert f"cannot reach {dead_url}/v1/chat/completions" in proc.stderr and "nothing written" in proc.stderr
    assert not out.exists()


def test_progress_lines_off_a_terminal_and_a_bar_on_one() -> None:
    now = [0.0]
    stream = io.StringIO()
    progress = SlotProgress(stream, every=10.0, clock=lambda: now[0])
    for done in range(1, 6):
        now[0] += 4.0
        progress(done, 5)
    assert stream.getvalue().splitlines() == [
        "generate: 1/5 slots",
        "generate: 4/5 slots",
        "generate: 5/5 slots",
    ]
    bar_stream = io.StringIO()
    bar = SlotProgress(bar_stream, live=True)
    bar(1, 3)
    bar(3, 3)
    bar.close()
    assert "3/3" in bar_stream.getvalue() and "slots" not in bar_stream.getvalue()
