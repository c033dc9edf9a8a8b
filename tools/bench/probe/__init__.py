"""The benchmark's eye inside Home Assistant: how late the event loop runs callbacks.

`scripts/bench` copies this integration into the config of the Home Assistant it
starts. A callback due every 20 ms records how late it ran; `GET /api/bench_probe`
returns the lag figures since the previous call (and starts over).
"""

import asyncio
from typing import Any

from aiohttp import web
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.helpers.typing import ConfigType

DOMAIN = "bench_probe"
PERIOD_SEC = 0.02


class LoopProbe:
    """Measure the lag of a periodic callback on the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Probe `loop`."""
        self.loop = loop
        self.lags: list[float] = []
        self._due = 0.0
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start ticking."""
        self._schedule(self.loop.time() + PERIOD_SEC)

    def stop(self, *_: Any) -> None:
        """Stop ticking."""
        if self._handle is not None:
            self._handle.cancel()

    def _schedule(self, due: float) -> None:
        self._due = due
        self._handle = self.loop.call_at(due, self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        self.lags.append(max(now - self._due, 0.0))
        self._schedule(now + PERIOD_SEC)

    def take(self) -> dict[str, Any]:
        """Return the lags (ms) since the last call: count, p50, p99, max."""
        lags, self.lags = sorted(self.lags), []
        if not lags:
            return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}

        def at(fraction: float) -> float:
            return round(lags[min(int(fraction * len(lags)), len(lags) - 1)] * 1000, 2)

        return {"count": len(lags), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0)}


class LoopLagView(HomeAssistantView):
    """Hand the loop lag figures to the benchmark."""

    url = "/api/bench_probe"
    name = "api:bench_probe"

    def __init__(self, probe: LoopProbe) -> None:
        """Serve `probe`'s figures."""
        self.probe = probe

    async def get(self, request: web.Request) -> web.Response:
        """Return the figures since the last call."""
        return self.json(self.probe.take())


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Start probing."""
    probe = LoopProbe(hass.loop)
    probe.start()
    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, probe.stop)
    hass.http.register_view(LoopLagView(probe))
    return True
