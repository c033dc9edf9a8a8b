"""How often a board's readings reach the state machine, and so the recorder.

A board posts every second or so, and its uptime, check-in time, WiFi signal,
temperature and current change with nearly every post. Written each time, every one
of them would be a state row in the recorder's database per machine per second (and
a state object for Home Assistant's garbage collector to walk). So the machine's
reading sensors are disabled by default (`sensor.MACHINE_SENSORS`: an admin enables
the ones a dashboard needs), and an enabled one writes through a `ReadingGate`: at
most once a `READING_INTERVAL`, except for a change an admin must see at once
(availability, a reading that appears or vanishes, and each reading's own `urgent`
change: a reboot, the current crossing the machine's idle threshold). A change held
back is written at the end of the interval, so a board gone silent still shows its
last reading within a minute.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
import time
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .entity import Observable, SourceDescription, SourceEntity
from .machines.machine import Machine

# Once a minute: a dashboard's graph of signal, temperature or current keeps its
# shape, and a 100-machine shop writes at most 100 rows a minute per enabled reading.
READING_INTERVAL = timedelta(minutes=1)

type Reading = str | int | float | datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Throttle[T]:
    """How often a reading of a source `T` is written, and which change goes at once."""

    interval: timedelta = READING_INTERVAL
    # (source, reading shown, new reading) -> write now. Both readings are not None.
    urgent: Callable[[T, Any, Any], bool] = lambda _source, _shown, _new: False


def telemetry(key: str) -> Callable[[Machine], Reading]:
    """Return the function reading the board's last `key` reading (None: not sent)."""

    def value(machine: Machine) -> Reading:
        reading = machine.state.telemetry.get(key)
        return None if isinstance(reading, bool) else reading

    return value


def went_down(_machine: Machine, shown: Any, new: Any) -> bool:
    """Return True when the board's uptime went down: it rebooted."""
    return bool(new < shown)


def crossed_idle_current(machine: Machine, shown: Any, new: Any) -> bool:
    """Return True when the current crossed the machine's idle threshold (in use, idle).

    This is the line the idle logout draws (`session_limits.idle_since`): at or above
    it the machine is in use. A dashboard's "in use" follows it at once; the current's
    wander above or below it waits for the interval.
    """
    threshold = machine.settings.idle_current_amps
    return bool((shown >= threshold) != (new >= threshold))


class ReadingGate[T]:
    """Let one entity's changed reading through at once, or at most once an interval."""

    def __init__(self, hass: HomeAssistant, throttle: Throttle[T], write: CALLBACK_TYPE) -> None:
        """Gate the writes of one entity; `write` writes its state (if it changed)."""
        self.hass = hass
        self.throttle = throttle
        self.write = write
        self._shown: tuple[bool, Reading] | None = None  # (available, reading) written
        self._written_at = -math.inf  # time.monotonic() of the last write
        self._pending: CALLBACK_TYPE | None = None
        self._next: tuple[bool, Reading] = (True, None)  # what the pending write shows

    @callback
    def offer(self, source: T, available: bool, reading: Reading) -> None:
        """Write the entity's new reading now, or at the end of the interval."""
        now, shown = time.monotonic(), self._shown
        if self._pending is not None:
            self._next = (available, reading)  # the newest, also one back to `shown`
        if shown == (available, reading):
            return
        interval = self.throttle.interval.total_seconds()
        if (
            shown is None
            or shown[0] != available
            or (shown[1] is None) != (reading is None)
            or (reading is not None and self.throttle.urgent(source, shown[1], reading))
            or now - self._written_at >= interval
        ):
            self.cancel()
            self._write(available, reading)
        elif self._pending is None:
            self._next = (available, reading)
            self._pending = async_call_later(
                self.hass,
                self._written_at + interval - now,
                HassJob(self._due, cancel_on_shutdown=True),
            )

    @callback
    def _due(self, _now: datetime) -> None:
        self._pending = None
        self._write(*self._next)

    def _write(self, available: bool, reading: Reading) -> None:
        self._shown, self._written_at = (available, reading), time.monotonic()
        self.write()

    @callback
    def cancel(self) -> None:
        """Forget a write held back (the entity goes away, or writes now)."""
        if self._pending is not None:
            self._pending()
            self._pending = None


@dataclass(frozen=True, kw_only=True)
class ReadingDescription[T](SourceDescription[T]):
    """An entity's value computed from its source, written as often as `throttle` says."""

    value_fn: Callable[[T], Reading]
    throttle: Throttle[T] | None = None  # None: written whenever it changes


class ReadingEntity[T: Observable](SourceEntity[T]):
    """An entity whose value, if throttled, reaches the state machine through a gate."""

    entity_description: ReadingDescription[T]
    _gate: ReadingGate[T] | None = None

    async def async_added_to_hass(self) -> None:
        """Follow the source's changes, through a gate if the value is throttled."""
        if (throttle := self.entity_description.throttle) is not None:
            self._gate = ReadingGate(self.hass, throttle, super()._async_source_changed)
            self.async_on_remove(self._gate.cancel)
        await super().async_added_to_hass()

    @callback
    def _async_source_changed(self) -> None:
        if self._gate is None:
            super()._async_source_changed()
        else:
            source = self.source
            self._gate.offer(source, self.available, self.entity_description.value_fn(source))
