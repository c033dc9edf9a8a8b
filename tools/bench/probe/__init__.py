"""The benchmark's eye inside Home Assistant: how late the event loop runs callbacks.

`scripts/bench` copies this integration into the config of the Home Assistant it
starts. A callback due every 20 ms records how late it ran; `GET /api/bench_probe`
returns the lag figures since the previous call (and starts over). When the loop
stalls for more than 100 ms, a watchdog thread samples the loop thread's stack
every 10 ms, so the figures also say where it stalled; and the longest pause of
Python's garbage collector, which stops every thread, is reported too, with what the
collector did meanwhile (`GcMeter`: collections of each generation, what they found,
how long they took, from `gc.get_stats()` and `gc.get_count()`).

`?trace=start` starts `tracemalloc` (it slows the whole process: the benchmark runs it
in a phase of its own) and `?trace=stop` stops it and says what the memory blocks
allocated since are, that are still alive, and where they were allocated.
"""

import asyncio
from collections import Counter
import gc
from pathlib import Path
import sys
import threading
import time
import traceback
import tracemalloc
from typing import Any

from aiohttp import web
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.helpers.typing import ConfigType

DOMAIN = "bench_probe"
PERIOD_SEC = 0.02
STALL_SEC = 0.1
SAMPLE_SEC = 0.01
STACK_DEPTH = 14
TRACE_TOP = 12  # allocation sites reported
GENERATIONS = 3


class GcMeter:
    """What Python's garbage collector did since the last `take`, per generation."""

    def __init__(self) -> None:
        """Start counting now."""
        self._stats = gc.get_stats()
        self._count = gc.get_count()
        self._started = 0.0
        self.pause = [0.0] * GENERATIONS  # seconds, all collections of a generation
        self.longest = [0.0] * GENERATIONS

    def callback(self, phase: str, info: dict[str, int]) -> None:
        """Time a collection (`gc.callbacks`; any thread, the world stopped)."""
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = min(info.get("generation", 0), GENERATIONS - 1)
        took = time.perf_counter() - self._started
        self.pause[generation] += took
        self.longest[generation] = max(self.longest[generation], took)

    def take(self) -> dict[str, Any]:
        """Return the figures since the last call (and start over).

        `count_before` / `count` are `gc.get_count()` then and now; with the young
        generation's threshold they tell how many tracked objects were allocated and
        not freed before the collector counted them.
        """
        stats, count = gc.get_stats(), gc.get_count()
        pairs = list(zip(self._stats, stats, strict=True))
        figures = {
            "collections": [now["collections"] - then["collections"] for then, now in pairs],
            "collected": [now["collected"] - then["collected"] for then, now in pairs],
            "uncollectable": sum(
                now["uncollectable"] - then["uncollectable"] for then, now in pairs
            ),
            "pause_ms": [round(each * 1000, 2) for each in self.pause],
            "longest_ms": [round(each * 1000, 2) for each in self.longest],
            "count_before": list(self._count),
            "count": list(count),
            "threshold": list(gc.get_threshold()),
        }
        self._stats, self._count = stats, count
        self.pause, self.longest = [0.0] * GENERATIONS, [0.0] * GENERATIONS
        return figures


class AllocationTrace:
    """Memory blocks allocated while `tracemalloc` ran that were still alive at its end."""

    def __init__(self) -> None:
        """Not tracing yet."""
        self._objects = 0

    def start(self) -> dict[str, Any]:
        """Count the objects the collector tracks, then trace every allocation.

        A full collection first, here and at the end: garbage that only waits for the
        collector would otherwise count as alive.
        """
        gc.collect()
        self._objects = len(gc.get_objects())
        tracemalloc.start()
        return {"tracing": True, "objects": self._objects}

    def stop(self) -> dict[str, Any]:
        """Stop tracing; return what is still alive of what was allocated (blocking).

        The probe's own allocations (its lag figures) are left out.
        """
        if not tracemalloc.is_tracing():
            return {"tracing": False}
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        snapshot = snapshot.filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
        )
        sites = snapshot.statistics("lineno")
        return {
            "tracing": False,
            "blocks": sum(site.count for site in sites),
            "bytes": sum(site.size for site in sites),
            "peak_bytes": peak,
            "objects_before": self._objects,
            "objects": len(gc.get_objects()),
            "top": [
                {"where": _where(site.traceback[0]), "blocks": site.count, "bytes": site.size}
                for site in sorted(sites, key=lambda site: site.count, reverse=True)[:TRACE_TOP]
            ],
        }


def _where(frame: tracemalloc.Frame) -> str:
    """Return `package/module.py:line`, without the folders every path shares."""
    parts = Path(frame.filename).parts
    for marker in ("site-packages", "custom_components", "lib"):
        if marker in parts:
            parts = parts[len(parts) - parts[::-1].index(marker) :]
            break
    return f"{'/'.join(parts[-3:])}:{frame.lineno}"


class LoopProbe:
    """Measure the lag of a periodic callback on the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Probe `loop`."""
        self.loop = loop
        self.lags: list[float] = []
        self._due = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._last_tick = time.monotonic()  # the loop's clock
        self._loop_thread = threading.get_ident()
        self._stopped = threading.Event()
        self._watcher: threading.Thread | None = None
        self.stalls: Counter[str] = Counter()  # stack -> samples (10 ms each)
        self.gc_max = 0.0
        self._gc_started = 0.0
        self.gc = GcMeter()

    def start(self) -> None:
        """Start ticking, and watching from another thread."""
        self._schedule(self.loop.time() + PERIOD_SEC)
        self._watcher = threading.Thread(target=self._watch, name="bench_probe", daemon=True)
        self._watcher.start()
        gc.callbacks.append(self._gc)
        gc.callbacks.append(self.gc.callback)

    def stop(self, *_: Any) -> None:
        """Stop ticking and watching."""
        self._stopped.set()
        for each in (self._gc, self.gc.callback):
            if each in gc.callbacks:
                gc.callbacks.remove(each)
        if self._handle is not None:
            self._handle.cancel()
        if self._watcher is not None:
            # Ended within one sample (10 ms): gone before Home Assistant is.
            self._watcher.join(timeout=1)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_max = max(self.gc_max, time.perf_counter() - self._gc_started)

    def _watch(self) -> None:
        while not self._stopped.wait(SAMPLE_SEC):
            if time.monotonic() - self._last_tick < STALL_SEC:
                continue
            frame = sys._current_frames().get(self._loop_thread)  # noqa: SLF001 - the only way
            if frame is not None:
                stack = traceback.extract_stack(frame)[-STACK_DEPTH:]
                self.stalls["\n".join(f"{f.filename}:{f.lineno} {f.name}" for f in stack)] += 1

    def _schedule(self, due: float) -> None:
        self._due = due
        self._handle = self.loop.call_at(due, self._tick)

    def _tick(self) -> None:
        now = self._last_tick = self.loop.time()
        self.lags.append(max(now - self._due, 0.0))
        self._schedule(now + PERIOD_SEC)

    def take(self) -> dict[str, Any]:
        """Return the lags (ms) since the last call: count, p50, p99, max."""
        lags, self.lags = sorted(self.lags), []
        stalls, self.stalls = self.stalls, Counter()
        gc_max_ms, self.gc_max = round(self.gc_max * 1000, 2), 0.0
        where = [
            {"ms": samples * SAMPLE_SEC * 1000, "stack": stack}
            for stack, samples in stalls.most_common(5)
        ]

        def at(fraction: float) -> float | None:
            if not lags:
                return None
            return round(lags[min(int(fraction * len(lags)), len(lags) - 1)] * 1000, 2)

        return {
            "count": len(lags),
            "p50_ms": at(0.5),
            "p99_ms": at(0.99),
            "max_ms": at(1.0),
            "stalls": where,
            "gc_max_ms": gc_max_ms,
            "gc": self.gc.take(),
        }


class LoopLagView(HomeAssistantView):
    """Hand the loop lag figures to the benchmark."""

    url = "/api/bench_probe"
    name = "api:bench_probe"

    def __init__(self, hass: HomeAssistant, probe: LoopProbe) -> None:
        """Serve `probe`'s figures."""
        self.hass = hass
        self.probe = probe
        self.trace = AllocationTrace()

    async def get(self, request: web.Request) -> web.Response:
        """Return the figures since the last call (`?heap=1`: and what fills the heap).

        `?trace=start` / `?trace=stop` start and stop tracing allocations instead.
        """
        if (trace := request.query.get("trace")) == "start":
            return self.json(self.trace.start())
        if trace == "stop":  # in a worker thread: the loop keeps most of its turns
            return self.json(await self.hass.async_add_executor_job(self.trace.stop))
        figures = self.probe.take()
        if request.query.get("heap"):
            objects = gc.get_objects()
            kinds = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in objects)
            figures["heap"] = {"objects": len(objects), "kinds": kinds.most_common(25)}
        return self.json(figures)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Start probing."""
    probe = LoopProbe(hass.loop)
    probe.start()
    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, probe.stop)
    hass.http.register_view(LoopLagView(hass, probe))
    return True
