"""Which recordings a hub deletes, and why (pure): its sensors' `keep_days` and its disk floor.

A recording is a file a recording sensor of the hub wrote (see `log.recording_file`):
`<sensor>/<YYYY-MM-DD>/<host>@<YYYY-MM-DD>.csv` (a day of samples) or
`<sensor>/<YYYY-MM-DD>/<host>@<YYYY-MM-DD>@<HH-MM-SS>...` (a clip; an action adds
its own extension). `recording_in` tells such a name from anything else: a file
that is not a recording of this hub is never deleted, and neither is a folder that
is not a date folder of one of the hub's sensors.

`plan_retention` deletes, first, every recording older than its sensor's
`keep_days` (0: kept), then, while the disk would still have less free space than
the floor, the oldest remaining recordings of all the hub's sensors together. When
even deleting all of them would not reach the floor, none is deleted for it (the
disk is filled by something else; the recordings would go for nothing) and the plan
says the floor cannot be reached. Date folders of deleted recordings are removed
once empty, and so are date folders found empty, except today's (and later),
into which a recording may be about to go.

No Home Assistant imports and no file access: the glue lists the files and deletes.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
import re

BYTES_PER_GB = 1_000_000_000  # the sensor and the option count decimal gigabytes

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True, order=True)
class Recording:
    """One recording file; ordered oldest first."""

    day: date  # the local day of its slot (its folder)
    clock: str  # HH-MM-SS of its slot; "" for a day's samples file
    sensor: str
    name: str  # the file's name in `<sensor>/<day>/`
    size: int  # bytes it takes on the disk


def folder_day(name: str) -> date | None:
    """Return the day of a date folder's name (None: not a date folder)."""
    if not _DAY.fullmatch(name):
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def recording_in(
    sensor: str, day: date, name: str, size: int, *, host_slug: str
) -> Recording | None:
    """Return the recording a file of `<sensor>/<day>/` is (None: not one of this hub's)."""
    stem = f"{host_slug}@{day.isoformat()}"
    if name == f"{stem}.csv":
        return Recording(day, "", sensor, name, size)
    found = re.fullmatch(rf"{re.escape(stem)}@(\d{{2}}-\d{{2}}-\d{{2}})(?:\D.*)?", name, re.S)
    return Recording(day, found[1], sensor, name, size) if found else None


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    """What a retention pass deletes."""

    expired: tuple[Recording, ...]  # past their sensor's keep_days
    for_space: tuple[Recording, ...]  # the oldest others, to reach the floor
    folders: tuple[tuple[str, date], ...]  # (sensor, day) folders to remove when empty
    reachable: bool  # False: the floor cannot be reached by deleting recordings

    @property
    def deleted(self) -> tuple[Recording, ...]:
        """Return every recording to delete, oldest first."""
        return tuple(sorted((*self.expired, *self.for_space)))


def plan_retention(
    recordings: Iterable[Recording],
    *,
    keep_days: Mapping[str, int],
    today: date,
    free: int,
    floor: int,
    empty_folders: Iterable[tuple[str, date]] = (),
) -> RetentionPlan:
    """Plan a pass over the hub's `recordings` on local day `today`.

    `keep_days` per sensor name (missing or 0: keep all), `free` bytes free on the
    disk now, `floor` bytes to keep free (0: no floor), `empty_folders` the
    (sensor, day) folders found without any file.
    """
    expired: list[Recording] = []
    kept: list[Recording] = []
    for recording in sorted(recordings):
        days = keep_days.get(recording.sensor, 0)
        # keep_days 7 keeps today and the 6 days before it.
        if days > 0 and recording.day <= today - timedelta(days=days):
            expired.append(recording)
        else:
            kept.append(recording)
    free += sum(recording.size for recording in expired)
    for_space: list[Recording] = []
    # Today's samples file is still appended to: deleting it would lose the day's
    # rows so far. It never goes for space (today's finished clips may).
    spare = [r for r in kept if not (r.day >= today and r.clock == "")]
    reachable = free >= floor or free + sum(recording.size for recording in spare) >= floor
    if reachable:
        for recording in spare:
            if free >= floor:
                break
            for_space.append(recording)
            free += recording.size
    emptied = {(r.sensor, r.day) for r in (*expired, *for_space)}
    folders = sorted(
        {(sensor, day) for sensor, day in (*emptied, *empty_folders) if day < today},
        key=lambda folder: (folder[1], folder[0]),
    )
    return RetentionPlan(tuple(expired), tuple(for_space), tuple(folders), reachable)
