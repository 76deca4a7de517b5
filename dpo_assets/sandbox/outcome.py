"""What a sandbox run is asked to do and what it reports back (plain data, no logic)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    """One invocation of a trusted *driver* function against the loaded candidate.

    ``driver`` names a function of the harness module; it is called as
    ``driver(candidate_module, **kwargs)`` inside the sandbox and its return value is
    encoded by exact type (see :mod:`dpo_assets.sandbox.wire`). ``kwargs`` must be
    plain data (it crosses the boundary the same way).
    """

    driver: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def describe(self) -> str:
        if self.label:
            return self.label
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        text = f"{self.driver}({args})"
        return text if len(text) <= 160 else text[:157] + "..."


@dataclass(frozen=True)
class Observation:
    """The decoded result of one call: a value, or the exception it raised."""

    value: Any = None
    error_type: str | None = None  # qualified class name, e.g. "builtins.ValueError"
    error_mro: tuple[str, ...] = ()  # qualified names of the exception's classes
    error_message: str = ""
    seconds: float = 0.0

    @property
    def raised(self) -> bool:
        return self.error_type is not None

    def raised_subclass_of(self, qualified_name: str) -> bool:
        """True when the exception is ``qualified_name`` or a subclass of it."""
        return qualified_name in self.error_mro

    def describe(self) -> str:
        if self.raised:
            return f"raised {self.error_type.removeprefix('builtins.')}: {self.error_message[:200]}"
        text = repr(self.value)
        return f"returned {text if len(text) <= 200 else text[:197] + '...'}"


class Status(enum.StrEnum):
    """How a sandbox run ended."""

    OK = "ok"  # every call produced an observation
    IMPORT_ERROR = "import_error"  # the candidate module failed to import
    TIMEOUT = "timeout"  # wall-clock or CPU limit reached
    MEMORY = "memory"  # address-space limit reached (MemoryError or killed for it)
    EXITED = "exited"  # the process ended before reporting (sys.exit, os._exit, signal)
    CRASHED = "crashed"  # the sandbox machinery itself failed; never a candidate pass


@dataclass(frozen=True)
class Outcome:
    """The structured result of one sandbox run."""

    status: Status
    observations: tuple[Observation, ...] = ()
    detail: str = ""  # a short human-readable account of a non-OK status
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    exit_code: int | None = None  # reported for diagnosis only, never trusted

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def describe(self) -> str:
        return self.status.value if not self.detail else f"{self.status.value}: {self.detail}"
