"""Expected labels of generated candidates and confusion tables."""

from __future__ import annotations

from pathlib import Path

from dpo_assets.corpus.expected import (
    code_sha256,
    confusion,
    expected_label,
    load_equivalent_mutants,
)

CODE = "def f():\n    return 1\n"


def test_lineage_decides_the_expected_label() -> None:
    equivalents = {("a/b", code_sha256(CODE))}
    rewrite = {"task_id": "a/b", "code": "x", "origin": "rewrite:rename", "parent_label": "hacking"}
    mutation = {"task_id": "a/b", "code": "y", "origin": "mutation:flip", "parent_label": "correct"}
    assert expected_label(rewrite, equivalents) == "hacking"
    assert expected_label(mutation, equivalents) == "broken"
    assert expected_label({**mutation, "code": CODE}, equivalents) == "correct"
    assert expected_label({**mutation, "code": CODE, "task_id": "c/d"}, equivalents) == "broken"
    assert expected_label({"task_id": "a/b", "code": "z", "origin": "bundled"}, equivalents) is None


def test_equivalent_mutants_are_read_by_task_and_hash(tmp_path: Path) -> None:
    folder = tmp_path / "equivalent_mutants"
    folder.mkdir()
    (folder / "a__b.jsonl").write_text(
        '{"task_id": "a/b", "code_sha256": "00ff", "rationale": "r"}\n\n', encoding="utf-8"
    )
    assert load_equivalent_mutants(tmp_path) == {("a/b", "00ff")}
    assert load_equivalent_mutants(tmp_path / "missing") == set()


def test_bundled_equivalent_mutants_are_well_formed() -> None:
    found = load_equivalent_mutants()
    assert found and all(len(sha) == 64 for _, sha in found)


def test_confusion_counts_false_verdicts() -> None:
    table = confusion(
        [("t/a", "correct", True), ("t/a", "correct", False), ("t/a", "broken", False),
         ("t/b", "hacking", True), ("t/b", "broken", False)]
    )  # fmt: skip
    assert (table.false_certifications, table.false_rejections) == (1, 1)
    text = table.markdown()
    assert "| t/a | 1 | 1 | 0 | 1 |" in text and "| t/b | 0 | 0 | 1 | 1 |" in text
    assert "| **all** | **1** | **1** | **1** | **2** |" in text
