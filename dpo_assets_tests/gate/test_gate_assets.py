"""Gate layers 1-8 as Dagster assets, materialized in a real (temporary) instance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.defs import defs
from dpo_assets.defs.gate_assets import asset_name, layer_code_version
from dpo_assets.gate.pipeline import LAYERS
from dpo_assets.storage import read_parquet

TASK = "pytest_traceback_repair/moving_average"


# Read before the data_root fixture points the data folder at a temporary one.
SAMPLES, LABELS = load_samples(TASK), load_labels(TASK)


@contextmanager
def _instance_with(data_root: Path, tmp_path: Path, picked: list[str]) -> Iterator[dg.DagsterInstance]:
    """A temporary instance whose bundled input is exactly the ``picked`` samples."""
    (data_root / "bundled" / "few.jsonl").write_text("".join(json.dumps(SAMPLES[i]) + "\n" for i in picked))
    home = tmp_path / "home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


def _materialize(instance: dg.DagsterInstance, selection: dg.AssetSelection) -> dg.ExecuteInProcessResult:
    return dg.materialize(list(defs.assets), resources=defs.resources, instance=instance, selection=selection)


def test_layers_materialize_with_accounting_and_metadata(data_root: Path, tmp_path: Path) -> None:
    samples, labels = SAMPLES, LABELS
    picked = [i for i in samples if labels[i]["label"] == "correct"][:2]
    picked += [i for i in samples if labels[i]["label"] != "correct" and 7 not in labels[i]["caught_by"]][:4]
    with _instance_with(data_root, tmp_path, picked) as instance:
        result = _materialize(instance, dg.AssetSelection.groups("intake", "gate"))
    assert result.success
    rejected_total, survivors = 0, len(picked)
    for spec in LAYERS:
        name = asset_name(spec.number, spec.name)
        meta = result.asset_materializations_for_node(name)[0].metadata
        assert meta["rows_in"].value == survivors
        assert meta["passed"].value + meta["rejected"].value == survivors
        rejected_total += meta["rejected"].value
        survivors = meta["passed"].value
        folder = data_root / "runs" / name
        rejections = read_parquet(folder / "rejections.parquet")
        assert set(rejections["layer"]) <= {spec.number}
        assert all(rejections["reason"].str.len() > 0)
    final = read_parquet(data_root / "runs" / asset_name(8, "coverage") / "survivors.parquet")
    assert sorted(final["sample_id"]) == sorted(i for i in picked if labels[i]["label"] == "correct")
    assert all(final["coverage"] >= 80)
    assert rejected_total + len(final) == len(picked)


def test_code_version_follows_the_layer_source(tmp_path: Path, monkeypatch) -> None:
    import importlib

    gate_assets = importlib.import_module("dpo_assets.defs.gate_assets")  # the package exports a list

    versions = {spec.name: gate_assets.layer_code_version(spec.name) for spec in LAYERS}
    assert len(set(versions.values())) == len(LAYERS)  # each layer's own module counts
    assert versions == {spec.name: gate_assets.layer_code_version(spec.name) for spec in LAYERS}
    # A copy of the package with one layer edited: only that layer's version changes.
    import shutil

    copy = tmp_path / "dpo_assets"
    shutil.copytree(gate_assets._PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    layer_file = copy / "gate" / "layers" / "fuzz.py"
    layer_file.write_text(layer_file.read_text() + "\n# changed\n")
    monkeypatch.setattr(gate_assets, "_PACKAGE", copy)
    changed = {spec.name: gate_assets.layer_code_version(spec.name) for spec in LAYERS}
    assert [n for n in versions if versions[n] != changed[n]] == ["fuzz"]
    material = copy / "tasks" / "fft" / "transform" / "__init__.py"
    material.write_text(material.read_text() + "\n# material changed\n")
    assert all(gate_assets.layer_code_version(n) != changed[n] for n in versions)


def test_chosen_pool_funnel_adds_up(data_root: Path, tmp_path: Path, small_mix, write_input) -> None:
    small_mix, labels = small_mix
    write_input(data_root / "bundled" / "mix.jsonl", small_mix)  # + two lines layer 0 rejects
    raw_lines = len(small_mix) + 2
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = dg.materialize(
            list(defs.assets),
            resources=defs.resources,
            instance=instance,
            selection=dg.AssetSelection.groups("intake", "gate", "pool"),
        )
    assert result.success
    meta = {name: result.asset_materializations_for_node(name)[0].metadata for name in _ALL_NAMES}

    pool = meta["chosen_pool"]
    certified = pool["certified"].value
    assert pool["raw_lines"].value == raw_lines and pool["dagster/row_count"].value == certified
    rejected = [meta["raw_samples"]["rejected"].value] + [meta[n]["rejected"].value for n in _GATE_NAMES]
    assert certified + sum(rejected) == raw_lines
    assert certified == sum(1 for label in labels.values() if label == "correct")
    counts = [raw_lines, meta["raw_samples"]["accepted"].value]
    counts += [meta[n]["passed"].value for n in _GATE_NAMES]
    assert pool["funnel"].value == " → ".join(f"{n:,}" for n in counts)
    table = pool["funnel_by_layer"].value.splitlines()[2:]  # after the header and the rule
    assert [int(row.split("|")[1]) for row in table] == list(range(9))
    assert [int(row.split("|")[5]) for row in table] == rejected  # | layer | name | in | passed | rejected |
    for domain in {row["task_id"].split("/")[0] for row in small_mix}:
        assert domain in pool["funnel_by_domain"].value and domain in pool["domain_mix_shift"].value

    for name in _GATE_NAMES:
        layer = meta[name]
        assert set(_NEW_LAYER_KEYS) <= set(layer)
        assert layer["elapsed_s"].value >= 0 and layer["candidates_per_s"].value >= 0

    frames = read_parquet(data_root / "runs" / "chosen_pool" / "survivors.parquet")
    ledger = read_parquet(data_root / "runs" / "chosen_pool" / "rejections.parquet")
    assert len(frames) == certified and len(frames) + len(ledger) == raw_lines
    assert sorted(ledger["layer"].unique()) == sorted({0} | {n for n, r in enumerate(rejected) if r})


_GATE_NAMES = [asset_name(spec.number, spec.name) for spec in LAYERS]
_ALL_NAMES = ["raw_samples", *_GATE_NAMES, "chosen_pool"]
_NEW_LAYER_KEYS = ("top_rejection_reasons", "domain_mix_before_after", "elapsed_s", "candidates_per_s")


def test_one_layer_rematerializes_from_the_stored_survivors(data_root: Path, tmp_path: Path) -> None:
    picked = [i for i in SAMPLES if LABELS[i]["label"] == "correct"][:1]
    picked += [i for i in SAMPLES if 4 in LABELS[i]["caught_by"] and 7 not in LABELS[i]["caught_by"]][:2]
    fuzz = asset_name(4, "fuzz")
    folder = data_root / "runs" / fuzz
    with _instance_with(data_root, tmp_path, picked) as instance:
        assert _materialize(instance, dg.AssetSelection.groups("intake", "gate")).success
        before = {name: read_parquet(folder / f"{name}.parquet") for name in ("survivors", "rejections")}
        assert len(before["rejections"]) >= 1  # the layer had something to reject
        upstream = folder.parent / asset_name(3, "property") / "survivors.parquet"
        upstream_mtime = upstream.stat().st_mtime_ns
        # Only layer 4, in a run of its own: it reads layer 3's stored survivors.
        again = _materialize(instance, dg.AssetSelection.assets(fuzz))
        assert again.success
        assert [e.asset_key.to_user_string() for e in again.get_asset_materialization_events()] == [fuzz]
        assert upstream.stat().st_mtime_ns == upstream_mtime  # layer 3 did not run again
        for name, frame in before.items():
            assert read_parquet(folder / f"{name}.parquet").equals(frame), name
        event = instance.get_latest_materialization_event(dg.AssetKey(fuzz))
        assert event is not None
        assert event.asset_materialization.tags["dagster/code_version"] == layer_code_version("fuzz")
