"""The disk a hub's recordings go to: its free space, the floor and retention passes (glue).

One `RecordingsDisk` per hub, shared by the hub's recording sensors: they join it
when they start and leave it when they stop, and it runs while one of them runs.
It reads the hub's options (the recordings folder, `min_free_gb`) and name (the
files' host slug) from the hub's config entry: every change of those reloads the
hub, and with it the sensors and this disk.

- Free space is measured in a thread of its own (`run_in_thread`: a hung disk holds
  that thread, never the event loop or Home Assistant's executor) when the sensors
  start and after each recording. Slots read the last measurement: a disk check
  never makes a slot late.
- A retention pass (`retention.plan_retention`) runs every night at CLEANUP_AT and
  whenever a measurement finds less free space than the floor; it lists, deletes and
  measures in its thread, and logs what it freed.
- One task works measurements and passes one at a time: a request made while a job
  runs gets a job started after it (seeing the recording that prompted it).
- While the disk is below the floor it is measured again every REMEASURE_SEC, so
  that space freed by hand lets the next slot record.
- While the floor cannot be reached, a repair issue says so.
"""

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
import os
from pathlib import Path
import shutil
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_time_change
from homeassistant.util import dt as dt_util, slugify
from homeassistant.util.hass_dict import HassKey

from ..const import CONF_NAME, DOMAIN, LOGGER
from ..hub_options import HubOptions
from ..issues import async_set_issue
from ..listeners import Listeners
from ..storage.owner_store import run_in_thread
from ..validation import InvalidConfigError
from .retention import BYTES_PER_GB, Recording, folder_day, plan_retention, recording_in
from .settings import resolve_recordings_dir

DATA_DISKS: HassKey[dict[str, "RecordingsDisk"]] = HassKey(f"{DOMAIN}_recordings_disks")
CLEANUP_AT = (3, 30, 0)  # local hour, minute, second of the nightly pass
REMEASURE_SEC = 60


def gb_text(size: int) -> str:
    """Return a number of bytes as GB for people: `12.345`."""
    return f"{size / BYTES_PER_GB:.3f}"


@dataclass(frozen=True, slots=True)
class Cleanup:
    """What a retention pass did."""

    at: datetime
    deleted: int  # recordings deleted
    freed: int  # bytes they took
    folders: int  # empty date folders removed
    errors: int  # files that could not be deleted
    free: int  # bytes free afterwards
    reachable: bool  # False: deleting recordings cannot reach the floor


@dataclass(frozen=True, slots=True)
class _Pass:
    """What a pass in its thread needs to know."""

    root: Path
    host_slug: str
    keep_days: dict[str, int]  # per sensor name
    today: date
    floor: int


def free_space(path: Path) -> int:
    """Return the bytes free on the disk of `path` (or of its nearest existing parent)."""
    for folder in (path, *path.parents):
        try:
            return shutil.disk_usage(folder).free
        except FileNotFoundError:
            continue
    raise FileNotFoundError(path)


def _scan(job: _Pass) -> tuple[list[Recording], list[tuple[str, date]]]:
    """List the hub's recordings, and its sensors' date folders without a file."""
    recordings: list[Recording] = []
    empty: list[tuple[str, date]] = []
    for sensor in job.keep_days:
        try:
            folders = list(os.scandir(job.root / sensor))
        except OSError:  # no such folder yet, or not one we may read
            continue
        for folder in folders:
            day = folder_day(folder.name)
            if day is None or not folder.is_dir(follow_symlinks=False):
                continue
            try:
                files = list(os.scandir(folder.path))
            except OSError:
                continue
            if not files:
                empty.append((sensor, day))
            for file in files:
                if not file.is_file(follow_symlinks=False):
                    continue
                try:
                    stat = file.stat(follow_symlinks=False)
                except OSError:  # gone meanwhile (renamed, deleted): not a recording now
                    continue
                size = stat.st_blocks * 512 if hasattr(stat, "st_blocks") else stat.st_size
                if found := recording_in(sensor, day, file.name, size, host_slug=job.host_slug):
                    recordings.append(found)
    return recordings, empty


def run_retention(job: _Pass) -> Cleanup:
    """Run one pass: list, plan, delete, remove empty date folders, measure. Blocking."""
    recordings, empty = _scan(job)
    plan = plan_retention(
        recordings,
        keep_days=job.keep_days,
        today=job.today,
        free=free_space(job.root),
        floor=job.floor,
        empty_folders=empty,
    )
    deleted = freed = errors = folders = 0
    for recording in plan.deleted:
        try:
            (job.root / recording.sensor / recording.day.isoformat() / recording.name).unlink()
        except FileNotFoundError:
            continue  # gone meanwhile
        except OSError as err:
            errors += 1
            LOGGER.warning("Cannot delete recording %s: %s", recording.name, err)
            continue
        deleted += 1
        freed += recording.size
    for sensor, day in plan.folders:
        try:
            (job.root / sensor / day.isoformat()).rmdir()  # only when empty
        except OSError:
            continue
        folders += 1
    return Cleanup(
        dt_util.utcnow(), deleted, freed, folders, errors, free_space(job.root), plan.reachable
    )


@callback
def recordings_disk(hass: HomeAssistant, entry_id: str) -> "RecordingsDisk":
    """Return the recordings disk of the hub entry `entry_id`."""
    disks = hass.data.setdefault(DATA_DISKS, {})
    if entry_id not in disks:
        disks[entry_id] = RecordingsDisk(hass, entry_id)
    return disks[entry_id]


def disk_full_issue_id(entry_id: str) -> str:
    """Return the repair issue id of a hub whose disk floor cannot be reached."""
    return f"recordings_disk_full_{entry_id}"


class RecordingsDisk:
    """Free space and retention of one hub's recordings."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Start stopped, with nothing measured."""
        self.hass = hass
        self.entry_id = entry_id
        self.free: int | None = None  # bytes free at the last measurement
        self.last_cleanup: Cleanup | None = None
        self._sensors: dict[str, tuple[str, int]] = {}  # subentry id -> (name, keep_days)
        self._listeners: Listeners[()] = Listeners()
        self._nightly: CALLBACK_TYPE | None = None
        self._remeasure: CALLBACK_TYPE | None = None
        self._worker: asyncio.Task[None] | None = None  # works the queue while it has jobs
        self._wants_measure = False  # a measurement (or a pass, which measures) is due
        self._wants_cleanup = False  # a retention pass is due
        self._full = False  # the floor could not be reached at the last pass

    # --- the hub's settings ----------------------------------------------------------

    def _hub(self) -> tuple[str, HubOptions]:
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        if entry is None:
            return "", HubOptions()
        try:
            return entry.data[CONF_NAME], HubOptions.from_options(entry.options)
        except InvalidConfigError:  # the hub does not run then, and nor does this
            return entry.data[CONF_NAME], HubOptions()

    @property
    def root(self) -> Path:
        """Return the recordings folder."""
        hass = self.hass
        return Path(
            resolve_recordings_dir(
                self._hub()[1].recordings_dir,
                hass.config.config_dir,
                hass.config.media_dirs.get("local", hass.config.path("media")),
            )
        )

    @property
    def floor(self) -> int:
        """Return the bytes to keep free (0: no floor)."""
        return round(self._hub()[1].min_free_gb * BYTES_PER_GB)

    @property
    def below_floor(self) -> bool:
        """Return True when the last measurement found less free space than the floor."""
        return self.free is not None and self.free < self.floor

    @property
    def free_gb(self) -> float | None:
        """Return the free space in GB at the last measurement."""
        return None if self.free is None else round(self.free / BYTES_PER_GB, 3)

    def attributes(self) -> dict[str, Any]:
        """Return the floor and the last pass, for the disk's sensor."""
        last = self.last_cleanup
        return {
            "min_free_gb": self._hub()[1].min_free_gb,
            "last_cleanup": last.at if last else None,
            "last_cleanup_deleted": last.deleted if last else None,
            "last_cleanup_freed_gb": round(last.freed / BYTES_PER_GB, 3) if last else None,
        }

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` on every change; return the remover."""
        return self._listeners.add(listener)

    # --- the sensors that record to it -----------------------------------------------

    @callback
    def async_join(self, subentry_id: str, name: str, keep_days: int) -> None:
        """Follow a started sensor's recordings; the first one starts the disk."""
        self._sensors[subentry_id] = (name, keep_days)
        if self._nightly is None:
            hour, minute, second = CLEANUP_AT
            self._nightly = async_track_time_change(
                self.hass, self._async_nightly, hour=hour, minute=minute, second=second
            )
            self.async_request_measure()

    @callback
    def async_leave(self, subentry_id: str) -> None:
        """Stop following a sensor; the last one stops the disk."""
        self._sensors.pop(subentry_id, None)
        if self._sensors or self._nightly is None:
            return
        self._nightly()
        self._nightly = None
        self._follow_floor()  # stops measuring again
        async_set_issue(self.hass, disk_full_issue_id(self.entry_id), "recordings_disk_full", None)
        if self.hass.data.get(DATA_DISKS, {}).get(self.entry_id) is self:
            del self.hass.data[DATA_DISKS][self.entry_id]

    # --- measuring and cleaning ------------------------------------------------------

    @callback
    def async_request_measure(self) -> None:
        """Measure the free space in the background, after any job already running."""
        self._request(cleanup=False)

    @callback
    def async_request_cleanup(self) -> None:
        """Run a retention pass in the background, after any job already running."""
        self._request(cleanup=True)

    @callback
    def _request(self, *, cleanup: bool) -> None:
        if self._nightly is None:
            return  # stopped: the next start measures
        self._wants_measure = True
        self._wants_cleanup |= cleanup
        if self._worker is None or self._worker.done():
            self._worker = self.hass.async_create_background_task(
                self._async_work(), f"{DOMAIN} recordings disk"
            )

    async def _async_work(self) -> None:
        """Run the queued jobs one at a time until none is due (or the disk stops)."""
        try:
            while self._wants_measure and self._nightly is not None:
                cleanup = self._wants_cleanup
                self._wants_measure = self._wants_cleanup = False
                await (self._async_cleanup() if cleanup else self._async_measure())
        finally:
            self._worker = None

    async def _async_measure(self) -> None:
        try:
            self.free = await run_in_thread(self.hass, free_space, self.root)
        except OSError as err:
            LOGGER.warning("Cannot measure the free space of %s: %s", self.root, err)
            return
        if self._nightly is None:
            return  # stopped meanwhile: the next start measures again
        self._listeners.call()
        if self.below_floor:
            self.async_request_cleanup()
        else:
            self._report_floor(True)
        self._follow_floor()

    @callback
    def _follow_floor(self) -> None:
        """Measure again in REMEASURE_SEC while below the floor, and only then."""
        following = self.below_floor and self._nightly is not None
        if following and self._remeasure is None:
            self._remeasure = async_call_later(
                self.hass, REMEASURE_SEC, HassJob(self._async_remeasure, cancel_on_shutdown=True)
            )
        elif not following and self._remeasure is not None:
            self._remeasure()
            self._remeasure = None

    @callback
    def _async_remeasure(self, _now: datetime) -> None:
        self._remeasure = None
        self.async_request_measure()

    @callback
    def _async_nightly(self, _now: datetime) -> None:
        self.async_request_cleanup()

    async def _async_cleanup(self) -> None:
        hub_name = self._hub()[0]
        job = _Pass(
            root=self.root,
            host_slug=slugify(hub_name),
            keep_days=dict(self._sensors.values()),
            today=dt_util.now().date(),
            floor=self.floor,
        )
        try:
            cleanup = await run_in_thread(self.hass, run_retention, job)
        except OSError as err:
            LOGGER.warning("Cannot clean up the recordings in %s: %s", job.root, err)
            return
        if self._nightly is None:
            return
        self.free, self.last_cleanup = cleanup.free, cleanup
        if cleanup.deleted or cleanup.folders or cleanup.errors:
            LOGGER.info(
                "%s: deleted %d recordings (%s GB) and %d empty folders in %s; %s GB free",
                hub_name,
                cleanup.deleted,
                gb_text(cleanup.freed),
                cleanup.folders,
                job.root,
                gb_text(cleanup.free),
            )
        self._report_floor(cleanup.reachable and cleanup.free >= self.floor)
        self._listeners.call()
        self._follow_floor()

    @callback
    def _report_floor(self, reached: bool) -> None:
        """Raise the repair issue while the floor is out of reach; remove it once reached."""
        if reached and not self._full:
            return
        hub_name, options = self._hub()
        free = gb_text(self.free or 0)
        if not reached and not self._full:  # logged when it starts, not at every pass
            LOGGER.warning(
                "%s: %s GB free in %s, less than the %g GB to keep free; deleting "
                "recordings cannot free enough",
                hub_name,
                free,
                self.root,
                options.min_free_gb,
            )
        self._full = not reached
        placeholders = {
            "hub": hub_name,
            "path": str(self.root),
            "free_gb": free,
            "min_free_gb": f"{options.min_free_gb:g}",
        }
        async_set_issue(
            self.hass,
            disk_full_issue_id(self.entry_id),
            "recordings_disk_full",
            None if reached else placeholders,
        )
