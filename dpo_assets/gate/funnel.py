"""The gate as a funnel: per-layer counts, common rejection reasons and domain-mix shifts.

Plain functions over pandas tables and :class:`~dpo_assets.stage.StageFrames` (no Dagster):
the gate assets turn their results into metadata (see ``dpo_assets.defs.metadata``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from dpo_assets.stage import StageFrames

UNREADABLE = "(unreadable)"  # the domain of a raw line whose task id could not be read
TOP_REASONS = 10

_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_IDENTIFIER = re.compile(r"^['\"][A-Za-z_][\w.]{0,39}['\"]$")
_INNER = r"(?:[^()\[\]{}]|\(…\)|\[…\]|\{…\})"  # plain text or an already collapsed bracket
_BRACKETS = re.compile(rf"\({_INNER}+\)|\[{_INNER}+\]|\{{{_INNER}+\}}")
_CLIPPED_CALL = re.compile(rf"\({_INNER}*?\.\.\.(?=:)")  # "f(a=[…], lim...: message"
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w])")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b")


def normalize_reason(reason: str) -> str:
    """``reason`` with its inputs stripped, so that the same failure on different inputs groups.

    Quoted strings (except short identifiers such as ``'time.perf_counter'``) become ``'…'``,
    bracketed arguments ``(…)``/``[…]``/``{…}`` and numbers ``N``::

        agent(replies=['{"final": 42}']): steps=0 but the llm was called 1 times
        -> agent(…): steps=N but the llm was called N times
    """

    def quoted(match: re.Match[str]) -> str:
        text = match.group(0)
        return text if _IDENTIFIER.match(text) else "'…'"

    text = _QUOTED.sub(quoted, " ".join(reason.split()))
    while True:
        collapsed = _BRACKETS.sub(lambda m: m.group(0)[0] + "…" + m.group(0)[-1], text)
        if collapsed == text:
            break
        text = collapsed
    text = _CLIPPED_CALL.sub("(…)", text)
    text = _NUMBER.sub("N", _HEX.sub("N", text))
    return text.strip()


def top_reasons(reasons: Iterable[str], limit: int = TOP_REASONS) -> list[tuple[str, int]]:
    """The ``limit`` most common normalized reasons with their counts (ties: alphabetical)."""
    counts = Counter(normalize_reason(r) for r in reasons)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def domain_of(task_id: object) -> str:
    """The domain of a task id (the part before ``/``); :data:`UNREADABLE` when there is none."""
    if not isinstance(task_id, str) or not task_id:
        return UNREADABLE
    return task_id.split("/", 1)[0]


def domains(frame: pd.DataFrame) -> list[str]:
    """The domain of every row of a table with a ``task_id`` column."""
    return [domain_of(t) for t in frame["task_id"]] if len(frame) else []


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def domain_shift(before: Iterable[str], after: Iterable[str]) -> pd.DataFrame:
    """Rows and share (percent) per domain before and after a stage, and the shift in
    percentage points (``share_after_pct - share_before_pct``); one row per domain, sorted."""
    return shift_table(Counter(before), Counter(after))


def shift_table(rows_before: Mapping[str, int], rows_after: Mapping[str, int]) -> pd.DataFrame:
    """:func:`domain_shift` from row counts per domain."""
    names = sorted(rows_before.keys() | rows_after.keys())
    total_before, total_after = sum(rows_before.values()), sum(rows_after.values())
    frame = pd.DataFrame(
        {
            "domain": names,
            "rows_before": [rows_before.get(d, 0) for d in names],
            "rows_after": [rows_after.get(d, 0) for d in names],
            "share_before_pct": [_pct(rows_before.get(d, 0), total_before) for d in names],
            "share_after_pct": [_pct(rows_after.get(d, 0), total_after) for d in names],
        }
    )
    frame["shift_pp"] = (frame["share_after_pct"] - frame["share_before_pct"]).round(2)
    return frame


def throughput(rows: int, seconds: float) -> float:
    """Candidates per second (0 when nothing ran or no time passed)."""
    return round(rows / seconds, 2) if rows and seconds > 0 else 0.0


@dataclass(frozen=True)
class FunnelStep:
    """One layer of the funnel: how many rows came in and how many went on."""

    layer: int
    name: str
    rows_in: int
    passed: int

    @property
    def rejected(self) -> int:
        return self.rows_in - self.passed

    @property
    def shrinkage_pct(self) -> float:
        return _pct(self.rejected, self.rows_in)


@dataclass(frozen=True)
class Funnel:
    """Raw lines through layer 0 (intake) and gate layers 1–8 to the certified pool."""

    steps: tuple[FunnelStep, ...]
    domain_counts: pd.DataFrame  # domain × ("raw", "0 intake", "1 invariant", …) survivor counts

    @property
    def raw_lines(self) -> int:
        return self.steps[0].rows_in if self.steps else 0

    @property
    def certified(self) -> int:
        return self.steps[-1].passed if self.steps else 0

    def mix_shift(self) -> pd.DataFrame:
        """Each domain's rows and share in the raw input and among the certified, and the
        shift in percentage points (see :func:`shift_table`)."""
        counts = self.domain_counts.set_index("domain")
        return shift_table(counts["raw"].to_dict(), counts[counts.columns[-1]].to_dict()).rename(
            columns={
                "rows_before": "raw_rows",
                "rows_after": "certified_rows",
                "share_before_pct": "raw_share_pct",
                "share_after_pct": "certified_share_pct",
            }
        )

    def table(self) -> pd.DataFrame:
        """One row per layer: layer, name, in, passed, rejected, shrinkage %."""
        return pd.DataFrame(
            [
                {
                    "layer": s.layer,
                    "name": s.name,
                    "in": s.rows_in,
                    "passed": s.passed,
                    "rejected": s.rejected,
                    "shrinkage_pct": s.shrinkage_pct,
                }
                for s in self.steps
            ],
            columns=["layer", "name", "in", "passed", "rejected", "shrinkage_pct"],
        )

    def line(self) -> str:
        """The counts as one line: raw lines, then the survivors of layer 0, 1, …, 8
        (``2,439 → 980 → … → 116``)."""
        return " → ".join(f"{n:,}" for n in [self.raw_lines, *(s.passed for s in self.steps)])


def build_funnel(raw: StageFrames, layers: Sequence[tuple[int, str, StageFrames]]) -> Funnel:
    """The funnel from layer 0's frames (``raw``: every raw line is a survivor or a rejection)
    and each gate layer's ``(number, name, frames)`` in order.

    Raises ValueError when a layer's rows do not add up with its upstream's survivors (layers
    materialized from different runs)."""
    steps = [FunnelStep(0, "intake", raw.rows_in, len(raw.survivors))]
    columns = {"raw": domains(pd.concat([raw.survivors[["task_id"]], raw.rejections[["task_id"]]]))}
    columns["0 intake"] = domains(raw.survivors)
    upstream = raw.survivors
    for number, name, frames in layers:
        if frames.rows_in != len(upstream) or not set(frames.survivors["sample_id"]).isdisjoint(
            frames.rejections["sample_id"]
        ):
            raise ValueError(
                f"layer {number} ({name}) saw {frames.rows_in} rows but its upstream has {len(upstream)} "
                "survivors: the layers come from different runs; re-materialize them together"
            )
        steps.append(FunnelStep(number, name, frames.rows_in, len(frames.survivors)))
        columns[f"{number} {name}"] = domains(frames.survivors)
        upstream = frames.survivors
    names = sorted(set(columns["raw"]))
    table = pd.DataFrame({"domain": names})
    for label, values in columns.items():
        counted = Counter(values)
        table[label] = [counted[d] for d in names]
    return Funnel(tuple(steps), table)
