"""Windows that follow the sun and run on some weekdays (pure): sun times are passed in."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
import random
from zoneinfo import ZoneInfo

import pytest

from custom_components.makerspace_hub.recording.schedule import (
    MAX_DAYS_AHEAD,
    DailyWindows,
    SlotSchedule,
    SunTimes,
    SunTimesOf,
    Upcoming,
    WindowTime,
)

BERLIN = ZoneInfo("Europe/Berlin")
PACIFIC = ZoneInfo("US/Pacific")
EIGHT, EIGHT_PM = WindowTime(clock=time(8)), WindowTime(clock=time(20))


def sunrise(offset: timedelta = timedelta()) -> WindowTime:
    return WindowTime(event="sunrise", offset=offset)


def sunset(offset: timedelta = timedelta()) -> WindowTime:
    return WindowTime(event="sunset", offset=offset)


def fixed_sun(rise: time, set_: time, zone: ZoneInfo) -> SunTimesOf:
    """The same wall-clock sun times every day (and counts the days asked for)."""
    asked: Counter[date] = Counter()

    def sun_of(day: date) -> SunTimes:
        asked[day] += 1
        return SunTimes(
            datetime.combine(day, rise, tzinfo=zone).astimezone(UTC),
            datetime.combine(day, set_, tzinfo=zone).astimezone(UTC),
        )

    sun_of.asked = asked  # type: ignore[attr-defined]
    return sun_of


def walk(
    windows: DailyWindows, start: datetime, end: datetime, zone: ZoneInfo, sun_of: SunTimesOf
) -> list[datetime]:
    """The slots in [start, end) as a running sensor meets them: each from the last."""
    slots: list[datetime] = []
    slot = windows.next_slot(start, zone, sun_of).slot
    while slot is not None and slot < end:
        slots.append(slot)
        slot = windows.next_slot(slot + timedelta(seconds=1), zone, sun_of).slot
    return slots


def clocks(slots: list[datetime], zone: ZoneInfo) -> list[str]:
    return [slot.astimezone(zone).strftime("%a %H:%M") for slot in slots]


def test_only_the_chosen_weekdays_have_a_window() -> None:
    windows = DailyWindows(EIGHT, WindowTime(clock=time(9)), 3600, frozenset({0, 2}))  # Mon, Wed
    start = datetime(2026, 6, 1, tzinfo=PACIFIC)  # a Monday
    slots = walk(
        windows, start, start + timedelta(days=7), PACIFIC, fixed_sun(time(6), time(21), PACIFIC)
    )
    assert clocks(slots, PACIFIC) == ["Mon 08:00", "Mon 09:00", "Wed 08:00", "Wed 09:00"]


def test_a_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    windows = DailyWindows(
        WindowTime(clock=time(22)),
        WindowTime(clock=time(2)),
        3600,
        frozenset({4}),  # Fridays
    )
    start = datetime(2026, 6, 1, tzinfo=PACIFIC)
    slots = walk(
        windows, start, start + timedelta(days=7), PACIFIC, fixed_sun(time(6), time(21), PACIFIC)
    )
    assert clocks(slots, PACIFIC) == [
        "Fri 22:00",
        "Fri 23:00",
        "Sat 00:00",
        "Sat 01:00",
        "Sat 02:00",
    ]


def test_sun_times_with_offsets_to_the_second() -> None:
    day = date(2026, 6, 1)
    rise = datetime(2026, 6, 1, 3, 13, 27, 654321, tzinfo=UTC)  # 05:13:27.65 in Berlin

    def sun_of(asked: date) -> SunTimes:
        return SunTimes(rise + (asked - day), None)

    windows = DailyWindows(sunrise(timedelta(minutes=-30)), sunrise(timedelta(hours=1)), 1800)
    upcoming = windows.next_slot(datetime(2026, 6, 1, tzinfo=BERLIN), BERLIN, sun_of)
    assert upcoming == Upcoming(datetime(2026, 6, 1, 4, 43, 27, tzinfo=BERLIN))
    plan = windows.plan(day, BERLIN, sun_of)
    assert plan == SlotSchedule(time(4, 43, 27), time(6, 13, 27), 1800)
    assert len(plan.slots_of_window(day, BERLIN)) == 4  # 04:43:27 ... 06:13:27


def test_crossing_midnight_is_decided_per_day_from_that_days_times() -> None:
    # The window opens 3 h after sunset and closes at 23:30. With the sun setting at
    # 20:00 it opens at 23:00, the same evening; a day with a sunset at 20:45 opens
    # at 23:45, after its end, so that window closes at 23:30 the next day.
    sets = {date(2026, 6, 1): time(20), date(2026, 6, 2): time(20, 45)}

    def sun_of(day: date) -> SunTimes:
        at = datetime.combine(day, sets.get(day, time(20)), tzinfo=PACIFIC)
        return SunTimes(None, at.astimezone(UTC))

    windows = DailyWindows(sunset(timedelta(hours=3)), WindowTime(clock=time(23, 30)), 1800)
    first = windows.plan(date(2026, 6, 1), PACIFIC, sun_of)
    second = windows.plan(date(2026, 6, 2), PACIFIC, sun_of)
    assert isinstance(first, SlotSchedule)
    assert isinstance(second, SlotSchedule)
    assert not first.crosses_midnight
    assert second.crosses_midnight
    assert len(first.slots_of_window(date(2026, 6, 1), PACIFIC)) == 2  # 23:00, 23:30
    assert len(second.slots_of_window(date(2026, 6, 2), PACIFIC)) == 48  # until 23:30 on 06-03


def test_a_day_without_its_sun_event_is_skipped_and_named() -> None:
    polar = {date(2026, 6, 2), date(2026, 6, 3)}
    normal = fixed_sun(time(5), time(21), PACIFIC)

    def sun_of(day: date) -> SunTimes:
        times = normal(day)
        return SunTimes(times.sunrise, None) if day in polar else times

    windows = DailyWindows(EIGHT, sunset(), 3600 * 6)  # 08:00, 14:00, 20:00
    after_last = datetime(2026, 6, 1, 20, 0, 1, tzinfo=PACIFIC)
    upcoming = windows.next_slot(after_last, PACIFIC, sun_of)
    assert upcoming == Upcoming(datetime(2026, 6, 4, 8, tzinfo=PACIFIC), date(2026, 6, 2), "sunset")
    # Once the window is back, nothing is skipped on the way to the next slot.
    back = windows.next_slot(datetime(2026, 6, 4, 8, 0, 1, tzinfo=PACIFIC), PACIFIC, sun_of)
    assert back == Upcoming(datetime(2026, 6, 4, 14, tzinfo=PACIFIC))


def test_no_sun_for_longer_than_it_looks_ahead() -> None:
    windows = DailyWindows(sunrise(), EIGHT_PM, 3600)
    upcoming = windows.next_slot(
        datetime(2026, 12, 1, tzinfo=PACIFIC), PACIFIC, lambda _day: SunTimes()
    )
    assert upcoming == Upcoming(None, date(2026, 12, 1), "sunrise")
    assert MAX_DAYS_AHEAD >= 366


def test_a_day_is_planned_once_when_its_first_slot_is_planned() -> None:
    sun_of = fixed_sun(time(5), time(21), PACIFIC)
    windows = DailyWindows(sunrise(), sunset(), 3600)
    start = datetime(2026, 6, 1, tzinfo=PACIFIC)
    slots = walk(windows, start, start + timedelta(days=3), PACIFIC, sun_of)
    assert len(slots) == 3 * 17  # 05:00 ... 21:00
    asked = sun_of.asked  # type: ignore[attr-defined]
    assert set(asked.values()) == {1}  # each day once, however many slots it has

    # Later sun times do not move a window already planned, only the days after it.
    windows = DailyWindows(sunrise(), sunset(), 3600)
    assert windows.next_slot(start, PACIFIC, sun_of).slot == datetime(2026, 6, 1, 5, tzinfo=PACIFIC)
    later = fixed_sun(time(6), time(20), PACIFIC)
    morning = datetime(2026, 6, 1, 5, 0, 1, tzinfo=PACIFIC)
    assert windows.next_slot(morning, PACIFIC, later).slot == datetime(
        2026, 6, 1, 6, tzinfo=PACIFIC
    )  # 06:00 on the grid of 05:00, not a new grid
    evening = datetime(2026, 6, 1, 21, 0, 1, tzinfo=PACIFIC)
    assert windows.next_slot(evening, PACIFIC, later).slot == datetime(
        2026, 6, 2, 6, tzinfo=PACIFIC
    )


def test_fall_back_keeps_a_sun_time_in_the_repeated_hour() -> None:
    # 25 Oct 2026 in Berlin: 02:00-03:00 happens twice. An event at 01:30 UTC is
    # 02:30 in the second one (CET); the window must start at that instant.
    event = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    windows = DailyWindows(sunrise(), WindowTime(clock=time(4)), 1800)
    plan = windows.plan(date(2026, 10, 25), BERLIN, lambda _day: SunTimes(event, None))
    assert isinstance(plan, SlotSchedule)
    slots = plan.slots_of_window(date(2026, 10, 25), BERLIN)
    assert slots[0] == event
    assert [slot.astimezone(BERLIN).strftime("%H:%M") for slot in slots] == [
        "02:30", "03:00", "03:30", "04:00",
    ]  # fmt: skip


@pytest.mark.parametrize("seed", range(100))
def test_random_sun_windows_match_a_window_per_day(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test cases
    zone = ZoneInfo(rng.choice(["Europe/Berlin", "Pacific/Auckland", "US/Pacific", "UTC"]))
    day0 = rng.choice([date(2026, 3, 28), date(2026, 4, 4), date(2026, 9, 26), date(2026, 6, 1)])

    def sun_of(day: date) -> SunTimes:
        dice = random.Random(seed * 10_000 + day.toordinal())  # noqa: S311 - the same per day
        rise, set_ = time(dice.randrange(4, 9)), time(dice.randrange(16, 22))
        return SunTimes(
            datetime.combine(day, rise, tzinfo=zone) + timedelta(seconds=dice.randrange(3600)),
            datetime.combine(day, set_, tzinfo=zone) + timedelta(seconds=dice.randrange(3600)),
        )

    def edge() -> WindowTime:
        if rng.random() < 0.3:
            return WindowTime(clock=time(rng.randrange(24), rng.randrange(60)))
        offset = timedelta(minutes=rng.randrange(-180, 180))
        return WindowTime(event=rng.choice(["sunrise", "sunset"]), offset=offset)

    start, end = edge(), edge()
    interval = rng.choice([600, 1800, 3600, 7200])
    weekdays = frozenset(rng.sample(range(7), rng.randrange(1, 8)))
    windows = DailyWindows(start, end, interval, weekdays)
    moment = datetime.combine(day0, time(rng.randrange(24)), tzinfo=zone)
    until = moment + timedelta(days=2)
    # Day by day; where the sun stretches a window past midnight into the next day's,
    # the earlier one runs to its end and the later one's slots meanwhile are dropped.
    expected: list[datetime] = []
    for day in (day0 + timedelta(days=k) for k in range(-1, 3)):
        if day.weekday() not in weekdays:
            continue
        first = start.clock_on(sun_of(day), zone)
        last = end.clock_on(sun_of(day), zone)
        assert first is not None
        assert last is not None
        for slot in SlotSchedule(first, last, interval).slots_of_window(day, zone):
            if moment <= slot < until and (not expected or slot > expected[-1]):
                expected.append(slot)
    assert walk(windows, moment, until, zone, sun_of) == expected
