"""What each phase of the benchmark measures of Home Assistant, and how it says so.

`Meter` takes the process's CPU time and the loop probe's figures (loop lag, the
longest garbage collection pause, where the loop stalled) over one phase; `say`
prints what happens, with the time.
"""

import textwrap
import time
from typing import Any

from tools.demo.homeassistant_api import HomeAssistantApi

from .stats import cpu_seconds


def say(text: str) -> None:
    """Print what happens, with the time."""
    print(f"{time.strftime('%H:%M:%S')}  {text}", flush=True)


class Meter:
    """CPU time of the Home Assistant process and its loop lag, over a phase."""

    def __init__(self, api: HomeAssistantApi, pid: int) -> None:
        """Measure the process `pid`, whose probe answers through `api`."""
        self.api = api
        self.pid = pid
        self.cpu = 0.0
        self.lag: dict[str, Any] = {}
        self._cpu = 0.0
        self._wall = 0.0

    async def start(self) -> None:
        """Start a phase."""
        await self.api.request("GET", "/api/bench_probe")  # drop what came before
        self._cpu = cpu_seconds(self.pid)
        self._wall = time.monotonic()

    async def stop(self) -> None:
        """End the phase: `cpu` is the share of one core used, `lag` the loop lag."""
        self.cpu = (cpu_seconds(self.pid) - self._cpu) / (time.monotonic() - self._wall)
        self.lag = await self.api.request("GET", "/api/bench_probe")
        for stall in self.lag.pop("stalls", []):
            stack = textwrap.indent(stall["stack"], "      ")
            say(f"  the event loop stalled {stall['ms']:.0f} ms in all, here:\n{stack}")
