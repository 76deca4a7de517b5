"""Stable sample ids (no heavy imports: used by intake and the generator alike)."""

from __future__ import annotations

import hashlib


def default_sample_id(task_id: str, code: str) -> str:
    """The id of a sample that has none: a hash of its task id and code."""
    digest = hashlib.sha256(f"{task_id}\0{code}".encode()).hexdigest()
    return f"s-{digest[:16]}"
