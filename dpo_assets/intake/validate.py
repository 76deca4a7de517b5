"""Layer 0 (intake): turn raw JSONL lines into validated samples or rejections.

Every input line yields exactly one :class:`LineResult`: a :class:`Sample` or a
:class:`Rejection` with a machine-readable ``code`` and a human-readable ``reason``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from dpo_assets.sample_ids import default_sample_id

REQUIRED_KEYS = ("task_id", "code")
OPTIONAL_STRING_KEYS = ("sample_id", "origin", "broken_code", "traceback")
KNOWN_KEYS = frozenset(REQUIRED_KEYS + OPTIONAL_STRING_KEYS)
MAX_CODE_BYTES = 64 * 1024
MAX_LINE_BYTES = 1024 * 1024


class RejectCode:
    """The reasons a line is rejected at layer 0."""

    EMPTY_LINE = "empty_line"
    OVERSIZED_LINE = "oversized_line"
    NOT_UTF8 = "not_utf8"
    INVALID_JSON = "invalid_json"
    NOT_OBJECT = "not_object"
    MISSING_KEY = "missing_key"
    EMPTY_KEY = "empty_key"
    BAD_TYPE = "bad_type"
    UNKNOWN_TASK = "unknown_task"
    OVERSIZED_CODE = "oversized_code"
    DUPLICATE_ID = "duplicate_id"
    DUPLICATE_CODE = "duplicate_code"


@dataclass(frozen=True)
class Sample:
    """A well-formed raw sample (layer-0 survivor)."""

    sample_id: str
    task_id: str
    code: str
    origin: str = ""
    broken_code: str | None = None
    traceback: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys, carried along

    @property
    def domain(self) -> str:
        return self.task_id.split("/", 1)[0]


@dataclass(frozen=True)
class Rejection:
    """Why a line did not become a sample."""

    code: str
    reason: str
    sample_id: str | None = None
    task_id: str | None = None


@dataclass(frozen=True)
class LineResult:
    """The verdict for one input line (1-based ``line`` within ``source``)."""

    source: str
    line: int
    sample: Sample | None = None
    rejection: Rejection | None = None


def normalized_code(code: str) -> str:
    """Code compared for duplicates: line endings and trailing whitespace ignored."""
    lines = code.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def parse_line(raw: bytes, is_known_task: Callable[[str], bool]) -> Sample | Rejection:
    """Validate one JSONL line in isolation (no duplicate detection)."""
    if len(raw) > MAX_LINE_BYTES:
        return Rejection(RejectCode.OVERSIZED_LINE, f"line is {len(raw)} bytes (limit {MAX_LINE_BYTES})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(RejectCode.NOT_UTF8, f"not valid UTF-8 at byte {exc.start}")
    if not text.strip():
        return Rejection(RejectCode.EMPTY_LINE, "empty line")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return Rejection(RejectCode.INVALID_JSON, f"invalid JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(record, dict):
        return Rejection(RejectCode.NOT_OBJECT, f"expected a JSON object, got {type(record).__name__}")
    sample_id = record.get("sample_id") if isinstance(record.get("sample_id"), str) else None
    task_id = record.get("task_id") if isinstance(record.get("task_id"), str) else None

    def reject(code: str, reason: str) -> Rejection:
        return Rejection(code, reason, sample_id or None, task_id or None)

    for key in REQUIRED_KEYS:
        if key not in record or record[key] is None:
            return reject(RejectCode.MISSING_KEY, f"missing required key {key!r}")
        if not isinstance(record[key], str):
            return reject(RejectCode.BAD_TYPE, f"{key!r} must be a string, got {type(record[key]).__name__}")
        if not record[key].strip():
            return reject(RejectCode.EMPTY_KEY, f"{key!r} is empty")
    for key in OPTIONAL_STRING_KEYS:
        if key in record and record[key] is not None and not isinstance(record[key], str):
            return reject(RejectCode.BAD_TYPE, f"{key!r} must be a string, got {type(record[key]).__name__}")
    if "sample_id" in record and isinstance(record["sample_id"], str) and not record["sample_id"].strip():
        return reject(RejectCode.EMPTY_KEY, "'sample_id' is empty")
    if not is_known_task(record["task_id"]):
        return reject(RejectCode.UNKNOWN_TASK, f"unknown task {record['task_id']!r}")
    code_bytes = len(record["code"].encode("utf-8"))
    if code_bytes > MAX_CODE_BYTES:
        return reject(RejectCode.OVERSIZED_CODE, f"code is {code_bytes} bytes (limit {MAX_CODE_BYTES})")
    return Sample(
        sample_id=sample_id or default_sample_id(record["task_id"], record["code"]),
        task_id=record["task_id"],
        code=record["code"],
        origin=record.get("origin") or "",
        broken_code=record.get("broken_code"),
        traceback=record.get("traceback"),
        extra={k: v for k, v in record.items() if k not in KNOWN_KEYS},
    )


class Deduplicator:
    """Rejects a sample whose id, or whose (task, normalized code), was seen before."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._codes: dict[tuple[str, str], str] = {}

    def check(self, sample: Sample, where: str) -> Rejection | None:
        first = self._ids.get(sample.sample_id)
        if first is not None:
            return Rejection(
                RejectCode.DUPLICATE_ID,
                f"duplicate sample_id (first seen at {first})",
                sample.sample_id,
                sample.task_id,
            )
        key = (sample.task_id, hashlib.sha256(normalized_code(sample.code).encode()).hexdigest())
        first = self._codes.get(key)
        if first is not None:
            return Rejection(
                RejectCode.DUPLICATE_CODE,
                f"duplicate code (same as {first})",
                sample.sample_id,
                sample.task_id,
            )
        self._ids[sample.sample_id] = where
        self._codes[key] = f"{sample.sample_id} at {where}"
        return None


def split_lines(data: bytes) -> list[bytes]:
    """JSONL lines of ``data``: split on ``\\n``, a final newline ends the last line."""
    if not data:
        return []
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [line.removesuffix(b"\r") for line in lines]


def intake_lines(
    sources: Iterable[tuple[str, bytes]], is_known_task: Callable[[str], bool]
) -> Iterator[LineResult]:
    """Validate every line of every ``(name, content)`` source, in order, deduplicating across all."""
    dedupe = Deduplicator()
    for name, data in sources:
        for number, raw in enumerate(split_lines(data), start=1):
            parsed = parse_line(raw, is_known_task)
            if isinstance(parsed, Rejection):
                yield LineResult(name, number, rejection=parsed)
                continue
            duplicate = dedupe.check(parsed, f"{name}:{number}")
            if duplicate is not None:
                yield LineResult(name, number, rejection=duplicate)
            else:
                yield LineResult(name, number, sample=parsed)
