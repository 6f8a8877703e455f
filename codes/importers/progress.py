"""A one-line progress bar for long imports, drawn only when the output is a terminal."""

import sys
import time


class Progress:
    """Counts work done against a total (bytes or rows) and redraws at most ten times a second.

    On anything but a terminal (logs, CI, tests) it draws nothing, so captured output stays clean.
    """

    WIDTH = 30

    def __init__(self, total: int, *, label: str = "", stream=None):
        raw = getattr(stream, "_out", stream) if stream is not None else sys.stderr
        self.stream = raw
        self.enabled = bool(getattr(raw, "isatty", lambda: False)())
        self.total = max(total, 1)
        self.label = label
        self.done = 0
        self._drawn_at = 0.0

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        if self.enabled and time.monotonic() - self._drawn_at >= 0.1:
            self._draw()

    def close(self) -> None:
        if self.enabled:
            self.done = self.total
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        share = min(self.done / self.total, 1.0)
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {share:4.0%}")
        self.stream.flush()
        self._drawn_at = time.monotonic()


class NoProgress(Progress):
    """Stands in where no bar is wanted (the benchmark, admin previews)."""

    def __init__(self, *args, **kwargs):
        super().__init__(1)
        self.enabled = False
