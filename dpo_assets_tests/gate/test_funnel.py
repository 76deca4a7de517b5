"""The funnel arithmetic, its metadata rendering and the terminal progress (no sandbox)."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from dpo_assets.defs.metadata import funnel_metadata, layer_metadata, markdown_table
from dpo_assets.defs.pool_assets import rejection_ledger
from dpo_assets.gate import funnel
from dpo_assets.gate.frames import GATE_REJECTION_COLUMNS
from dpo_assets.gate.pipeline import LAYERS, stable_text
from dpo_assets.gate.progress import LayerProgress
from dpo_assets.intake.frames import REJECTION_COLUMNS
from dpo_assets.stage import StageFrames


def test_normalize_reason_strips_inputs_and_numbers() -> None:
    n = funnel.normalize_reason
    assert n("agent(replies=['{\"final\": 42}']): steps=0 but the llm was called 1 times") == (
        "agent(…): steps=N but the llm was called N times"
    )
    assert n("transform(values=[1, 2.5], kind='list'): fft[3]: expected (1+2j), got 0j") == n(
        "transform(values=[[7]], kind='tuple'): fft[0]: expected (4-1j), got 0j"
    )
    assert n("line 5: monkeypatch: assignment to 'time.perf_counter'") == (
        "line N: monkeypatch: assignment to 'time.perf_counter'"
    )
    assert n("expected 'a long string with spaces', got 1e-300") == "expected '…', got N"
    assert n("gather(jobs=[{'a': 1}], lim...: job 2 still ran") == "gather(…): job N still ran"
    assert n("gate_8 and fft2 stay") == "gate_8 and fft2 stay"
    assert n("  spread\nover  lines ") == "spread over lines"


def test_top_reasons_groups_and_ranks() -> None:
    reasons = ["f(1): expected 1, got 2", "f(2): expected 5, got 6", "g(): boom", "a(): rare", "h(): boom"]
    assert funnel.top_reasons(reasons) == [("f(…): expected N, got N", 2), ("a(): rare", 1),
                                           ("g(): boom", 1), ("h(): boom", 1)]  # fmt: skip
    assert funnel.top_reasons(reasons, limit=1) == [("f(…): expected N, got N", 2)]
    assert funnel.top_reasons([]) == []


def test_domain_shift_shares_and_points() -> None:
    table = funnel.domain_shift(["a", "a", "a", "b"], ["a", "b"])
    assert table.to_dict("records") == [
        {"domain": "a", "rows_before": 3, "rows_after": 1, "share_before_pct": 75.0,
         "share_after_pct": 50.0, "shift_pp": -25.0},
        {"domain": "b", "rows_before": 1, "rows_after": 1, "share_before_pct": 25.0,
         "share_after_pct": 50.0, "shift_pp": 25.0},
    ]  # fmt: skip
    empty_after = funnel.domain_shift(["a"], [])
    assert empty_after["share_after_pct"].tolist() == [0.0]
    assert funnel.domain_of("fft/transform") == "fft"
    assert funnel.domain_of(None) == funnel.domain_of("") == funnel.UNREADABLE
    assert funnel.throughput(10, 4.0) == 2.5 and funnel.throughput(0, 0.0) == 0.0


def _survivors(*ids_tasks: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sample_id": [i for i, _ in ids_tasks],
            "task_id": [t for _, t in ids_tasks],
            "domain": [t.split("/")[0] for _, t in ids_tasks],
            "code": ["x = 1"] * len(ids_tasks),
            "coverage": [90.0] * len(ids_tasks),
        }
    )


def _rejections(layer: int, *ids_tasks: tuple[str | None, str | None]) -> pd.DataFrame:
    rows = [
        {"source": "in.jsonl", "line": k + 1, "sample_id": i, "task_id": t, "layer": layer,
         "code": f"layer_{layer}", "reason": f"r{layer}(1): failed 2", "evidence": ""}
        for k, (i, t) in enumerate(ids_tasks)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=REJECTION_COLUMNS)


@pytest.fixture
def stages() -> tuple[StageFrames, list[tuple[int, str, StageFrames]]]:
    """Six raw lines: one unreadable, five samples (a/1, a/2, a/3, b/1, b/2); layer 1 rejects
    a/2 and b/2, layer 5 rejects a/3; nothing else is rejected."""
    a1, a2, a3, b1, b2 = ("a1", "a/x"), ("a2", "a/x"), ("a3", "a/y"), ("b1", "b/x"), ("b2", "b/x")
    raw = StageFrames(_survivors(a1, a2, a3, b1, b2), _rejections(0, (None, None)))
    layers, current = [], [a1, a2, a3, b1, b2]
    for spec in LAYERS:
        rejected = {1: [a2, b2], 5: [a3]}.get(spec.number, [])
        current = [s for s in current if s not in rejected]
        frames = StageFrames(_survivors(*current), _rejections(spec.number, *rejected))
        layers.append((spec.number, spec.name, frames))
    return raw, layers


def test_build_funnel_counts(stages) -> None:
    raw, layers = stages
    result = funnel.build_funnel(raw, layers)
    table = result.table()
    assert table["layer"].tolist() == list(range(9))
    assert table["in"].tolist() == [6, 5, 3, 3, 3, 3, 2, 2, 2]
    assert table["rejected"].tolist() == [1, 2, 0, 0, 0, 1, 0, 0, 0]
    assert (table["in"] == table["passed"] + table["rejected"]).all()
    assert table["shrinkage_pct"].tolist()[:2] == [16.67, 40.0]
    assert result.raw_lines == 6 and result.certified == 2
    assert result.line() == "6 → 5 → 3 → 3 → 3 → 3 → 2 → 2 → 2 → 2"
    by_domain = result.domain_counts.set_index("domain")
    assert by_domain.columns[:3].tolist() == ["raw", "0 intake", "1 invariant"]
    assert by_domain.columns[-1] == "8 coverage"
    assert by_domain.loc["a"].tolist() == [3, 3, 2, 2, 2, 2, 1, 1, 1, 1]
    assert by_domain.loc["b"].tolist() == [2, 2, 1, 1, 1, 1, 1, 1, 1, 1]
    assert by_domain.loc[funnel.UNREADABLE].tolist() == [1] + [0] * 9
    shift = result.mix_shift().set_index("domain")
    assert shift.loc["a", "raw_share_pct"] == 50.0 and shift.loc["a", "certified_share_pct"] == 50.0
    assert shift.loc[funnel.UNREADABLE, "shift_pp"] == pytest.approx(-16.67)
    assert shift["shift_pp"].sum() == pytest.approx(0.0, abs=0.02)


def test_build_funnel_refuses_layers_from_different_runs(stages) -> None:
    raw, layers = stages
    number, name, frames = layers[3]
    layers[3] = (number, name, StageFrames(frames.survivors.iloc[:1], frames.rejections))
    with pytest.raises(ValueError, match="layer 4"):
        funnel.build_funnel(raw, layers)


def test_thousands_separator_in_the_funnel_line() -> None:
    steps = (funnel.FunnelStep(0, "intake", 2439, 980), funnel.FunnelStep(1, "invariant", 980, 116))
    assert funnel.Funnel(steps, pd.DataFrame()).line() == "2,439 → 980 → 116"


def test_layer_and_funnel_metadata(stages) -> None:
    raw, layers = stages
    _, _, first = layers[0]
    meta = layer_metadata(raw.survivors, first, 2.0)
    assert (meta["rows_in"], meta["passed"], meta["rejected"], meta["shrinkage_pct"]) == (5, 3, 2, 40.0)
    assert meta["elapsed_s"] == 2.0 and meta["candidates_per_s"] == 2.5
    assert re.search(r"\| r1\(…\): failed N \|\s+2 \|", meta["top_rejection_reasons"].value)
    before_after = meta["domain_mix_before_after"].value
    assert "share_before_pct" in before_after and "share_after_pct" in before_after
    pool_meta = funnel_metadata(funnel.build_funnel(raw, layers))
    assert pool_meta["funnel"] == "6 → 5 → 3 → 3 → 3 → 3 → 2 → 2 → 2 → 2"
    assert (pool_meta["raw_lines"], pool_meta["certified"], pool_meta["certified_pct"]) == (6, 2, 33.33)
    assert "8 coverage" in pool_meta["funnel_by_domain"].value
    assert "raw_share_pct" in pool_meta["domain_mix_shift"].value


def test_rejection_ledger_holds_every_layer(stages) -> None:
    raw, layers = stages
    ledger = rejection_ledger(raw, [frames for _, _, frames in layers])
    assert ledger.columns.tolist() == GATE_REJECTION_COLUMNS
    assert ledger["layer"].tolist() == [0, 1, 1, 5]
    assert ledger["coverage"].isna().all()
    empty = rejection_ledger(StageFrames(raw.survivors, raw.rejections.iloc[:0]), [])
    assert empty.empty and empty.columns.tolist() == GATE_REJECTION_COLUMNS


def test_markdown_cells_keep_their_pipes() -> None:
    text = markdown_table(pd.DataFrame({"reason": ["max |L - A| = N"], "rows": [1]})).value
    assert "max \\|L - A\\| = N" in text


def test_stable_text_drops_memory_addresses() -> None:
    a = stable_text("got Foreign(repr='<solution._S object at 0x7fd5b76f1e80>') value 0x10")
    assert a == "got Foreign(repr='<solution._S object at 0x…>') value 0x10"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal() -> None:
    stream = _Terminal()
    spec = LAYERS[0]
    with LayerProgress(stream, min_interval=0) as progress:
        assert progress.live
        for done in range(4):
            progress.tick(spec, done, 3)
        progress.message("layer 1 invariant: 3 in, 2 passed, 1 rejected (0.1s)")
        progress.tick(LAYERS[1], 0, 2)
        progress.tick(LAYERS[1], 1, 2)
    out = stream.getvalue()
    assert "\r" in out  # redrawn in place
    assert "gate: layer 1 invariant" in out and "3/3" in out and "cand/s" in out
    assert "gate: layer 2 differential" in out and "1/2" in out
    assert "gate: layer 1 invariant: 3 in, 2 passed, 1 rejected (0.1s)\n" in out


def test_progress_lines_elsewhere() -> None:
    stream = io.StringIO()
    progress = LayerProgress(stream)
    assert not progress.live
    progress.tick(LAYERS[0], 0, 3)
    progress.tick(LAYERS[0], 3, 3)
    progress.message("layer 1 invariant: 3 in, 3 passed, 0 rejected (0.1s)")
    assert stream.getvalue() == "gate: layer 1 invariant: 3 in, 3 passed, 0 rejected (0.1s)\n"
