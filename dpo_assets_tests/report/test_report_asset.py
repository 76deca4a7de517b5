"""iteration_report materialized with the whole graph (raw samples to DPO pairs) on a few
bundled samples, unattended, in a temporary instance and data folder."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from matplotlib import image

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.defs import defs
from dpo_assets.evaldata import problems as ev
from dpo_assets.paths import REPO_ROOT
from dpo_assets.report import page
from dpo_assets.storage import read_parquet

OFFLINE = REPO_ROOT.parent / "shared" / "data"
TASK = "pytest_traceback_repair/moving_average"
LONE_TASK = "monte_carlo/metropolis"  # one correct sample and no rejected partner: unpaired
PNGS = (page.FUNNEL_PNG, page.MIX_PNG, page.PAIRS_PNG)

pytestmark = pytest.mark.skipif(
    not all((OFFLINE / name).is_file() for name in ev.BENCHMARK_FILES.values()),
    reason=f"offline benchmark copies not found in {OFFLINE}",
)


def _rows() -> list[dict]:
    """Two correct and two broken samples (caught before layer 7) of TASK, one correct of LONE_TASK."""
    samples, labels = load_samples(TASK), load_labels(TASK)
    correct = [s for s, lab in labels.items() if lab["label"] == "correct"][:2]
    broken = [s for s, lab in labels.items() if lab["label"] == "broken" and max(lab["caught_by"]) < 7][:2]
    lone_samples, lone_labels = load_samples(LONE_TASK), load_labels(LONE_TASK)
    lone = next(s for s, lab in lone_labels.items() if lab["label"] == "correct")
    return [*(samples[s] for s in correct + broken), lone_samples[lone]]


ROWS = _rows()  # read before data_root points the data folder at a temporary one


@pytest.fixture
def result(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.ExecuteInProcessResult:
    (data_root / "bundled" / "few.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    monkeypatch.setenv(ev.ENV_VAR, str(OFFLINE))
    monkeypatch.setenv("DPO_ASSETS_REVIEW_REQUIRED", "0")
    monkeypatch.delenv("DPO_ASSETS_REVIEW_SIGNOFF", raising=False)
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        return dg.materialize(
            [*defs.assets, *defs.asset_checks],
            resources=defs.resources,
            instance=instance,
            selection=dg.AssetSelection.assets("iteration_report").upstream()
            - dg.AssetSelection.groups("autopilot"),  # no new batch: just the rows above
        )


def test_iteration_report(result: dg.ExecuteInProcessResult, data_root: Path) -> None:
    assert result.success
    run_folder = data_root / "reports" / result.run_id[:8]
    latest = data_root / "reports" / "latest"
    for folder in (run_folder, latest):
        assert (folder / page.INDEX_HTML).is_file() and (folder / page.INDEX_MD).is_file()
        for png in PNGS:
            assert (folder / png).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
            assert image.imread(folder / png).ndim == 3

    pairs = read_parquet(data_root / "runs" / "dpo_pairs" / "survivors.parquet")
    unpaired = read_parquet(data_root / "runs" / "dpo_pairs" / "rejections.parquet")
    assert len(pairs) >= 1 and LONE_TASK in set(unpaired["task_id"])
    markdown = (latest / page.INDEX_MD).read_text(encoding="utf-8")
    assert f"- **pairs**: {len(pairs)}\n" in markdown and f"- **unpaired**: {len(unpaired)}\n" in markdown
    assert all(sample_id in markdown for sample_id in unpaired["sample_id"])
    assert "REVIEW SKIPPED" in markdown
    assert (latest / page.INDEX_HTML).read_bytes() == (run_folder / page.INDEX_HTML).read_bytes()

    meta = result.asset_materializations_for_node("iteration_report")[0].metadata
    assert meta["report"].value == str(run_folder / page.INDEX_HTML)
    assert meta["report_md"].value == str(run_folder / page.INDEX_MD)
    assert meta["latest"].value == str(latest / page.INDEX_HTML)
    for key, png in (
        ("funnel_chart", page.FUNNEL_PNG),
        ("domain_mix_chart", page.MIX_PNG),
        ("pairs_chart", page.PAIRS_PNG),
    ):
        assert meta[f"{key}_png"].value == str(run_folder / png)
        assert meta[key].value.startswith("![") and "(data:image/png;base64," in meta[key].value
    assert meta["pairs"].value == len(pairs)
    chosen = result.asset_materializations_for_node("chosen_pool")[0].metadata
    assert meta["funnel"].value == chosen["funnel"].value
