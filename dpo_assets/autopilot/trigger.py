"""When the certified pool has grown enough since the last training to train again.

The sensor ``training_trigger`` compares the size of the latest ``chosen_pool`` with a
baseline: the pool size at the last training (or at the last training it requested, kept in
its cursor, so a queued training is not requested twice). Plain functions, so that the rule
is tested without Dagster.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

DEFAULT_THRESHOLD = 500
THRESHOLD_ENV = "DPO_ASSETS_TRAIN_THRESHOLD"


def threshold_from_env() -> int:
    """The growth that triggers training: ``$DPO_ASSETS_TRAIN_THRESHOLD``, default 500."""
    raw = os.environ.get(THRESHOLD_ENV, "").strip()
    if not raw:
        return DEFAULT_THRESHOLD
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{THRESHOLD_ENV}={raw!r} is not a whole number of samples") from exc
    if value < 1:
        raise ValueError(f"{THRESHOLD_ENV}={value}: the threshold must be at least 1")
    return value


@dataclass(frozen=True)
class TriggerDecision:
    train: bool
    pool: int
    baseline: int
    threshold: int

    @property
    def growth(self) -> int:
        return self.pool - self.baseline

    @property
    def reason(self) -> str:
        verdict = "reached" if self.train else "below"
        return (
            f"certified pool {self.pool} = {self.baseline} at the last training + {self.growth}: "
            f"growth {verdict} the threshold of {self.threshold}"
        )


def decide(pool: int | None, baseline: int, threshold: int) -> TriggerDecision | None:
    """Train when the pool grew by ``threshold`` or more since ``baseline``; None: no pool yet."""
    if pool is None:
        return None
    return TriggerDecision(pool - baseline >= threshold, pool, baseline, threshold)


@dataclass(frozen=True)
class Cursor:
    """What the sensor remembers: the pool size its last training request was made at."""

    requested_at_pool: int = 0

    def dump(self) -> str:
        return json.dumps({"requested_at_pool": self.requested_at_pool})

    @classmethod
    def load(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        try:
            return cls(int(json.loads(text)["requested_at_pool"]))
        except (ValueError, KeyError, TypeError):
            return cls()  # an unreadable cursor restarts from the recorded trainings
