"""How many candidates run at once: the default size of a sandbox pool."""

from __future__ import annotations

import os

# Sandboxes beyond the CPU count. A candidate that hangs (a deadlock, a real sleep) holds its
# slot until its time budget runs out without using a CPU, and every run has idle moments
# (fork, result transfer, judging in the parent); two spare slots keep the CPUs busy through
# both. Measured on 2 CPUs with the 2,000-candidate batch: 2 slots 12 cand/s, 4 slots 21.
SPARE_SLOTS = 2


JOBS_ENV = "DPO_ASSETS_SANDBOX_JOBS"


def default_jobs() -> int:
    """Candidates checked at a time by default: ``$DPO_ASSETS_SANDBOX_JOBS`` (e.g. a pod's CPU
    request, set in its environment), else the CPU count plus :data:`SPARE_SLOTS`."""
    raw = os.environ.get(JOBS_ENV, "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{JOBS_ENV}={raw!r}: give a whole number of sandboxes, at least 1")
        return int(raw)
    return (os.cpu_count() or 1) + SPARE_SLOTS
