"""Layer 0: every line is accounted for, with the right reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dpo_assets.intake import intake_files
from dpo_assets.intake.validate import (
    MAX_CODE_BYTES,
    RejectCode,
    intake_lines,
    parse_line,
    split_lines,
)
from dpo_assets.sample_ids import default_sample_id

TASK = "pytest_traceback_repair/moving_average"


def known(task_id: str) -> bool:
    return task_id == TASK


def line(**record) -> bytes:
    return json.dumps(record).encode()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", RejectCode.EMPTY_LINE),
        (b"   ", RejectCode.EMPTY_LINE),
        (b"\xff\xfe{}", RejectCode.NOT_UTF8),
        (b"{not json", RejectCode.INVALID_JSON),
        (b"[1, 2]", RejectCode.NOT_OBJECT),
        (b'"text"', RejectCode.NOT_OBJECT),
        (line(code="x = 1"), RejectCode.MISSING_KEY),
        (line(task_id=TASK), RejectCode.MISSING_KEY),
        (line(task_id=TASK, code=None), RejectCode.MISSING_KEY),
        (line(task_id=TASK, code="  \n"), RejectCode.EMPTY_KEY),
        (line(task_id="", code="x = 1"), RejectCode.EMPTY_KEY),
        (line(task_id=TASK, code=5), RejectCode.BAD_TYPE),
        (line(task_id=TASK, code="x = 1", sample_id=7), RejectCode.BAD_TYPE),
        (line(task_id=TASK, code="x = 1", sample_id=""), RejectCode.EMPTY_KEY),
        (line(task_id=TASK, code="x = 1", traceback=["a"]), RejectCode.BAD_TYPE),
        (line(task_id="no/such_task", code="x = 1"), RejectCode.UNKNOWN_TASK),
        (line(task_id=TASK, code="x" * (MAX_CODE_BYTES + 1)), RejectCode.OVERSIZED_CODE),
    ],
)
def test_bad_lines_are_rejected_with_their_reason(raw: bytes, code: str) -> None:
    result = parse_line(raw, known)
    assert getattr(result, "code", None) == code, result
    assert result.reason


def test_a_good_line_becomes_a_sample_with_extras_carried() -> None:
    sample = parse_line(line(task_id=TASK, code="x = 1", origin="llm:qwen", model_temp=0.7), known)
    assert sample.task_id == TASK and sample.domain == "pytest_traceback_repair"
    assert sample.origin == "llm:qwen"
    assert sample.extra == {"model_temp": 0.7}
    assert sample.sample_id == default_sample_id(TASK, "x = 1")


def test_default_id_is_stable_and_content_based() -> None:
    assert default_sample_id(TASK, "a") == default_sample_id(TASK, "a")
    assert default_sample_id(TASK, "a") != default_sample_id(TASK, "b")


def test_rejections_keep_the_id_and_task_they_could_read() -> None:
    result = parse_line(line(task_id="no/such", code="x", sample_id="abc"), known)
    assert (result.sample_id, result.task_id) == ("abc", "no/such")


def test_duplicates_by_id_and_by_code_across_files() -> None:
    a = b"\n".join(
        [
            line(task_id=TASK, code="x = 1", sample_id="one"),
            line(task_id=TASK, code="x = 2", sample_id="one"),
            line(task_id=TASK, code="x = 1   \r\n", sample_id="two"),
        ]
    )
    b = line(task_id=TASK, code="x = 3", sample_id="one")
    results = list(intake_lines([("a.jsonl", a), ("b.jsonl", b)], known))
    codes = [r.rejection.code if r.rejection else None for r in results]
    assert codes == [None, RejectCode.DUPLICATE_ID, RejectCode.DUPLICATE_CODE, RejectCode.DUPLICATE_ID]
    assert "a.jsonl:1" in results[1].rejection.reason


def test_split_lines_handles_crlf_and_missing_final_newline() -> None:
    assert split_lines(b"a\r\nb\n") == [b"a", b"b"]
    assert split_lines(b"a\nb") == [b"a", b"b"]
    assert split_lines(b"a\n\n") == [b"a", b""]
    assert split_lines(b"") == []


def test_every_line_is_accounted_for(tmp_path: Path) -> None:
    good = [line(task_id=TASK, code=f"x = {i}", sample_id=f"s{i}") for i in range(5)]
    bad = [b"{", b"\xc3\x28", line(task_id="x/y", code="z"), b"", good[0]]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(good + bad) + b"\n")
    results, frames = intake_files([path], tmp_path)
    assert [r.line for r in results] == list(range(1, 11))
    assert len(frames.survivors) == 5 and len(frames.rejections) == 5
    assert frames.rows_in == 10
    assert set(frames.rejections["layer"]) == {0}
    assert frames.rejections["source"].tolist() == ["mixed.jsonl"] * 5
    assert sorted(frames.rejections["line"]) == [6, 7, 8, 9, 10]
