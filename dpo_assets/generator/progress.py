"""Progress of a generation run on stderr: a tqdm bar on a terminal, else periodic plain lines."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm

PREFIX = "generate: "


class SlotProgress:
    """``progress(done, total)`` for :func:`generate_llm_batch`: a bar when ``live`` (default:
    ``stream.isatty()``), else a line at the first slot, the last, and at most every ``every`` s."""

    def __init__(
        self,
        stream: TextIO,
        live: bool | None = None,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream, self.every, self.clock = stream, every, clock
        self.live = _is_tty(stream) if live is None else live
        self._bar: tqdm | None = None
        self._last: float | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.live:
            if self._bar is None:
                self._bar = tqdm(total=total, desc="generate", unit="slot", file=self.stream, leave=False)
            self._bar.update(done - self._bar.n)
            if done == total:
                self._bar.refresh()  # show the finished bar even when updates came quickly
            return
        now = self.clock()
        if self._last is None or done == total or now - self._last >= self.every:
            print(f"{PREFIX}{done}/{total} slots", file=self.stream, flush=True)
            self._last = now

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
