"""The task catalog: one self-contained unit per task (see :mod:`dpo_assets.tasks.base`)."""

from dpo_assets.tasks.base import Task
from dpo_assets.tasks.catalog import UnknownTaskError, get_task, load_catalog, task_ids

__all__ = ["Task", "UnknownTaskError", "get_task", "load_catalog", "task_ids"]
