"""How ``dpo-assets gate`` reports progress: a live bar per layer on a terminal, else lines.

On a terminal each layer gets a tqdm bar (layer name, done/total, rate, ETA) that is replaced
by the layer's one-line summary when it finishes; elsewhere (a pipe, a log file) only the
summary lines are written, exactly as before.
"""

from __future__ import annotations

import os
import threading
from typing import TextIO

from tqdm import tqdm

from dpo_assets.gate.pipeline import LayerSpec

PREFIX = "gate: "
FALLBACK_SIZE = os.terminal_size((80, 24))  # for a terminal that reports 0 columns or lines


class LayerProgress:
    """Progress of one gate run on ``stream``; ``live`` (default: ``stream.isatty()``) turns the
    bars on; a bar redraws at most every ``min_interval`` seconds. Use :meth:`message` as
    certify's ``progress`` and :meth:`tick` as its ``on_done``."""

    def __init__(self, stream: TextIO, live: bool | None = None, min_interval: float = 0.1) -> None:
        self.stream = stream
        self.live = _is_tty(stream) if live is None else live
        self.min_interval = min_interval
        self._bar: tqdm | None = None
        self._layer: int | None = None
        self._lock = threading.Lock()

    def tick(self, spec: LayerSpec, done: int, total: int) -> None:
        """Candidate ``done`` of ``total`` of layer ``spec`` finished (``done=0``: it starts)."""
        if not self.live:
            return
        with self._lock:
            if self._bar is None or self._layer != spec.number or done == 0:
                self._close_bar()
                columns, lines = _size(self.stream)
                self._bar = tqdm(
                    total=total,
                    desc=f"{PREFIX}layer {spec.number} {spec.name}",
                    unit="cand",
                    file=self.stream,
                    leave=False,
                    dynamic_ncols=columns > 0,
                    ncols=None if columns > 0 else FALLBACK_SIZE.columns,
                    nrows=None if lines > 0 else FALLBACK_SIZE.lines,  # tqdm hides bars below nrows
                    mininterval=self.min_interval,
                )
                self._layer = spec.number
            self._bar.update(done - self._bar.n)
            if done == total:
                self._bar.refresh()  # show the finished bar even when updates came quickly

    def message(self, text: str) -> None:
        """A summary line (a layer finished, or intake); it replaces the layer's bar."""
        with self._lock:
            self._close_bar()
            print(f"{PREFIX}{text}", file=self.stream, flush=True)

    def close(self) -> None:
        with self._lock:
            self._close_bar()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar, self._layer = None, None

    def __enter__(self) -> LayerProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _size(stream: TextIO) -> tuple[int, int]:
    """The terminal's (columns, lines), 0 where unknown."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):  # not a terminal, no file descriptor, closed
        return 0, 0
    return size.columns, size.lines


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False
