"""`dpo-assets <stage>`: one stage at a time in the persistent instance, with progress and clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dpo_assets.cli import main
from dpo_assets.paths import REPO_ROOT
from dpo_assets.runner import STAGES

FFT = REPO_ROOT / "data" / "bundled" / "fft__transform.jsonl"


@pytest.fixture
def project(tmp_path: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Dagster home with the repository's dagster.yaml and a 6-sample corpus."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DPO_ASSETS_REVIEW_REQUIRED", "1")
    monkeypatch.chdir(tmp_path)  # the command moves into the home; this moves back afterwards
    lines = FFT.read_text().splitlines()[:6]
    (data_root / "bundled" / FFT.name).write_text("\n".join(lines) + "\n")
    return home


def test_every_stage_has_a_command_with_help(capsys: pytest.CaptureFixture[str]) -> None:
    for name, stage in STAGES.items():
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        assert f"usage: dpo-assets {name}" in text and "--progress" in text
        assert ", ".join(stage.assets) in " ".join(text.split()) or stage.job in text


def test_a_stage_whose_inputs_were_never_made_says_which_stage_to_run(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["certify"]) == 2
    err = capsys.readouterr().err
    assert "raw_samples (needed by chosen_pool, gate_1_invariant): run `dpo-assets intake` first" in err


def test_stages_run_in_order_with_a_line_per_step(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["intake"]) == 0
    out = capsys.readouterr()
    assert "materialized raw_samples" in out.out and "run " in out.out and "succeeded" in out.out
    assert "[1/1] raw_samples done" in out.err  # not a terminal: one line per finished step
    assert main(["certify", "--no-progress"]) == 0
    out = capsys.readouterr()
    assert "materialized gate_8_coverage" in out.out and "materialized chosen_pool" in out.out
    assert "[1/" not in out.err


def test_the_batch_stage_writes_the_dated_file(project: Path, data_root: Path) -> None:
    assert main(["batch", "--date", "2026-11-25", "--no-progress"]) == 0
    rows = (data_root / "inbox" / "autopilot-2026-11-25.jsonl").read_text().splitlines()
    assert len(rows) > 0 and all(json.loads(r)["task_id"] == "fft/transform" for r in rows)


def test_a_failing_step_prints_its_error_not_a_traceback(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("ops:\n  autopilot_batch:\n    config:\n      backend: gpt\n")
    assert main(["batch", "--config", str(config), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert (
        "FAILED autopilot_batch: dpo_assets.generator.settings.SettingsError: backend must be one of" in out
    )
    assert "Traceback" not in out
    config.write_text("ops:\n  autopilot_batch:\n    config:\n      colour: blue\n")
    assert main(["batch", "--config", str(config)]) == 2
    assert "invalid run config" in capsys.readouterr().err


def test_on_a_terminal_the_progress_is_a_bar(project: Path) -> None:
    import io

    import dagster as dg

    from dpo_assets.runner import run_assets

    stream = io.StringIO()
    with dg.DagsterInstance.get() as instance:
        outcome = run_assets(instance, assets=("raw_samples",), progress=True, stream=stream)
    assert outcome.success and [asset for asset, _ in outcome.materialized] == ["raw_samples"]
    bar = stream.getvalue()
    assert "1/1" in bar and "step" in bar and "[1/1] raw_samples done" not in bar


def test_every_asset_belongs_to_a_stage_command() -> None:
    from dpo_assets.defs import defs

    graph = defs.resolve_asset_graph()
    materializable = {
        k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_materializable
    }
    staged = {asset for stage in STAGES.values() for asset in stage.assets}
    assert materializable - staged == set()
    assert staged - materializable == set()
