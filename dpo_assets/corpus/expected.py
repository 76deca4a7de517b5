"""What the gate should say about a candidate, and confusion tables of what it did say.

Bundled candidates carry labels (``data/labels``). A generated candidate's expected label
follows from its lineage: a rewrite keeps its parent's label (rewrites preserve behaviour);
a mutation is ``broken`` unless it is listed in ``data/labels/equivalent_mutants/`` (mutants
adjudicated as behaving exactly like their parent under the task contract, by code hash).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dpo_assets import paths

EQUIVALENT_MUTANTS_DIR = "equivalent_mutants"


def code_sha256(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def load_equivalent_mutants(labels_dir: Path | None = None) -> set[tuple[str, str]]:
    """``(task_id, code_sha256)`` of every mutant adjudicated as equivalent to its parent."""
    folder = (labels_dir or paths.labels_dir()) / EQUIVALENT_MUTANTS_DIR
    found: set[tuple[str, str]] = set()
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found.add((row["task_id"], row["code_sha256"]))
    return found


def expected_label(record: Mapping, equivalents: set[tuple[str, str]]) -> str | None:
    """``correct``/``broken``/``hacking`` for a generated ``record``; None without lineage."""
    origin, parent = str(record.get("origin", "")), record.get("parent_label")
    if origin.startswith("mutation:"):
        return "correct" if (record["task_id"], code_sha256(record["code"])) in equivalents else "broken"
    if origin.startswith("rewrite:") and isinstance(parent, str):
        return parent
    return None


@dataclass
class Confusion:
    """Per task: how many candidates of each expected label were certified / rejected."""

    cells: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # task -> label -> [cert, rej]

    def add(self, task_id: str, label: str, certified: bool) -> None:
        cell = self.cells.setdefault(task_id, {}).setdefault(label, [0, 0])
        cell[0 if certified else 1] += 1

    @property
    def false_certifications(self) -> int:
        return sum(c[0] for t in self.cells.values() for label, c in t.items() if label != "correct")

    @property
    def false_rejections(self) -> int:
        return sum(t.get("correct", [0, 0])[1] for t in self.cells.values())

    def markdown(self) -> str:
        """One row per task: correct certified/rejected, defective (broken + hacking) ditto."""
        lines = ["| task | correct: certified | correct: rejected | broken+hacking: certified | "
                 "broken+hacking: rejected |", "| --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
        totals = [0, 0, 0, 0]
        for task_id in sorted(self.cells):
            cells = self.cells[task_id]
            good = cells.get("correct", [0, 0])
            bad = [sum(c[i] for label, c in cells.items() if label != "correct") for i in (0, 1)]
            row = [*good, *bad]
            totals = [a + b for a, b in zip(totals, row)]
            lines.append(f"| {task_id} | " + " | ".join(map(str, row)) + " |")
        lines.append("| **all** | " + " | ".join(f"**{n}**" for n in totals) + " |")
        return "\n".join(lines)


def confusion(rows: Iterable[tuple[str, str, bool]]) -> Confusion:
    """A :class:`Confusion` of ``(task_id, expected label, certified)`` rows."""
    table = Confusion()
    for task_id, label, certified in rows:
        table.add(task_id, label, certified)
    return table
