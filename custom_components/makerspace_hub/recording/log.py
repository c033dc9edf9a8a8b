"""A recording sensor's log (pure): what it counted, where its files go, how late it ran.

Owns:
- `RecordingCounts`: recordings today, rolled over at local midnight; failures and
  the last error; the last recording. Saved with the sensor's switch state.
- The files of a slot (`recording_file`): a folder per sensor and local day, names
  made of the hub's slug, the day and the slot's wall-clock time; and the CSV row a
  samples sensor appends (`sample_row`).
- `SlotLateness`: how late the slots started, over a bounded history. It keeps the
  last LATENESS_WINDOW and never more than LATENESS_MAX_SAMPLES entries, so a
  sensor that runs for months holds the same memory as on its first day.

No Home Assistant imports: instants, the time zone and the hub's slug come in;
values and names go out. Nothing here touches a file.
"""

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
import math
from pathlib import Path
from typing import Any, Self

from ..const import KIND_CAMERA, KIND_SAMPLES
from ..validation import read_bool, read_int, read_optional_text

LATENESS_WINDOW = timedelta(days=1)
# A day of 1-minute slots (1441) fits; with shorter intervals the stats describe the
# newest samples, still plenty for a p99. The cap also bounds a history whose
# timestamps lie ahead of a clock that was set back, which pruning by age cannot.
LATENESS_MAX_SAMPLES = 2000


@dataclass(slots=True, kw_only=True)
class RecordingCounts:
    """What the sensor did (saved with its on/off state).

    `today` counts the recordings started on the local day `day`; the count starts
    again from 0 on the first recording of a later day, and reads as 0 once `day`
    is over.
    """

    on: bool
    day: date | None = None
    today: int = 0
    failed: int = 0
    last_error: str | None = None
    last_recording: str | None = None
    last_recording_at: datetime | None = None

    def recordings_today(self, now: datetime, zone: tzinfo) -> int:
        """Return how many recordings started on the local day of `now`."""
        return self.today if self.day == now.astimezone(zone).date() else 0

    def count_started(self, now: datetime, zone: tzinfo, file_name: str, slot: datetime) -> None:
        """Count the recording of `slot`, started at `now`, into file `file_name`."""
        # The day it started counts, not the slot's: a slot that starts late just
        # after midnight belongs to the new day.
        today = now.astimezone(zone).date()
        if self.day != today:
            self.day, self.today = today, 0
        self.today += 1
        self.last_recording, self.last_recording_at = file_name, slot

    def count_failed(self, message: str) -> None:
        """Count a recording that failed with `message`."""
        self.failed += 1
        self.last_error = message

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
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Read a saved state; raise ValueError (or TypeError) when it is unusable."""
        if "on" not in data:
            raise ValueError("on must be true or false")
        day, at = read_optional_text(data, "day"), read_optional_text(data, "last_recording_at")
        return cls(
            on=read_bool(data, "on", False),
            day=date.fromisoformat(day) if day else None,
            today=read_int(data, "today", 0, 0),
            failed=read_int(data, "failed", 0, 0),
            last_error=read_optional_text(data, "last_error"),
            last_recording=read_optional_text(data, "last_recording"),
            last_recording_at=datetime.fromisoformat(at) if at else None,
        )


@dataclass(frozen=True, slots=True)
class RecordingFile:
    """Where the recording of one slot goes."""

    folder: Path
    path: Path
    # The slot's local wall-clock time, HH-MM-SS: in the file name (camera, action)
    # or as the first value of the CSV row (samples).
    clock: str


def recording_file(
    slot: datetime, zone: tzinfo, *, root: Path, sensor: str, host_slug: str, kind: str
) -> RecordingFile:
    """Return the file of `slot` of a sensor of `kind` under the recordings folder `root`.

    Folders and names use the local day and wall-clock time of the slot in `zone`;
    `host_slug` is the hub's name as a slug.
    """
    local = slot.astimezone(zone)
    day, clock = local.strftime("%Y-%m-%d"), local.strftime("%H-%M-%S")
    folder = root / sensor / day
    stem = f"{host_slug}@{day}"
    if kind == KIND_SAMPLES:
        name = f"{stem}.csv"  # one file a day, a row a slot
    elif kind == KIND_CAMERA:
        name = f"{stem}@{clock}.mp4"
    else:
        name = f"{stem}@{clock}"  # the actions choose their own extension
    return RecordingFile(folder, folder / name, clock)


def sample_value(state: str | None) -> str:
    """Return an entity's state (None: no such entity) as a CSV value: a number, or `nan`.

    `unavailable`, `unknown` and any other text are not numbers; neither are the
    infinities.
    """
    if state is None:
        return "nan"
    try:
        value = float(state)
    except ValueError:
        return "nan"
    return repr(value) if math.isfinite(value) else "nan"


def sample_row(clock: str, states: Iterable[str | None]) -> str:
    """Return the CSV row of one slot: its clock, then one value per entity."""
    return ",".join([clock, *(sample_value(state) for state in states)])


class SlotLateness:
    """Seconds each slot started after its time, over the last day."""

    def __init__(self) -> None:
        """Start empty."""
        # (wall-clock time it started, seconds late), oldest first
        self._samples: deque[tuple[float, float]] = deque(maxlen=LATENESS_MAX_SAMPLES)

    def __len__(self) -> int:
        """Return how many samples are kept."""
        return len(self._samples)

    def add(self, when: float, late: float) -> None:
        """Record a slot that started `late` s after its time, at wall-clock `when`."""
        # Pruned as it grows, not only when someone asks for the stats.
        self._prune(when)
        self._samples.append((when, max(late, 0.0)))

    def stats(self, now: float) -> dict[str, float | int | None]:
        """Return the lateness over the last day: count, max, p99 (s)."""
        self._prune(now)
        values = sorted(late for _, late in self._samples)
        if not values:
            return {"count": 0, "max": None, "p99": None}
        index = min(len(values) - 1, math.ceil(0.99 * len(values)) - 1)
        return {"count": len(values), "max": values[-1], "p99": values[index]}

    def _prune(self, now: float) -> None:
        cutoff = now - LATENESS_WINDOW.total_seconds()
        while self._samples and self._samples[0][0] < cutoff:
            self._samples.popleft()
