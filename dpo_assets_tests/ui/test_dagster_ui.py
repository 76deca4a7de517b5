"""The Dagster UI for real: ``dagster dev`` serves every asset and check of ``defs``, runs a small
materialization, and renders the asset lineage in headless Chromium (marker ``ui``; part of the
default run, about 25 s; the screenshot test skips without a Chromium binary)."""

import importlib.util
import io
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load_ui_check():
    spec = importlib.util.spec_from_file_location("ui_check", REPO_ROOT / "scripts" / "ui_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


ui_check = _load_ui_check()
pytestmark = pytest.mark.ui


def _expected() -> tuple[dict[tuple[str, ...], tuple[str, str | None]], set[tuple[tuple[str, ...], str]]]:
    """Asset key -> (group, code version) and every (asset key, check name), from ``defs`` in-process."""
    from dpo_assets.defs import defs

    graph = defs.resolve_asset_graph()
    assets = {
        tuple(key.path): (graph.get(key).group_name, graph.get(key).code_version)
        for key in graph.get_all_asset_keys()
    }
    checks = {(tuple(check.asset_key.path), check.name) for check in graph.asset_check_keys}
    return assets, checks


def _assert_png_not_blank(png: bytes, width: int, height: int) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (width, height)
    colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50, "screenshot is (nearly) one colour"
    dominant = max(count for count, _ in colours)
    assert dominant < 0.97 * width * height, "screenshot is almost all one colour"


@pytest.fixture(scope="module")
def server():
    with ui_check.dagster_dev() as running:
        yield running


def test_ui_serves_every_asset_and_check(server) -> None:
    expected_assets, expected_checks = _expected()
    nodes = ui_check.asset_nodes(server)
    served = {key: (info.group, info.code_version) for key, info in nodes.items()}
    assert served == expected_assets
    assert all(info.op_names for key, info in nodes.items() if expected_assets[key][1] is not None)
    assert ui_check.asset_checks(server) == expected_checks


def test_ui_materializes_a_small_selection(server) -> None:
    before = {key: ui_check.latest_events(server, key) for key in ui_check.SMALL_SELECTION}
    run_id = ui_check.launch_assets(server, ui_check.SMALL_SELECTION)
    assert ui_check.wait_for_run(server, run_id) == "SUCCESS"
    observed, materialized = ui_check.SMALL_SELECTION  # an observable source, then the asset
    assert ui_check.latest_events(server, observed)["observation"] == run_id
    assert ui_check.latest_events(server, materialized)["materialization"] == run_id
    assert before[materialized]["materialization"] != run_id


def test_ui_renders_the_whole_lineage(server, tmp_path: Path) -> None:
    chromium = ui_check.find_chromium()
    if chromium is None:
        pytest.skip("no Chromium binary (chromium, chromium-browser, google-chrome or $CHROMIUM)")
    expected_assets, _ = _expected()
    names = [key[-1] for key in expected_assets]
    groups = {group for group, _ in expected_assets.values()}
    started = time.monotonic()
    shot = ui_check.screenshot(ui_check.lineage_url(server.url, groups), names, 2400, 1000, chromium=chromium)
    assert time.monotonic() - started < 60
    _assert_png_not_blank(shot.png, 2400, 1000)
    assert ui_check.missing_names(shot.graph_text, names) == []
    assert "Global asset lineage" in shot.text
    assert shot.scale is not None and shot.scale >= 0.15  # below that the graph shows groups only
    (tmp_path / "asset-graph.png").write_bytes(shot.png)


def test_missing_names_reads_cut_labels() -> None:
    text = "intake\ndecontaminat…_pool\nraw_samplesLatest event"
    assert ui_check.missing_names(text, ["decontaminated_pool", "raw_samples", "intake"]) == []
    assert ui_check.missing_names(text, ["deduplicated_pool", "raw_sample_files"]) == [
        "deduplicated_pool",
        "raw_sample_files",
    ]
