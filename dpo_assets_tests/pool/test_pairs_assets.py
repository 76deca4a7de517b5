"""chosen_pool → decontaminated_pool → deduplicated_pool → review_queue (+ blocking sign-off
check) → dpo_pairs, materialized in a temporary instance on a few bundled samples."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.defs import defs
from dpo_assets.defs.pairs_assets import REVIEW_SKIPPED, DecontaminationConfig, decontaminated_pool
from dpo_assets.evaldata import problems as ev
from dpo_assets.paths import REPO_ROOT
from dpo_assets.stage import StageFrames
from dpo_assets.storage import read_parquet
from dpo_assets.training.dataset import PairsFileError, load_pairs

OFFLINE = REPO_ROOT.parent / "shared" / "data"
TASKS = ("pytest_traceback_repair/moving_average", "pytest_traceback_repair/parse_duration")
LONE_TASK = "monte_carlo/metropolis"  # one correct sample, no rejected partner: unpaired
CHECK = dg.AssetCheckKey(dg.AssetKey("review_queue"), "review_signed_off")
UPSTREAM = ("intake", "gate", "pool")

needs_eval_data = pytest.mark.skipif(
    not all((OFFLINE / name).is_file() for name in ev.BENCHMARK_FILES.values()),
    reason=f"offline benchmark copies not found in {OFFLINE}",
)


def _rows() -> list[dict]:
    """Per task in TASKS: 2 correct + 3 broken caught before layer 7; one correct sample of
    LONE_TASK; one comment-only copy of a correct sample (an exact duplicate for dedup)."""
    rows = []
    for task_id in TASKS:
        samples, labels = load_samples(task_id), load_labels(task_id)
        correct = [s for s, lab in labels.items() if lab["label"] == "correct"][:2]
        broken = [s for s, lab in labels.items() if lab["label"] == "broken" and max(lab["caught_by"]) < 7]
        rows += [samples[s] for s in correct + broken[:3]]
    samples, labels = load_samples(LONE_TASK), load_labels(LONE_TASK)
    rows.append(samples[next(s for s, lab in labels.items() if lab["label"] == "correct")])
    copy = dict(rows[0], sample_id=f"{rows[0]['sample_id']}-copy", code=rows[0]["code"] + "\n# a copy\n")
    return [*rows, copy]


ROWS = _rows()  # read before data_root points the data folder at a temporary one
CORRECT = sum(1 for r in ROWS[:-1] if load_labels(r["task_id"])[r["sample_id"]]["label"] == "correct")


@pytest.fixture
def instance(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (data_root / "bundled" / "few.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    monkeypatch.setenv(ev.ENV_VAR, str(OFFLINE))
    monkeypatch.delenv("DPO_ASSETS_REVIEW_SIGNOFF", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


def _materialize(instance: dg.DagsterInstance, selection: dg.AssetSelection) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*defs.assets, *defs.asset_checks],  # the check too: materialize runs only what it is given
        resources=defs.resources,
        instance=instance,
        selection=selection,
        raise_on_error=False,
    )


def _check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.asset_check_key == CHECK]
    return evaluation


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def _meta(result: dg.ExecuteInProcessResult, name: str) -> dict:
    return result.asset_materializations_for_node(name)[0].metadata


@needs_eval_data
def test_review_blocks_pairs_until_signed_off(
    instance: dg.DagsterInstance, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DPO_ASSETS_REVIEW_REQUIRED", "1")
    everything = dg.AssetSelection.groups(*UPSTREAM, "pairs")
    first = _materialize(instance, everything)
    assert not first.success
    check = _check(first)
    assert not check.passed and check.blocking
    assert "not reviewed yet" in check.description
    assert {"chosen_pool", "decontaminated_pool", "deduplicated_pool", "review_queue"} <= _materialized(first)
    assert "dpo_pairs" not in _materialized(first)
    assert not (data_root / "pairs").exists()
    queue_md = (data_root / "review" / "queue.md").read_text()
    queue = read_parquet(data_root / "review" / "queue.parquet")
    assert len(queue) >= 1 and all(f"`{sid}`" in queue_md for sid in queue["sample_id"])
    assert _meta(first, "review_queue")["status"].value.startswith("not reviewed yet")

    # A reviewer rejects one sample: still blocked.
    signoff = data_root / "review" / "signoff.json"
    verdicts = {sid: {"verdict": "approved", "reviewer": "t", "note": ""} for sid in queue["sample_id"]}
    signoff.write_text(json.dumps({**verdicts, queue["sample_id"][0]: {"verdict": "rejected"}}))
    again = _materialize(instance, dg.AssetSelection.assets("review_queue", "dpo_pairs"))
    assert not again.success and "rejected by the reviewer" in _check(again).description
    assert "dpo_pairs" not in _materialized(again)

    # All approved: the check passes and the pairs are written.
    signoff.write_text(json.dumps(verdicts))
    signed = _materialize(instance, dg.AssetSelection.assets("review_queue", "dpo_pairs"))
    assert signed.success and _check(signed).passed
    assert "dpo_pairs" in _materialized(signed)

    lines = (data_root / "pairs" / "pairs.jsonl").read_text().splitlines()
    meta = _meta(signed, "dpo_pairs")
    assert len(lines) == meta["pairs"].value >= 2
    for line in lines:
        row = json.loads(line)
        for key, role in (("prompt", "user"), ("chosen", "assistant"), ("rejected", "assistant")):
            assert isinstance(row[key], list) and row[key]
            assert all(set(m) == {"role", "content"} and m["role"] == role for m in row[key])
        assert row["task_id"] in TASKS and row["rejected_layer"] in range(1, 9)
    assert len(read_parquet(data_root / "pairs" / "pairs.parquet")) == len(lines)

    # Accounting: chosen = paired + unpaired + decontaminated + deduplicated.
    chosen = _meta(first, "chosen_pool")["certified"].value
    dropped = _meta(first, "decontaminated_pool")["dropped"].value
    duplicates = _meta(first, "deduplicated_pool")["duplicates"].value
    paired, unpaired = meta["pairs"].value, meta["unpaired"].value
    assert chosen == CORRECT + 1  # the comment-only copy is certified too
    assert duplicates == 1 and dropped == 0
    assert chosen == paired + unpaired + dropped + duplicates
    assert meta["accounting"].value == (
        f"chosen {chosen} = paired {paired} + unpaired {unpaired} + decontaminated {dropped} "
        f"+ deduplicated {duplicates}"
    )
    unpaired_rows = read_parquet(data_root / "runs" / "dpo_pairs" / "rejections.parquet")
    assert LONE_TASK in set(unpaired_rows["task_id"])
    assert set(unpaired_rows["reason"]) == {"no_rejected_partner"}


@needs_eval_data
def test_unattended_switch_passes_loudly(instance: dg.DagsterInstance, data_root: Path, monkeypatch) -> None:
    monkeypatch.setenv("DPO_ASSETS_REVIEW_REQUIRED", "0")
    result = _materialize(instance, dg.AssetSelection.groups(*UPSTREAM, "pairs"))
    assert result.success
    check = _check(result)
    assert check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["review"].value == REVIEW_SKIPPED and check.description == REVIEW_SKIPPED
    assert "dpo_pairs" in _materialized(result)
    assert (data_root / "pairs" / "pairs.jsonl").exists()
    assert not (data_root / "review" / "signoff.json").exists()


@needs_eval_data
def test_pairs_files_load_with_datasets_and_pass_trl_dpo_preparation(
    instance: dg.DagsterInstance, data_root: Path, tiny_base: Path, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    import peft
    import trl
    from transformers import AutoModelForCausalLM, AutoTokenizer

    monkeypatch.setenv("DPO_ASSETS_REVIEW_REQUIRED", "0")
    assert _materialize(instance, dg.AssetSelection.groups(*UPSTREAM, "pairs")).success
    jsonl, parquet = (load_pairs(data_root / "pairs" / f"pairs.{ext}") for ext in ("jsonl", "parquet"))
    assert jsonl.to_list() == parquet.to_list() and len(jsonl) >= 2
    assert trl.data_utils.is_conversational(jsonl[0])

    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    trainer = trl.DPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny_base),
        args=trl.DPOConfig(
            output_dir=str(tmp_path / "dpo"), bf16=False, use_cpu=True, report_to=[], max_length=4096
        ),
        train_dataset=parquet,
        processing_class=tokenizer,
        peft_config=peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]),
    )
    prepared = trainer.train_dataset
    assert len(prepared) == len(parquet)  # nothing dropped: TRL drops prompts >= max_length
    for row, pair in zip(prepared, parquet):
        prompt_ids = tokenizer.apply_chat_template(pair["prompt"], add_generation_prompt=True)["input_ids"]
        assert row["prompt_ids"] == prompt_ids  # TRL kept the whole prompt
        end = tokenizer.eos_token
        assert tokenizer.decode(row["chosen_ids"]) == pair["chosen"][0]["content"] + end + "\n"
        assert tokenizer.decode(row["rejected_ids"]) == pair["rejected"][0]["content"] + end + "\n"
        assert row["chosen_ids"] != row["rejected_ids"]


def test_load_pairs_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(PairsFileError, match="materialize dpo_pairs first"):
        load_pairs(tmp_path / "pairs.parquet")
    with pytest.raises(PairsFileError, match=r"unknown pairs format '\.csv'"):
        load_pairs(tmp_path / "pairs.csv")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "p", "answer": "a"}) + "\n")
    with pytest.raises(PairsFileError, match="missing column\\(s\\) chosen, rejected"):
        load_pairs(bad)


@needs_eval_data
def test_decontaminated_pool_drops_a_planted_humaneval_solution(data_root: Path) -> None:
    he0 = next(p for p in ev.load_humaneval(OFFLINE) if p.task_id == "HumanEval/0")
    clean = ROWS[0]
    pool = pd.DataFrame(
        [
            {**{k: clean.get(k) for k in ("sample_id", "task_id", "code", "broken_code")}, "coverage": 95.0},
            {
                "sample_id": "planted-he0",
                "task_id": "monte_carlo/metropolis",
                "code": "import math\n\n" + he0.prompt + he0.canonical_solution,
                "broken_code": None,
                "coverage": 90.0,
            },
        ]
    )
    empty = pd.DataFrame({"sample_id": pd.Series(dtype=str)})
    output = decontaminated_pool(
        dg.build_asset_context(),
        config=DecontaminationConfig(eval_data_dir=str(OFFLINE)),
        chosen_pool=StageFrames(pool, empty),
    )
    kept, dropped = output.value.survivors, output.value.rejections
    assert list(kept["sample_id"]) == [clean["sample_id"]]
    assert list(dropped["sample_id"]) == ["planted-he0"]
    assert "HumanEval/0" in dropped["reason"][0] and "exact code" in dropped["reason"][0]
    assert "prompt" not in kept.columns and list(kept.columns) == list(pool.columns)
    audit = read_parquet(data_root / "runs" / "decontaminated_pool" / "audit.parquet")
    assert set(audit["sample_id"]) == {"planted-he0"}
    assert ("humaneval", "HumanEval/0", "exact") in set(
        zip(audit["benchmark"], audit["problem_id"], audit["kind"])
    )
    assert output.metadata["dropped"].value == 1 and output.metadata["kept"].value == 1
    assert "HumanEval/0" in output.metadata["audit"].value


def test_missing_eval_data_names_both_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    pairs_assets = importlib.import_module("dpo_assets.defs.pairs_assets")  # the package exports a list
    monkeypatch.setenv(ev.ENV_VAR, "/nonexistent/eval-data")
    monkeypatch.setattr(pairs_assets.evaldata, "default_offline_dir", lambda: None)
    with pytest.raises(FileNotFoundError, match=r"DPO_ASSETS_EVAL_DATA.*shared/data"):
        pairs_assets.eval_data_dir("")
