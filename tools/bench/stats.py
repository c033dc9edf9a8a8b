"""Figures of a run: latency percentiles and process CPU time."""

from collections.abc import Sequence
from dataclasses import dataclass
import math
import os
from pathlib import Path


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the `fraction` percentile (nearest rank) of `values`, which is not empty."""
    ordered = sorted(values)
    rank = max(int(-(-fraction * len(ordered) // 1)), 1)  # ceil, at least the first
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True, slots=True)
class Latencies:
    """Reply latencies (ms) of a phase, and how many requests failed."""

    count: int
    errors: int
    wrong: int  # a 200 reply that decided differently from what the member may do
    seconds: float
    p50: float
    p95: float
    p99: float
    max: float
    first_error: str | None = None  # what went wrong first, to say why errors > 0

    @classmethod
    def of(
        cls,
        samples: Sequence[float],
        *,
        errors: int,
        wrong: int,
        seconds: float,
        first_error: str | None = None,
    ) -> "Latencies":
        """Summarize `samples` (seconds) taken over `seconds`."""
        if not samples:
            nan = float("nan")
            return cls(0, errors, wrong, seconds, nan, nan, nan, nan, first_error)
        ms = [sample * 1000 for sample in samples]
        return cls(
            len(ms),
            errors,
            wrong,
            seconds,
            percentile(ms, 0.50),
            percentile(ms, 0.95),
            percentile(ms, 0.99),
            max(ms),
            first_error,
        )

    @property
    def outcome(self) -> str:
        """Return the p99 and the errors, as the benchmark prints them."""
        errors = f"errors {self.errors}"
        if self.first_error:
            errors += f" (first: {self.first_error})"
        return f"p99 {self.p99:.1f} ms, {errors}, wrong {self.wrong}"

    @property
    def per_second(self) -> float:
        """Return the requests answered per second."""
        return self.count / self.seconds if self.seconds else 0.0


def ms(value: float | None) -> str:
    """Return milliseconds as the report shows them ("-": none)."""
    return "-" if value is None or math.isnan(value) else f"{value:.1f} ms"


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system, all threads) a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of proc(5) (utime, stime): 12 and 13 after the command name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
