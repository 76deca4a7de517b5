"""A task-agnostic driver: call one named function of the candidate (tests, benchmarks)."""

from __future__ import annotations

from typing import Any


def call(
    solution: Any, function: str, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None
) -> Any:
    """``solution.<function>(*args, **kwargs)``; the raw result, encoded by the sandbox."""
    return getattr(solution, function)(*(args or ()), **(kwargs or {}))


def noop(solution: Any) -> None:
    """Does nothing (used to probe the sandbox itself)."""
    return None
