"""The rhythm of a printer's frames: one every poll interval, never two at once.

Glue: `FramePoller` starts after a delay (the hub spreads its printers' first polls
over the interval, since the ML API serves one request at a time), then runs the
printer's frame job every interval. A tick while the previous frame is still on
its way is skipped: frames never pile up behind a slow camera or ML API.
"""

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_time_interval

type FrameJob = Callable[[], Coroutine[Any, Any, None]]
type Spawn = Callable[[Coroutine[Any, Any, None], str], None]


class FramePoller:
    """Runs a printer's frame job every interval while it polls."""

    def __init__(
        self, hass: HomeAssistant, interval_sec: float, job: FrameJob, spawn: Spawn
    ) -> None:
        """Run `job` every `interval_sec` as a task started by `spawn`."""
        self.hass = hass
        self.interval = timedelta(seconds=interval_sec)
        self._job = job
        self._spawn = spawn
        self._timer: CALLBACK_TYPE | None = None
        self._busy = False

    @property
    def polling(self) -> bool:
        """Return True from `start` until `stop`."""
        return self._timer is not None

    @callback
    def start(self, first_delay: float) -> None:
        """Poll, the first time after `first_delay` seconds (if not polling yet)."""
        if self._timer is not None:
            return

        @callback
        def begin(_now: Any) -> None:
            self._timer = async_track_time_interval(
                self.hass, self._tick, self.interval, cancel_on_shutdown=True
            )
            self._tick(None)

        if first_delay <= 0:
            begin(None)
            return
        self._timer = async_call_later(
            self.hass, first_delay, HassJob(begin, cancel_on_shutdown=True)
        )

    @callback
    def stop(self) -> None:
        """Stop polling (a frame on its way still arrives)."""
        if self._timer is not None:
            self._timer()
            self._timer = None

    @callback
    def _tick(self, _now: Any) -> None:
        if self._busy:
            return  # the previous frame is still on its way: skip, never pile up
        self._busy = True
        self._spawn(self._async_run(), "frame")

    async def _async_run(self) -> None:
        try:
            await self._job()
        finally:
            self._busy = False
