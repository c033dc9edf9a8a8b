"""When a recording sensor records: Beemon's slot rule (recording-schedule spec).

Pure Python. A window belongs to the day it starts on: it opens at `window_start`
local time and closes at `window_end` local time, the next day when the end is
earlier than the start (a window across midnight). Its slots are
`window_start + k * interval` for k = 0, 1, ... while not after `window_end`: both
ends inclusive, anchored at the window start. Slot times are absolute instants:
the window's two ends are local wall-clock times in the given zone, and the
interval is counted in real seconds between them, so a daylight-saving day has an
hour less (or more) of slots.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo


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
