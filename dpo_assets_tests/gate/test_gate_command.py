"""``dpo-assets gate INPUT --out DIR``: the command-line contract of spec/formats.md."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

from dpo_assets.corpus.bundled import load_samples
from dpo_assets.tasks import get_task

MOVING_AVERAGE = "pytest_traceback_repair/moving_average"
KEYS = {"line", "sample_id", "task_id", "certified", "failed_layer", "reason", "coverage"}


def _gate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dpo_assets.cli", "gate", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_verdicts_one_per_line_in_order(tmp_path: Path) -> None:
    task = get_task(MOVING_AVERAGE)
    correct = load_samples(MOVING_AVERAGE)["moving_average-correct-01"]
    assert task.broken_source is not None
    lines = [
        json.dumps(correct),
        json.dumps({"task_id": MOVING_AVERAGE, "code": task.broken_source, "sample_id": "broken"}),
        "{not json",
        json.dumps({"task_id": "no_such/task", "code": "x = 1\n", "sample_id": "unknown"}),
        "",
        json.dumps({**correct, "sample_id": "copy-of-correct"}),
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "nested"

    done = _gate(str(source), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "certified" in done.stderr.splitlines()[-1]

    verdicts = [json.loads(row) for row in (out / "verdicts.jsonl").read_text("utf-8").splitlines()]
    assert [v["line"] for v in verdicts] == list(range(1, len(lines) + 1))
    for v in verdicts:
        assert set(v) == KEYS
        assert isinstance(v["certified"], bool)
        assert isinstance(v["reason"], str) and "\n" not in v["reason"]
        assert v["failed_layer"] is None or isinstance(v["failed_layer"], int)
        assert v["coverage"] is None or isinstance(v["coverage"], float)
        assert v["certified"] == (v["failed_layer"] is None) == (v["reason"] == "")

    good, broken, invalid, unknown, blank, duplicate = verdicts
    assert good["certified"] is True
    assert good["sample_id"] == "moving_average-correct-01" and good["task_id"] == MOVING_AVERAGE
    assert isinstance(good["coverage"], float) and good["coverage"] >= 80.0

    assert broken["certified"] is False and broken["sample_id"] == "broken"
    assert 1 <= broken["failed_layer"] <= 8 and broken["reason"]

    assert invalid["failed_layer"] == 0 and invalid["sample_id"] is None and invalid["task_id"] is None
    assert "JSON" in invalid["reason"]
    assert unknown["failed_layer"] == 0 and unknown["task_id"] == "no_such/task"
    assert unknown["sample_id"] == "unknown"
    assert blank["failed_layer"] == 0 and blank["sample_id"] is None and blank["task_id"] is None
    assert duplicate["failed_layer"] == 0 and duplicate["sample_id"] == "copy-of-correct"
    assert duplicate["coverage"] is None


def test_missing_input_is_an_error(tmp_path: Path) -> None:
    done = _gate(str(tmp_path / "absent.jsonl"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "absent.jsonl" in done.stderr
    assert not (tmp_path / "out" / "verdicts.jsonl").exists()


def test_unwritable_out_is_an_error(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("{not json\n", encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    done = _gate(str(source), "--out", str(blocker / "out"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "cannot write" in done.stderr


def test_only_bad_lines_need_no_sandbox(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"[1, 2]\n\xff\xfe\n")
    done = _gate(str(source), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    verdicts = [json.loads(row) for row in (tmp_path / "verdicts.jsonl").read_text("utf-8").splitlines()]
    seen = [(v["line"], v["failed_layer"], v["certified"]) for v in verdicts]
    assert seen == [(1, 0, False), (2, 0, False)]


def test_jobs_option_and_its_hidden_alias() -> None:
    from dpo_assets.cli import build_parser
    from dpo_assets.sandbox.concurrency import default_jobs

    def jobs(*options: str) -> int:
        return build_parser().parse_args(["gate", "in.jsonl", "--out", "o", *options]).jobs

    assert jobs() == default_jobs() == (os.cpu_count() or 1) + 2
    assert jobs("--jobs", "3") == 3 and jobs("-j", "1") == 1
    assert jobs("--workers", "4") == 4
    gate_help = _gate("--help").stdout
    assert "--jobs" in gate_help and "--workers" not in gate_help
    rejected = _gate("in.jsonl", "--out", "o", "--jobs", "0")
    assert rejected.returncode == 2 and "at least 1" in rejected.stderr


def test_progress_bars_on_a_terminal(tmp_path: Path) -> None:
    samples = load_samples(MOVING_AVERAGE)
    source = tmp_path / "in.jsonl"
    picked = ("moving_average-correct-01", "moving_average-broken-01", "moving_average-broken-06")
    rows = [samples[i] for i in picked]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "dpo_assets.cli", "gate", str(source), "--out", str(tmp_path), "--jobs", "2"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    try:
        while chunk := _read(leader):
            chunks.append(chunk)
    finally:
        os.close(leader)
        assert proc.wait(timeout=300) == 0
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "\r" in shown and "cand/s" in shown  # live bars: redrawn in place, with a rate
    assert "gate: layer 1 invariant" in shown and "/3 [" in shown
    assert "gate: layer 8 coverage:" in shown and "certified" in shown  # the summary lines stay
    assert len((tmp_path / "verdicts.jsonl").read_text("utf-8").splitlines()) == 3


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the other side closed
        return b""
