"""What Python's garbage collector did in each phase, and what the traced phase kept.

The loop probe inside Home Assistant hands, with each phase's lag figures, the
collector's own counts for the phase (`gc` in its figures): collections of each
generation, the objects they found unreachable, the time they stopped the process,
and `gc.get_count()` before and after. A full (generation 2) collection walks every
object of the process, so its pause grows with Home Assistant's heap; the young
collections come round once `threshold[0]` tracked objects were allocated and not
yet freed, so the allocations that live a little while (a state written, an event
the recorder holds for a moment) bring every collection closer. Per 1,000 posts:

- *young objects*: tracked objects allocated and not freed before the collector
  counted them, `(collections of any generation) x threshold[0] + count after -
  count before` (each automatic collection starts once the young count passes the
  threshold; on Python 3.14's incremental collector an approximation);
- in the allocation-tracing phase (`tracemalloc`, which slows what it watches, so
  in a phase of its own): the memory blocks allocated in the phase and still alive
  at its end, and the change of the objects the collector tracks.
"""

from collections.abc import Mapping
from dataclasses import dataclass
import math
from typing import Any

GENERATIONS = ("young", "middle", "old (full)")


@dataclass(frozen=True, slots=True, kw_only=True)
class GcFigures:
    """The collector's work over one phase, and the posts the boards made meanwhile."""

    posts: int
    seconds: float
    collections: tuple[int, ...]  # per generation
    collected: tuple[int, ...]  # unreachable objects found, per generation
    pause_ms: tuple[float, ...]  # all collections of a generation, together
    longest_ms: tuple[float, ...]
    young: int  # tracked objects allocated and not freed before they were counted

    @classmethod
    def of(cls, lag: Mapping[str, Any], posts: int, seconds: float) -> "GcFigures | None":
        """Read the probe's figures of a phase (None: the probe gave none)."""
        gc = lag.get("gc")
        if not gc:
            return None
        collections = tuple(int(each) for each in gc["collections"])
        young = sum(collections) * int(gc["threshold"][0]) + gc["count"][0] - gc["count_before"][0]
        return cls(
            posts=posts,
            seconds=seconds,
            collections=collections,
            collected=tuple(int(each) for each in gc["collected"]),
            pause_ms=tuple(float(each) for each in gc["pause_ms"]),
            longest_ms=tuple(float(each) for each in gc["longest_ms"]),
            young=max(int(young), 0),
        )

    def per_thousand_posts(self, value: float) -> float:
        """Return `value` per 1,000 posts (NaN: no posts in the phase)."""
        return value / self.posts * 1000 if self.posts else math.nan


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceFigures:
    """The allocation-tracing phase: what was allocated in it and still alive at its end."""

    posts: int
    seconds: float
    blocks: int  # memory blocks allocated in the phase, alive at its end
    kib: float
    peak_mib: float  # the most memory the traced blocks took at once
    objects_change: int  # objects the collector tracks: end minus start
    top: list[tuple[str, int, float]]  # (where, blocks, KiB) of the sites holding most

    @classmethod
    def of(cls, trace: Mapping[str, Any], posts: int, seconds: float) -> "TraceFigures":
        """Read the probe's answer to `?trace=stop`."""
        return cls(
            posts=posts,
            seconds=seconds,
            blocks=int(trace["blocks"]),
            kib=trace["bytes"] / 1024,
            peak_mib=trace["peak_bytes"] / 1024 / 1024,
            objects_change=int(trace["objects"]) - int(trace["objects_before"]),
            top=[
                (site["where"], int(site["blocks"]), site["bytes"] / 1024) for site in trace["top"]
            ],
        )

    def per_thousand_posts(self, value: float) -> float:
        """Return `value` per 1,000 posts (NaN: no posts in the phase)."""
        return value / self.posts * 1000 if self.posts else math.nan


def _number(value: float, digits: int = 0) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def _triple(values: tuple[float, ...], digits: int = 0) -> str:
    return " / ".join(_number(value, digits) for value in values)


def gc_table(phases: list[tuple[str, GcFigures | None]]) -> list[str]:
    """Return the markdown table of the collector's work per phase."""
    lines = [
        (
            "| Phase | Posts | Collections (young / middle / full) | Unreachable found | "
            "GC time, ms (young / middle / full) | Longest full, ms | "
            "Young objects per second | Young objects per 1,000 posts |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, figures in phases:
        if figures is None:
            continue
        young = figures.per_thousand_posts(figures.young)
        per_second = figures.young / figures.seconds if figures.seconds else math.nan
        lines.append(
            f"| {label} | {figures.posts:,} | {_triple(figures.collections)} | "
            f"{_triple(figures.collected)} | {_triple(figures.pause_ms, 1)} | "
            f"{_number(figures.longest_ms[-1], 1)} | {_number(per_second)} | {_number(young)} |"
        )
    return lines


def gc_section(phases: list[tuple[str, GcFigures | None]], trace: TraceFigures | None) -> list[str]:
    """Return the section on garbage collection and allocations."""
    if not any(figures for _, figures in phases) and trace is None:
        return []
    lines = [
        "## Garbage collection",
        "",
        "What Python's garbage collector did inside Home Assistant in each phase",
        "(`gc.get_stats()`, `gc.get_count()` and the collector's callbacks, read by the",
        "probe). A full collection stops every thread while it walks the whole heap;",
        "young objects are tracked objects allocated and not yet freed when the",
        "collector counted them: each `threshold[0]` of them starts a collection. The",
        "idle row is Home Assistant on its own (recorder, recording sensors, the probe):",
        "per second, its young objects are the background of every other phase's.",
        "",
        *gc_table(phases),
        "",
    ]
    if trace is not None:
        lines += trace_section(trace)
    return lines


def trace_section(trace: TraceFigures) -> list[str]:
    """Return the allocation-tracing phase's paragraph and its table of sites."""
    blocks = trace.per_thousand_posts(trace.blocks)
    kib = trace.per_thousand_posts(trace.kib)
    objects = trace.per_thousand_posts(trace.objects_change)
    lines = [
        "### Allocations still alive (tracemalloc)",
        "",
        f"The boards posted {trace.posts:,} times in {trace.seconds:.0f} s with `tracemalloc`",
        "tracing every allocation of Home Assistant's process (it slows what it watches:",
        "this phase's latencies are not reported). Per 1,000 posts,",
        f"**{_number(blocks)} memory blocks ({_number(kib, 1)} KiB)** allocated in the phase",
        "were still alive at its end, and the objects the collector tracks changed by",
        f"**{_number(objects, 0)}** (peak of the traced memory: {trace.peak_mib:.1f} MiB).",
        "Where the blocks still alive were allocated (the whole process: Home Assistant,",
        "the recorder, the integration):",
        "",
        "| Where | Blocks alive | KiB |",
        "|---|---|---|",
    ]
    lines += [f"| `{where}` | {count:,} | {size:,.1f} |" for where, count, size in trace.top]
    return [*lines, ""]
