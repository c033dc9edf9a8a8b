"""How late a recording sensor's slots started: a bounded history and its stats.

Pure: wall-clock seconds in, numbers out. The history keeps the last
LATENESS_WINDOW and never more than LATENESS_MAX_SAMPLES entries, so a sensor that
runs for months holds the same memory as on its first day.
"""

from collections import deque
from datetime import timedelta
import math

LATENESS_WINDOW = timedelta(days=1)
# A day of 1-minute slots (1441) fits; with shorter intervals the stats describe the
# newest samples, still plenty for a p99. The cap also bounds a history whose
# timestamps lie ahead of a clock that was set back, which pruning by age cannot.
LATENESS_MAX_SAMPLES = 2000


class SlotLateness:
    """Seconds each slot started after its time, over the last day."""

    def __init__(self) -> None:
        """Start empty."""
        # (wall-clock time it started, seconds late), oldest first
        self._samples: deque[tuple[float, float]] = deque(maxlen=LATENESS_MAX_SAMPLES)

    def __len__(self) -> int:
        """Return how many samples are kept."""
        return len(self._samples)

    def add(self, when: float, late: float) -> None:
        """Record a slot that started `late` s after its time, at wall-clock `when`."""
        # Pruned as it grows, not only when someone asks for the stats.
        self._prune(when)
        self._samples.append((when, max(late, 0.0)))

    def stats(self, now: float) -> dict[str, float | int | None]:
        """Return the lateness over the last day: count, max, p99 (s)."""
        self._prune(now)
        values = sorted(late for _, late in self._samples)
        if not values:
            return {"count": 0, "max": None, "p99": None}
        index = min(len(values) - 1, math.ceil(0.99 * len(values)) - 1)
        return {"count": len(values), "max": values[-1], "p99": values[index]}

    def _prune(self, now: float) -> None:
        cutoff = now - LATENESS_WINDOW.total_seconds()
        while self._samples and self._samples[0][0] < cutoff:
            self._samples.popleft()
