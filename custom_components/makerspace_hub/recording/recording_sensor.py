"""One scheduled recording sensor (a Beemon sensor) in Home Assistant: the glue.

Switched on, it records at every slot of its `schedule.SlotSchedule`, day after
day: a camera clip (`camera.record`), a row of entity values appended to a daily
CSV file, or a run of the configured actions. Switched off, every pending slot is
cancelled at once; a recording already running finishes and is kept. Past slots
are never caught up.

Owns the timers, the switch, the recording itself, its events and saving its
counts. The rules are pure and live beside it: when (`schedule`), what is counted,
which file a slot goes to and how late slots start (`log`). File I/O runs in the
executor. Windows that follow the sun get their sun times from `sun`; the hub's
`recordings_disk` keeps the disk from filling up: a slot that finds it below the
hub's floor fails instead of recording.
"""

from datetime import datetime, timedelta
from pathlib import Path
import time
from typing import Any, ClassVar

from homeassistant.const import ATTR_ENTITY_ID
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

from ..const import (
    DOMAIN,
    KIND_ACTION,
    KIND_CAMERA,
    KIND_SAMPLES,
    LOGGER,
    SUBENTRY_RECORDING_SENSOR,
)
from ..listeners import EventSource
from ..storage.owner_store import OwnerStore
from .log import RecordingCounts, RecordingFile, SlotLateness, recording_file, sample_row
from .recordings_disk import RecordingsDisk, gb_text
from .retention import BYTES_PER_GB
from .schedule import DailyWindows
from .settings import RecordingSensorSettings, resolve_recordings_dir
from .sun import async_report_sunless_days, sun_times_of


def append_row(path: Path, row: str) -> None:
    """Append one line to a daily CSV file, creating its folder. Blocking."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as csv:
        csv.write(row + "\n")


class RecordingSensor(EventSource[str, dict[str, Any]]):
    """A sensor that records on a schedule while it is switched on."""

    kind: ClassVar[str] = SUBENTRY_RECORDING_SENSOR  # the Owner protocol: its subentry type

    def __init__(
        self,
        hass: HomeAssistant,
        subentry_id: str,
        settings: RecordingSensorSettings,
        store: OwnerStore,
        *,
        hub_name: str,
        recordings_dir: str,
        disk: RecordingsDisk,
    ) -> None:
        """Take the saved switch state (or `auto_start`) from `store`.

        Recordings go under `recordings_dir` (the hub's option, as stored) on `disk`
        (the hub's, shared by its sensors), in files named after `hub_name`.
        """
        super().__init__()
        self.hass = hass
        self.hub_name = hub_name
        self.recordings_dir = recordings_dir
        self.subentry_id = subentry_id
        self.settings = settings
        self.store = store
        self.schedule = DailyWindows(
            settings.capture_window_start,
            settings.capture_window_end,
            settings.capture_interval_seconds,
            settings.weekday_numbers,
        )
        self.disk = disk
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
        self.disk.async_join(self.subentry_id, self.name, self.settings.keep_days)
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
        async_report_sunless_days(self.hass, self.subentry_id, self.name, None)
        self.disk.async_leave(self.subentry_id)
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
        return self.counts.recordings_today(dt_util.utcnow(), dt_util.get_default_time_zone())

    @property
    def recording_now(self) -> bool:
        """Return True while a recording runs."""
        return self.recording_until is not None and dt_util.utcnow() < self.recording_until

    def lateness_stats(self) -> dict[str, float | int | None]:
        """Return the slot start lateness over the last day: count, max, p99 (s)."""
        return self.lateness.stats(time.time())

    def diagnostics(self) -> dict[str, Any]:
        """Return what the sensor is doing, for a diagnostics download."""
        return {
            "name": self.name,
            "kind": self.settings.kind,
            "counts": self.counts.as_dict(),
            "next_slot": self.next_slot,
            "recording_now": self.recording_now,
            "slot_start_lateness_last_day": self.lateness_stats(),
        }

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
        async_report_sunless_days(self.hass, self.subentry_id, self.name, None)
        self._save()
        self._notify()

    # --- the schedule ----------------------------------------------------------------

    @callback
    def _schedule(self, after: datetime) -> None:
        self._cancel()
        zone = dt_util.get_default_time_zone()
        upcoming = self.schedule.next_slot(after, zone, sun_times_of(self.hass, zone))
        async_report_sunless_days(self.hass, self.subentry_id, self.name, upcoming)
        if (slot := upcoming.slot) is not None:  # None: no window within a year
            self.next_slot = slot
            self._pending = async_track_point_in_utc_time(self.hass, self._on_slot, slot)

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
    def _new_day(self, now: datetime) -> None:
        if self.counts.on and self._pending is None:
            self._schedule(now)  # no window within a year yesterday: look again
        self._notify()

    @callback
    def _recording_over(self, _now: datetime) -> None:
        self._recording_timer = None
        self._notify()

    # --- recording -------------------------------------------------------------------

    def _file(self, slot: datetime) -> RecordingFile:
        hass = self.hass
        root = resolve_recordings_dir(
            self.recordings_dir,
            hass.config.config_dir,
            hass.config.media_dirs.get("local", hass.config.path("media")),
        )
        return recording_file(
            slot,
            dt_util.get_default_time_zone(),
            root=Path(root),
            sensor=self.name,
            host_slug=slugify(self.hub_name),
            kind=self.settings.kind,
        )

    async def _async_record(self, slot: datetime) -> None:
        file = self._file(slot)
        if self.disk.below_floor:  # the last measurement: no disk access before a slot
            self.disk.async_request_cleanup()
            free, floor = gb_text(self.disk.free or 0), self.disk.floor / BYTES_PER_GB
            message = f"the recordings disk has {free} GB free, less than the {floor:g} GB"
            message += " to keep free"
            self._failed(slot, file.path, OSError(message))
            return
        kind = self.settings.kind
        duration = self.settings.capture_duration_seconds
        self._started(slot, file.path, duration if kind != KIND_SAMPLES else 0)
        try:
            if kind == KIND_SAMPLES:
                await self._async_sample(file)
            elif kind == KIND_CAMERA:
                await self._async_clip(file, duration)
            else:
                await self._async_run_actions(slot, file, duration)
        except (HomeAssistantError, OSError, ValueError) as err:
            self._failed(slot, file.path, err)
            return
        self._finished(slot, file.path)

    async def _async_sample(self, file: RecordingFile) -> None:
        states = [self.hass.states.get(entity) for entity in self.settings.entities]
        row = sample_row(file.clock, [state.state if state else None for state in states])
        await self.hass.async_add_executor_job(append_row, file.path, row)

    async def _async_clip(self, file: RecordingFile, duration: int) -> None:
        await self.hass.async_add_executor_job(file.folder.mkdir, 0o777, True, True)
        await self.hass.services.async_call(
            "camera",
            "record",
            {
                ATTR_ENTITY_ID: self.settings.camera_entity,
                "filename": str(file.path),
                "duration": duration,
            },
            blocking=True,
        )

    async def _async_run_actions(self, slot: datetime, file: RecordingFile, duration: int) -> None:
        if self._script is None:
            raise HomeAssistantError(self.counts.last_error or "no actions")
        if self._script.is_running:
            raise HomeAssistantError("the actions of the previous slot still run")
        await self.hass.async_add_executor_job(file.folder.mkdir, 0o777, True, True)
        await self._script.async_run(
            {
                "sensor": self.name,
                "slot": dt_util.as_local(slot).isoformat(),
                "duration": duration,
                "filename": str(file.path),
            },
            Context(),
        )

    @callback
    def _started(self, slot: datetime, path: Path, duration: int) -> None:
        self.counts.count_started(
            dt_util.utcnow(), dt_util.get_default_time_zone(), path.name, slot
        )
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
        self.disk.async_request_measure()
        self._fire("finished", slot, path)
        self._notify()

    @callback
    def _failed(self, slot: datetime, path: Path, err: Exception) -> None:
        message = str(err) or type(err).__name__
        if not self._failing:  # logged when failures start, not at every slot
            LOGGER.warning("%s: recording %s failed: %s", self.name, path.name, message)
            self._failing = True
        self.counts.count_failed(message)
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
