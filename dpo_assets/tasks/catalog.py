"""The task catalog: every unit under ``dpo_assets/tasks/<domain>/<name>/``.

Adding a task means adding one unit folder; discovery finds it.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path

from dpo_assets.tasks.base import Task

TASKS_DIR = Path(__file__).resolve().parent


class UnknownTaskError(KeyError):
    """Raised for a task id that is not in the catalog."""


def _unit_dirs() -> list[Path]:
    return sorted(
        p
        for p in TASKS_DIR.glob("*/*")
        if p.is_dir() and (p / "__init__.py").exists() and (p / "reference.py").exists()
    )


@lru_cache(maxsize=1)
def load_catalog() -> dict[str, Task]:
    """All tasks, keyed by task id, in a stable order."""
    tasks: dict[str, Task] = {}
    for unit in _unit_dirs():
        module = importlib.import_module(f"dpo_assets.tasks.{unit.parent.name}.{unit.name}")
        task: Task = module.TASK
        expected = f"{unit.parent.name}/{unit.name}"
        if task.task_id != expected:
            raise ValueError(f"task unit {unit} declares task_id {task.task_id!r}, expected {expected!r}")
        tasks[task.task_id] = task
    return tasks


def get_task(task_id: str) -> Task:
    try:
        return load_catalog()[task_id]
    except KeyError:
        raise UnknownTaskError(task_id) from None


def task_ids() -> list[str]:
    return list(load_catalog())
