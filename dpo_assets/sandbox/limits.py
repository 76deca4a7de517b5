"""Resource limits applied to every sandboxed run."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Limits:
    """Per-run limits. Defaults suit one gate layer's batch of calls on one candidate."""

    wall_seconds: float = 20.0
    cpu_seconds: int = 20
    memory_bytes: int = 2 * 1024**3  # address space (RLIMIT_AS)
    file_bytes: int = 16 * 1024**2  # largest file the code may write (RLIMIT_FSIZE)
    max_processes: int = 32  # RLIMIT_NPROC for the sandbox uid: a fork bomb stops here
    output_bytes: int = 64 * 1024  # stdout/stderr kept per stream
    # Wall-clock budget of any single call, enforced from outside the sandbox (the clock of a
    # call starts when the previous one reported, the first call's when the sandbox was set
    # up, so it includes importing the candidate). None: only the batch budget applies.
    call_seconds: float | None = None

    def scaled(self, factor: float) -> Limits:
        """The same limits with time budgets multiplied by ``factor``."""
        return replace(
            self,
            wall_seconds=self.wall_seconds * factor,
            cpu_seconds=max(1, int(self.cpu_seconds * factor)),
            call_seconds=None if self.call_seconds is None else self.call_seconds * factor,
        )


DEFAULT_LIMITS = Limits()
