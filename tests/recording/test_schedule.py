"""Beemon's slot rule: ordinary days, daylight saving, midnight, random schedules."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
import random
from zoneinfo import ZoneInfo

import pytest

from custom_components.makerspace_hub.recording.schedule import SlotSchedule

PACIFIC = ZoneInfo("US/Pacific")
type Clock = tuple[int, int, int, int, int, int]  # year, month, day, hour, minute, second


def local(slots: list[datetime]) -> list[str]:
    return [slot.astimezone(PACIFIC).strftime("%H:%M") for slot in slots]


def test_beemons_default_day_has_145_slots() -> None:
    schedule = SlotSchedule(time(8), time(20), 300)
    slots = schedule.slots_of_window(date(2026, 6, 1), PACIFIC)
    assert len(slots) == 145
    assert local(slots)[:3] == ["08:00", "08:05", "08:10"]
    assert local(slots)[-1] == "20:00"  # the end is inclusive


def test_an_interval_that_does_not_divide_the_window() -> None:
    slots = SlotSchedule(time(8), time(9), 25 * 60).slots_of_window(date(2026, 6, 1), PACIFIC)
    assert local(slots) == ["08:00", "08:25", "08:50"]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 8), 37),  # spring forward: 00:00-04:00 lasts 3 hours
        (date(2026, 11, 1), 61),  # fall back: it lasts 5 hours
        (date(2026, 6, 1), 49),
    ],
)
def test_daylight_saving_days(day: date, expected: int) -> None:
    slots = SlotSchedule(time(0), time(4), 300).slots_of_window(day, PACIFIC)
    assert len(slots) == expected
    assert all(b - a == timedelta(minutes=5) for a, b in pairwise(slots))


def test_fall_back_repeats_an_hour_of_wall_clock_times() -> None:
    slots = SlotSchedule(time(0), time(4), 1800).slots_of_window(date(2026, 11, 1), PACIFIC)
    assert local(slots) == [
        "00:00", "00:30", "01:00", "01:30", "01:00", "01:30", "02:00", "02:30", "03:00",
        "03:30", "04:00",
    ]  # fmt: skip


def test_a_window_across_midnight() -> None:
    schedule = SlotSchedule(time(22), time(2), 3600)
    assert schedule.crosses_midnight
    slots = schedule.slots_of_window(date(2026, 6, 1), PACIFIC)
    assert local(slots) == ["22:00", "23:00", "00:00", "01:00", "02:00"]
    assert slots[-1].astimezone(PACIFIC).date() == date(2026, 6, 2)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ((2026, 6, 1, 7, 0, 0), (2026, 6, 1, 8, 0, 0)),
        ((2026, 6, 1, 10, 7, 30), (2026, 6, 1, 10, 10, 0)),  # on the grid, not from now
        ((2026, 6, 1, 10, 10, 0), (2026, 6, 1, 10, 10, 0)),
        ((2026, 6, 1, 20, 0, 1), (2026, 6, 2, 8, 0, 0)),
    ],
)
def test_next_slot_drops_past_slots(now: Clock, expected: Clock) -> None:
    schedule = SlotSchedule(time(8), time(20), 300)
    found = schedule.next_slot(datetime(*now, tzinfo=PACIFIC), PACIFIC)
    assert found == datetime(*expected, tzinfo=PACIFIC)


def test_next_slot_in_yesterdays_window_after_midnight() -> None:
    schedule = SlotSchedule(time(22), time(2), 3600)
    now = datetime(2026, 6, 2, 0, 30, tzinfo=PACIFIC)
    assert schedule.next_slot(now, PACIFIC) == datetime(2026, 6, 2, 1, 0, tzinfo=PACIFIC)
    now = datetime(2026, 6, 2, 2, 30, tzinfo=PACIFIC)
    assert schedule.next_slot(now, PACIFIC) == datetime(2026, 6, 2, 22, 0, tzinfo=PACIFIC)


def walk(schedule: SlotSchedule, start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
    """The slots in [start, end) as a running sensor meets them: each from the last."""
    slots: list[datetime] = []
    slot = schedule.next_slot(start, zone)
    while slot < end:
        slots.append(slot)
        slot = schedule.next_slot(slot + timedelta(seconds=1), zone)
    return slots


def test_three_days_of_slots_one_after_another() -> None:
    schedule = SlotSchedule(time(22), time(2), 3600)
    start = datetime(2026, 6, 1, 12, tzinfo=PACIFIC)
    slots = walk(schedule, start, start + timedelta(days=3), PACIFIC)
    assert len(slots) == 15
    assert local(slots) == ["22:00", "23:00", "00:00", "01:00", "02:00"] * 3
    assert walk(schedule, start, start, PACIFIC) == []
    assert schedule.next_slot(start, PACIFIC) == datetime(2026, 6, 1, 22, tzinfo=PACIFIC)


def reference_slots(schedule: SlotSchedule, day: date, zone: ZoneInfo) -> list[datetime]:
    """The rule, written differently: a count of steps from the two end instants."""
    start = datetime(
        day.year,
        day.month,
        day.day,
        schedule.window_start.hour,
        schedule.window_start.minute,
        schedule.window_start.second,
        tzinfo=zone,
    )
    end_day = day + timedelta(days=1) if schedule.window_end < schedule.window_start else day
    end = datetime(
        end_day.year,
        end_day.month,
        end_day.day,
        schedule.window_end.hour,
        schedule.window_end.minute,
        schedule.window_end.second,
        tzinfo=zone,
    )
    first, last = start.timestamp(), end.timestamp()
    steps = int((last - first) // schedule.interval_seconds)
    return [
        datetime.fromtimestamp(first + k * schedule.interval_seconds, UTC)
        for k in range(steps + 1)
        if first + k * schedule.interval_seconds <= last
    ]  # fmt: skip


@pytest.mark.parametrize("seed", range(200))
def test_random_schedules_match_the_reference(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test cases
    zone = ZoneInfo(
        rng.choice(["US/Pacific", "Europe/Berlin", "Australia/Sydney", "UTC", "America/Sao_Paulo"])
    )
    schedule = SlotSchedule(
        time(rng.randrange(24), rng.randrange(60), rng.randrange(60)),
        time(rng.randrange(24), rng.randrange(60), rng.randrange(60)),
        rng.choice([13, 59, 60, 300, 601, 3600, 7200, 86400]),
    )
    day = date(2026, 1, 1) + timedelta(days=rng.randrange(730))
    assert schedule.slots_of_window(day, zone) == reference_slots(schedule, day, zone)
    moment = datetime.combine(day, time(rng.randrange(24), rng.randrange(60)), tzinfo=zone)
    after = schedule.next_slot(moment, zone)
    assert after >= moment
    candidates = [
        slot
        for offset in (-1, 0, 1, 2)
        for slot in reference_slots(schedule, day + timedelta(days=offset), zone)
        if slot >= moment
    ]
    assert after == min(candidates)


@pytest.mark.parametrize("seed", range(50))
def test_random_schedules_walked_slot_by_slot_match_the_reference(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test cases
    zone = ZoneInfo(rng.choice(["US/Pacific", "Europe/Berlin", "Australia/Sydney"]))
    schedule = SlotSchedule(
        time(rng.randrange(24), rng.randrange(60)),
        time(rng.randrange(24), rng.randrange(60)),
        rng.choice([601, 3600, 7200, 86400]),
    )
    # Around the daylight-saving changes of the three zones, and an ordinary day.
    day = rng.choice([date(2026, 3, 8), date(2026, 3, 29), date(2026, 4, 5), date(2026, 6, 1)])
    moment = datetime.combine(day, time(rng.randrange(24)), tzinfo=zone)
    end = moment + timedelta(days=2)
    expected = [
        slot
        for offset in (-1, 0, 1, 2)
        for slot in reference_slots(schedule, day + timedelta(days=offset), zone)
        if moment <= slot < end
    ]
    assert walk(schedule, moment, end, zone) == expected
