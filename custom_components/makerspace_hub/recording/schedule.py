"""When a recording sensor records: Beemon's slot rule (recording-schedule spec).

Pure Python. A window belongs to the day it starts on: it opens at `window_start`
local time and closes at `window_end` local time, the next day when the end is
earlier than the start (a window across midnight). Its slots are
`window_start + k * interval` for k = 0, 1, ... while not after `window_end`: both
ends inclusive, anchored at the window start. Slot times are absolute instants:
the window's two ends are local wall-clock times in the given zone, and the
interval is counted in real seconds between them, so a daylight-saving day has an
hour less (or more) of slots.

A window's start and end may also follow the sun (`WindowTime`: sunrise or sunset
plus an offset), and a window may run on some weekdays only (`DailyWindows`). Such a
window is fixed per day when the day is first planned: that local day's sun times
give its two wall-clock times, and from them the same rule as above (including
"crosses midnight", decided per day). A day without the sun event (polar day or
night) has no window. When the sun stretches a window across midnight past the start
of the next day's, the earlier window runs to its end and the later one goes on
after it (its slots meanwhile are dropped): one grid at a time. The sun times come
in (`SunTimes`); nothing here computes them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final

SUNRISE: Final = "sunrise"
SUNSET: Final = "sunset"
SUN_EVENTS: Final = (SUNRISE, SUNSET)
# In `date.weekday()` order: "mon" is 0.
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far `DailyWindows.next_slot` looks ahead: a year and a bit covers the longest
# polar night and any choice of weekdays.
MAX_DAYS_AHEAD: Final = 370


@dataclass(frozen=True, slots=True)
class SlotSchedule:
    """A daily window and the interval between recording starts."""

    window_start: time
    window_end: time
    interval_seconds: int

    @property
    def crosses_midnight(self) -> bool:
        """Return True when the window ends on the day after it starts."""
        return self.window_end < self.window_start

    def window(self, day: date, zone: tzinfo) -> tuple[datetime, datetime]:
        """Return the (start, end) instants, in UTC, of the window starting on `day`."""
        start = datetime.combine(day, self.window_start, tzinfo=zone)
        end_day = day + timedelta(days=1) if self.crosses_midnight else day
        end = datetime.combine(end_day, self.window_end, tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def slots_of_window(self, day: date, zone: tzinfo) -> list[datetime]:
        """Return every slot (UTC) of the window starting on `day`."""
        start, end = self.window(day, zone)
        step = timedelta(seconds=self.interval_seconds)
        slots = []
        slot = start
        while slot <= end:
            slots.append(slot)
            slot += step
        return slots

    def next_slot(self, after: datetime, zone: tzinfo) -> datetime:
        """Return the first slot at or after `after` (never one in the past).

        A running sensor asks for one slot at a time, the next from the one that just
        fired, so a cancelled or changed schedule leaves nothing queued behind it.
        """
        # The window of the day before may still be open (across midnight).
        day = after.astimezone(zone).date() - timedelta(days=1)
        while True:
            for slot in self.slots_of_window(day, zone):
                if slot >= after:
                    return slot
            day += timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SunTimes:
    """The sunrise and sunset (UTC instants) of one local day; None: not on that day."""

    sunrise: datetime | None = None
    sunset: datetime | None = None

    def of(self, event: str) -> datetime | None:
        """Return the instant of `event` (SUNRISE or SUNSET)."""
        return self.sunrise if event == SUNRISE else self.sunset


# The sun times of a local day (the glue asks Home Assistant's sun helpers).
type SunTimesOf = Callable[[date], SunTimes]


@dataclass(frozen=True, slots=True)
class WindowTime:
    """A window's start or end: a clock time, or a sun event plus an offset."""

    clock: time | None = None
    event: str | None = None  # SUNRISE or SUNSET when there is no clock time
    offset: timedelta = timedelta()

    @property
    def follows_the_sun(self) -> bool:
        """Return True for sunrise or sunset (plus an offset)."""
        return self.clock is None

    def clock_on(self, sun: SunTimes, zone: tzinfo) -> time | None:
        """Return the wall-clock time in `zone` on the day of `sun` (None: no such event).

        The offset is real time added to the event; whole seconds, like a clock time.
        """
        if self.clock is not None:
            return self.clock
        instant = sun.of(self.event or SUNRISE)
        if instant is None:
            return None
        # `time()` keeps `fold`: a time in the hour repeated at fall back stays the
        # second one when `SlotSchedule` combines it with the day again.
        return (instant + self.offset).astimezone(zone).time().replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class Upcoming:
    """The next slot, and the sun event that made days without a window on the way."""

    slot: datetime | None  # None: none within MAX_DAYS_AHEAD days
    sunless_day: date | None = None  # the first day skipped because the event did not occur
    missing_event: str | None = None


# A day's plan: its slots' rule, or why it has no window (a weekday off, the sun).
type DayPlan = SlotSchedule | str | None


@dataclass(slots=True)
class DailyWindows:
    """A daily window whose ends may follow the sun, on some weekdays (0 = Monday).

    Keeps each day's window from the moment it is first planned (the recording sensor
    plans one slot at a time) until the day is over.
    """

    start: WindowTime
    end: WindowTime
    interval_seconds: int
    weekdays: frozenset[int] = frozenset(range(7))
    _days: dict[date, DayPlan] = field(default_factory=dict, repr=False)

    def plan(self, day: date, zone: tzinfo, sun_of: SunTimesOf) -> DayPlan:
        """Return the slots' rule of the window starting on `day`.

        None on a weekday off; the missing event's name on a day without it.
        """
        if day not in self._days:
            self._days[day] = self._plan(day, zone, sun_of)
        return self._days[day]

    def _plan(self, day: date, zone: tzinfo, sun_of: SunTimesOf) -> DayPlan:
        if day.weekday() not in self.weekdays:
            return None
        sun = sun_of(day) if self.start.follows_the_sun or self.end.follows_the_sun else SunTimes()
        start, end = self.start.clock_on(sun, zone), self.end.clock_on(sun, zone)
        if start is None:
            return self.start.event or SUNRISE
        if end is None:
            return self.end.event or SUNRISE
        return SlotSchedule(start, end, self.interval_seconds)

    def next_slot(self, after: datetime, zone: tzinfo, sun_of: SunTimesOf) -> Upcoming:
        """Return the first slot at or after `after`, and the sunless days before it."""
        first = after.astimezone(zone).date() - timedelta(days=1)  # may still be open
        for day in list(self._days):
            if day < first:
                del self._days[day]  # over: a day is planned once, then forgotten
        sunless, missing = None, None
        for ahead in range(MAX_DAYS_AHEAD + 1):
            day = first + timedelta(days=ahead)
            plan = self.plan(day, zone, sun_of)
            if isinstance(plan, SlotSchedule):
                for slot in plan.slots_of_window(day, zone):
                    if slot >= after:
                        return Upcoming(slot, sunless, missing)
            elif plan is not None and sunless is None and ahead > 0:
                sunless, missing = day, plan  # yesterday's window is not news
        return Upcoming(None, sunless, missing)
