"""The benchmark's eye inside Home Assistant: how late the event loop runs callbacks.

`scripts/bench` copies this integration into the config of the Home Assistant it
starts. A callback due every 20 ms records how late it ran; `GET /api/bench_probe`
returns the lag figures since the previous call (and starts over). When the loop
stalls for more than 100 ms, a watchdog thread samples the loop thread's stack
every 10 ms, so the figures also say where it stalled; and the longest pause of
Python's garbage collector, which stops every thread, is reported too.
"""

import asyncio
from collections import Counter
import gc
import sys
import threading
import time
import traceback
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

    def start(self) -> None:
        """Start ticking, and watching from another thread."""
        self._schedule(self.loop.time() + PERIOD_SEC)
        self._watcher = threading.Thread(target=self._watch, name="bench_probe", daemon=True)
        self._watcher.start()
        gc.callbacks.append(self._gc)

    def stop(self, *_: Any) -> None:
        """Stop ticking and watching."""
        self._stopped.set()
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
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
        }


class LoopLagView(HomeAssistantView):
    """Hand the loop lag figures to the benchmark."""

    url = "/api/bench_probe"
    name = "api:bench_probe"

    def __init__(self, probe: LoopProbe) -> None:
        """Serve `probe`'s figures."""
        self.probe = probe

    async def get(self, request: web.Request) -> web.Response:
        """Return the figures since the last call (`?heap=1`: and what fills the heap)."""
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
    hass.http.register_view(LoopLagView(probe))
    return True
