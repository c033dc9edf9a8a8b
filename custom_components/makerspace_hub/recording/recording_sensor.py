"""One scheduled recording sensor (a Beemon sensor) in Home Assistant.

Switched on, it records at every slot of its `schedule.SlotSchedule`, day after
day: a camera clip (`camera.record`), a row of entity values appended to a daily
CSV file, or a run of the configured actions. Switched off, every pending slot is
cancelled at once; a recording already running finishes and is kept. Past slots
are never caught up. File I/O runs in the executor.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
import math
from pathlib import Path
import time
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CALLBACK_TYPE, Context, HassJob, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.event import (
    async_call_later,
    async_track_point_in_utc_time,
    async_track_time_change,
)
from homeassistant.helpers.script import Script, async_validate_actions_config
from homeassistant.util import dt as dt_util, slugify
import voluptuous as vol

from ..const import DOMAIN, KIND_ACTION, KIND_CAMERA, KIND_SAMPLES, LOGGER
from ..listeners import EventSource
from ..storage.owner_store import OwnerStore
from .log import SlotLateness
from .schedule import SlotSchedule
from .settings import RecordingSensorSettings, resolve_recordings_dir


def append_row(path: Path, row: str) -> None:
    """Append one line to a daily CSV file, creating its folder. Blocking."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as csv:
        csv.write(row + "\n")


def sample_value(state: Any) -> str:
    """Return an entity state as a CSV value: a number, or `nan`."""
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return "nan"
    try:
        value = float(state.state)
    except ValueError:
        return "nan"
    return "nan" if not math.isfinite(value) else repr(value)


@dataclass(slots=True, kw_only=True)
class RecordingCounts:
    """What the sensor did (saved with its on/off state)."""

    on: bool
    day: date | None = None
    today: int = 0
    failed: int = 0
    last_error: str | None = None
    last_recording: str | None = None
    last_recording_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the state to save."""
        return {
            "on": self.on,
            "day": self.day.isoformat() if self.day else None,
            "today": self.today,
            "failed": self.failed,
            "last_error": self.last_error,
            "last_recording": self.last_recording,
            "last_recording_at": self.last_recording_at.isoformat()
            if self.last_recording_at
            else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RecordingCounts":
        """Read a saved state; raise ValueError when it is unusable."""
        if not isinstance(data.get("on"), bool):
            raise ValueError("on must be true or false")
        for key in ("today", "failed"):
            if isinstance(data.get(key, 0), bool) or not isinstance(data.get(key, 0), int):
                raise ValueError(f"{key} must be a count")
        day, at = data.get("day"), data.get("last_recording_at")
        return cls(
            on=data["on"],
            day=date.fromisoformat(day) if day else None,
            today=data.get("today", 0),
            failed=data.get("failed", 0),
            last_error=data.get("last_error"),
            last_recording=data.get("last_recording"),
            last_recording_at=datetime.fromisoformat(at) if at else None,
        )


class RecordingSensor(EventSource[str, dict[str, Any]]):
    """A sensor that records on a schedule while it is switched on."""

    def __init__(
        self,
        hass: HomeAssistant,
        subentry_id: str,
        settings: RecordingSensorSettings,
        store: OwnerStore,
        *,
        hub_name: str,
        recordings_dir: str,
    ) -> None:
        """Take the saved switch state (or `auto_start`) from `store`.

        Recordings go under `recordings_dir` (the hub's option, as stored), in files
        named after `hub_name`.
        """
        super().__init__()
        self.hass = hass
        self.hub_name = hub_name
        self.recordings_dir = recordings_dir
        self.subentry_id = subentry_id
        self.settings = settings
        self.store = store
        self.schedule = SlotSchedule(
            settings.capture_window_start,
            settings.capture_window_end,
            settings.capture_interval_seconds,
        )
        self.counts = RecordingCounts(on=settings.auto_start)
        self.next_slot: datetime | None = None
        self.recording_until: datetime | None = None
        self.lateness = SlotLateness()
        self._pending: CALLBACK_TYPE | None = None
        self._recording_timer: CALLBACK_TYPE | None = None
        self._failing = False
        self._stopped = False
        self._stops: list[CALLBACK_TYPE] = []
        self._script: Script | None = None

    # --- life cycle ------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the saved state; a new sensor starts as `auto_start` says."""
        data = self.store.data
        if data:
            try:
                self.counts = RecordingCounts.from_dict(data)
            except (TypeError, ValueError) as err:
                await self.store.async_set_aside(str(err))
        if self.settings.kind == KIND_ACTION:
            try:
                sequence = await async_validate_actions_config(
                    self.hass, cv.SCRIPT_SCHEMA(list(self.settings.action))
                )
            except (vol.Invalid, HomeAssistantError) as err:
                # Validated when configured; an integration it uses may be gone now.
                self.counts.last_error = f"the actions are not valid: {err}"
                LOGGER.error("%s: %s", self.name, self.counts.last_error)
                return
            self._script = Script(
                self.hass, sequence, f"{self.hub_name} {self.settings.name}", DOMAIN
            )

    @callback
    def async_start(self) -> None:
        """Follow the schedule (when switched on); refresh the counts at midnight."""
        self._stops.append(
            async_track_time_change(self.hass, self._new_day, hour=0, minute=0, second=0)
        )
        if self.counts.on:
            self._schedule(dt_util.utcnow())
        self._save()
        self._notify()

    @callback
    def async_stop(self) -> None:
        """Cancel the pending slot and the timers.

        A recording already running goes on and its file is kept, but it is no
        longer counted: the sensor that replaces this one (on a reload) owns the
        saved state now.
        """
        self._stopped = True
        self._cancel()
        if self._recording_timer is not None:
            self._recording_timer()
            self._recording_timer = None
        while self._stops:
            self._stops.pop()()

    # --- what entities read ----------------------------------------------------------

    @property
    def name(self) -> str:
        """Return the sensor's name (also its folder)."""
        return self.settings.name

    @property
    def recordings_today(self) -> int:
        """Return how many recordings started today."""
        return self.counts.today if self.counts.day == dt_util.now().date() else 0

    @property
    def recording_now(self) -> bool:
        """Return True while a recording runs."""
        return self.recording_until is not None and dt_util.utcnow() < self.recording_until

    def lateness_stats(self) -> dict[str, float | int | None]:
        """Return the slot start lateness over the last day: count, max, p99 (s)."""
        return self.lateness.stats(time.time())

    # --- switch ----------------------------------------------------------------------

    @callback
    def async_turn_on(self) -> None:
        """Start: slots of the current window from now on (past ones are dropped)."""
        if self.counts.on:
            return
        self.counts.on = True
        self._schedule(dt_util.utcnow())
        self._save()
        self._notify()

    @callback
    def async_turn_off(self) -> None:
        """Stop: every pending slot is cancelled at once."""
        if not self.counts.on:
            return
        self.counts.on = False
        self._cancel()
        self._save()
        self._notify()

    # --- the schedule ----------------------------------------------------------------

    @callback
    def _schedule(self, after: datetime) -> None:
        self._cancel()
        self.next_slot = self.schedule.next_slot(after, dt_util.get_default_time_zone())
        self._pending = async_track_point_in_utc_time(self.hass, self._on_slot, self.next_slot)

    @callback
    def _cancel(self) -> None:
        if self._pending is not None:
            self._pending()
            self._pending = None
        self.next_slot = None

    @callback
    def _on_slot(self, now: datetime) -> None:
        slot = self.next_slot
        self._pending = None
        if slot is None or not self.counts.on:
            return
        started = dt_util.utcnow()
        self.lateness.add(time.time(), (started - slot).total_seconds())
        # The next slot is computed from this one: the schedule runs day after day.
        self._schedule(slot + timedelta(seconds=1))
        self.hass.async_create_background_task(
            self._async_record(slot), f"{DOMAIN} {self.name} recording"
        )
        self._notify()

    @callback
    def _new_day(self, _now: datetime) -> None:
        self._notify()

    @callback
    def _recording_over(self, _now: datetime) -> None:
        self._recording_timer = None
        self._notify()

    # --- recording -------------------------------------------------------------------

    def _paths(self, slot: datetime) -> tuple[Path, str, str]:
        local = dt_util.as_local(slot)
        day, clock = local.strftime("%Y-%m-%d"), local.strftime("%H-%M-%S")
        hass = self.hass
        folder = Path(
            resolve_recordings_dir(
                self.recordings_dir,
                hass.config.config_dir,
                hass.config.media_dirs.get("local", hass.config.path("media")),
            ),
            self.name,
            day,
        )
        return folder, f"{slugify(self.hub_name)}@{day}", clock

    async def _async_record(self, slot: datetime) -> None:
        folder, stem, clock = self._paths(slot)
        kind = self.settings.kind
        if kind == KIND_SAMPLES:
            path = folder / f"{stem}.csv"
        elif kind == KIND_CAMERA:
            path = folder / f"{stem}@{clock}.mp4"
        else:
            path = folder / f"{stem}@{clock}"
        duration = self.settings.capture_duration_seconds
        self._started(slot, path, duration if kind != KIND_SAMPLES else 0)
        try:
            if kind == KIND_SAMPLES:
                values = [sample_value(self.hass.states.get(e)) for e in self.settings.entities]
                await self.hass.async_add_executor_job(append_row, path, ",".join([clock, *values]))
            elif kind == KIND_CAMERA:
                await self.hass.async_add_executor_job(folder.mkdir, 0o777, True, True)
                await self.hass.services.async_call(
                    "camera",
                    "record",
                    {
                        ATTR_ENTITY_ID: self.settings.camera_entity,
                        "filename": str(path),
                        "duration": duration,
                    },
                    blocking=True,
                )
            else:
                if self._script is None:
                    raise HomeAssistantError(self.counts.last_error or "no actions")
                if self._script.is_running:
                    raise HomeAssistantError("the actions of the previous slot still run")
                await self.hass.async_add_executor_job(folder.mkdir, 0o777, True, True)
                await self._script.async_run(
                    {
                        "sensor": self.name,
                        "slot": dt_util.as_local(slot).isoformat(),
                        "duration": duration,
                        "filename": str(path),
                    },
                    Context(),
                )
        except (HomeAssistantError, OSError, ValueError) as err:
            self._failed(slot, path, err)
            return
        self._finished(slot, path)

    @callback
    def _started(self, slot: datetime, path: Path, duration: int) -> None:
        today = dt_util.now().date()
        if self.counts.day != today:
            self.counts.day, self.counts.today = today, 0
        self.counts.today += 1
        self.counts.last_recording, self.counts.last_recording_at = path.name, slot
        self.recording_until = None
        if self._recording_timer is not None:
            self._recording_timer()
            self._recording_timer = None
        if duration:
            self.recording_until = until = slot + timedelta(seconds=duration)
            # "Recording now" turns off when the clip should be over.
            self._recording_timer = async_call_later(
                self.hass,
                (until - dt_util.utcnow()).total_seconds(),
                HassJob(self._recording_over, cancel_on_shutdown=True),
            )
        self._fire("started", slot, path)
        self._save()
        self._notify()

    @callback
    def _finished(self, slot: datetime, path: Path) -> None:
        if self._failing:
            LOGGER.info("%s: recordings work again", self.name)
            self._failing = False
        self._fire("finished", slot, path)
        self._notify()

    @callback
    def _failed(self, slot: datetime, path: Path, err: Exception) -> None:
        message = str(err) or type(err).__name__
        if not self._failing:  # logged when failures start, not at every slot
            LOGGER.warning("%s: recording %s failed: %s", self.name, path.name, message)
            self._failing = True
        self.counts.failed += 1
        self.counts.last_error = message
        self.recording_until = None
        self._fire("failed", slot, path, error=message)
        self._save()
        self._notify()

    # --- plumbing --------------------------------------------------------------------

    @callback
    def _fire(self, event: str, slot: datetime, path: Path, **extra: Any) -> None:
        self._emit(event, {"slot": dt_util.as_local(slot).isoformat(), "file": str(path), **extra})

    @callback
    def _save(self) -> None:
        if self._stopped:
            return
        self.store.save(self.counts.as_dict())
