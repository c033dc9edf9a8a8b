"""Windows that follow the sun, with Home Assistant's sun helpers, the clock moved by days.

Across both daylight-saving changes in Berlin and in Auckland, and across a week at
Tromsø, where the sun does not rise in the polar night. The expected times come from
astral itself, asked for the LOCAL day (the integration asks Home Assistant, which
takes a UTC date): the two ways must agree.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from astral import Observer, sun
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.recording.sun import sun_times_of

from .conftest import HOST, Bees, MakeBees, local, sensor_subentry

BERLIN = ("Europe/Berlin", 52.52, 13.405)
AUCKLAND = ("Pacific/Auckland", -36.85, 174.76)
TROMSO = ("Europe/Oslo", 69.65, 18.96)
type Place = tuple[str, float, float]


async def live_in(hass: HomeAssistant, place: Place) -> None:
    zone, latitude, longitude = place
    await hass.config.async_set_time_zone(zone)
    hass.config.latitude, hass.config.longitude, hass.config.elevation = latitude, longitude, 0


def sun_at(place: Place, event: str, day: date) -> datetime | None:
    """The event on the local `day`, straight from astral (None: not on that day)."""
    zone, latitude, longitude = place
    try:
        found: datetime = getattr(sun, event)(Observer(latitude, longitude, 0), day, ZoneInfo(zone))
    except ValueError:
        return None
    return found if found.date() == day else None


def clock(instant: datetime) -> time:
    """The wall-clock time of `instant` in its zone, to the second (fold kept)."""
    return instant.time().replace(microsecond=0)


def window_slots(place: Place, day: date, start: time, end: time, interval: int) -> list[str]:
    """The rule, written out: local start and end on that day's clock, real seconds."""
    zone = ZoneInfo(place[0])
    first = datetime.combine(day, start, tzinfo=zone).timestamp()
    end_day = day + timedelta(days=1) if end < start else day
    last = datetime.combine(end_day, end, tzinfo=zone).timestamp()
    count = int((last - first) // interval) + 1
    return [datetime.fromtimestamp(first + k * interval, zone).isoformat() for k in range(count)]


def started(bees: Bees, name: str) -> list[str]:
    return [data["slot"] for kind, data in bees.events[name] if kind == "started"]


def rows(bees: Bees, name: str) -> dict[str, list[str]]:
    return {
        path.parent.name: [row.split(",")[0] for row in path.read_text().splitlines()]
        for path in sorted((bees.folder / name).glob(f"*/{HOST}@*.csv"))
    }


@pytest.mark.parametrize(
    ("first_day", "hour_before", "hour_after"),
    [
        (date(2026, 3, 28), 5, 6),  # clocks go forward on Sunday 29 March
        (date(2026, 10, 24), 7, 6),  # and back on Sunday 25 October
    ],
)
async def test_a_sunrise_window_in_berlin_across_daylight_saving(
    hass: HomeAssistant, make_bees: MakeBees, first_day: date, hour_before: int, hour_after: int
) -> None:
    await live_in(hass, BERLIN)
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(
        sensor_subentry(
            "hive",
            "samples",
            entities=["sensor.t"],
            capture_window_start="sunrise-00:30",
            capture_window_end="sunrise+00:30",
            capture_interval_seconds=1800,
        ),
        at=f"{first_day - timedelta(days=1)} 12:00:00",
    )
    days = [first_day + timedelta(days=k) for k in range(3)]
    await bees.until(f"{days[-1]} 12:00:00", step=timedelta(minutes=30))
    expected = {}
    for day in days:
        rise = sun_at(BERLIN, "sunrise", day)
        assert rise is not None
        half = timedelta(minutes=30)
        expected[day.isoformat()] = [
            clock(at).strftime("%H-%M-%S") for at in (rise - half, rise, rise + half)
        ]
    assert rows(bees, "hive") == expected
    # The window follows the sun, not the clock: on the wall clock it jumps by an
    # hour with the change, in real time it moves by a few minutes.
    assert int(expected[days[0].isoformat()][0][:2]) == hour_before
    assert int(expected[days[1].isoformat()][0][:2]) == hour_after
    slots = [datetime.fromisoformat(slot) for slot in started(bees, "hive")]
    assert abs(slots[3] - slots[0] - timedelta(days=1)) < timedelta(minutes=5)


@pytest.mark.parametrize(
    ("first_day", "change_day", "twice", "skipped"),
    [
        # Daylight saving ends on Sunday 5 April: 02:00-03:00 happens twice.
        (date(2026, 4, 3), date(2026, 4, 5), True, False),
        # It starts on Sunday 27 September: 02:00-03:00 does not happen.
        (date(2026, 9, 25), date(2026, 9, 27), False, True),
    ],
)
async def test_a_night_window_in_auckland_across_daylight_saving(
    hass: HomeAssistant,
    make_bees: MakeBees,
    first_day: date,
    change_day: date,
    twice: bool,
    skipped: bool,
) -> None:
    await live_in(hass, AUCKLAND)
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(
        sensor_subentry(
            "night",
            "samples",
            entities=["sensor.t"],
            capture_window_start="sunset-01:00",
            capture_window_end="sunrise+01:00",  # earlier: across midnight, every day
            capture_interval_seconds=3600,
        ),
        at=f"{first_day} 12:00:00",
    )
    await bees.until(f"{first_day + timedelta(days=3)} 12:00:00", step=timedelta(minutes=30))
    expected: list[str] = []
    for day in (first_day + timedelta(days=k) for k in range(3)):
        rise, set_ = sun_at(AUCKLAND, "sunrise", day), sun_at(AUCKLAND, "sunset", day)
        assert rise is not None
        assert set_ is not None
        # That day's sun times, on that day's clock; the end lands on the next day.
        start, end = clock(set_ - timedelta(hours=1)), clock(rise + timedelta(hours=1))
        expected += window_slots(AUCKLAND, day, start, end, 3600)
    assert started(bees, "night") == expected
    change_night = [slot[11:16] for slot in expected if slot.startswith(change_day.isoformat())]
    two_oclock = [hhmm for hhmm in change_night if hhmm.startswith("02:")]
    assert len(two_oclock) == (2 if twice else 0 if skipped else 1)


async def test_a_week_into_the_polar_night(hass: HomeAssistant, make_bees: MakeBees) -> None:
    await live_in(hass, TROMSO)
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(
        sensor_subentry(
            "hive",
            "samples",
            entities=["sensor.t"],
            capture_window_start="sunrise",
            capture_window_end="sunset",
            capture_interval_seconds=3600,
        ),
        at="2026-11-21 00:00:00",
    )
    await bees.until("2026-11-28 00:00:00", step=timedelta(hours=1))
    expected: dict[str, list[str]] = {}
    for day in (date(2026, 11, 21), date(2026, 11, 22)):
        rise, set_ = sun_at(TROMSO, "sunrise", day), sun_at(TROMSO, "sunset", day)
        assert rise is not None
        assert set_ is not None
        expected[day.isoformat()] = [
            datetime.fromisoformat(slot).strftime("%H-%M-%S")
            for slot in window_slots(TROMSO, day, clock(rise), clock(set_), 3600)
        ]
    assert sun_at(TROMSO, "sunrise", date(2026, 11, 23)) is None  # the polar night
    assert rows(bees, "hive") == expected  # no crash, no recording without the sun
    back = sun_at(TROMSO, "sunrise", date(2027, 1, 21))
    assert back is not None
    assert sun_at(TROMSO, "sunrise", date(2027, 1, 20)) is None
    next_slot = dt_util.as_utc(back.replace(microsecond=0))
    assert bees.sensor("hive").next_slot == next_slot
    assert bees.state("sensor", "hive", "next_recording").state == next_slot.isoformat()
    subentry_id = bees.sensor("hive").subentry_id
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"recording_no_sun_{subentry_id}")
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {
        "sensor": "hive",
        "event": "sunrise",
        "day": "2026-11-23",
        "next": back.strftime("%Y-%m-%d %H:%M"),
    }
    bees.sensor("hive").async_turn_off()  # not recording: nothing to skip
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"recording_no_sun_{subentry_id}") is None


async def test_weekdays_when_the_sun_comes_back(hass: HomeAssistant, make_bees: MakeBees) -> None:
    await live_in(hass, TROMSO)
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(
        sensor_subentry(
            "hive",
            "samples",
            entities=["sensor.t"],
            capture_window_start="sunrise",
            capture_window_end="sunset",
            capture_interval_seconds=3600,
            weekdays=["mon", "tue", "wed", "thu", "fri"],
        ),
        at="2026-01-17 12:00:00",  # a Saturday in the polar night
    )
    sensor = bees.sensor("hive")
    issues = ir.async_get(hass)
    issue_id = f"recording_no_sun_{sensor.subentry_id}"
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["day"] == "2026-01-19"  # the weekend is not the sun's
    first = sun_at(TROMSO, "sunrise", date(2026, 1, 21))  # a Wednesday
    assert first is not None
    assert sensor.next_slot == dt_util.as_utc(first.replace(microsecond=0))
    await bees.until("2026-01-21 12:00:00", step=timedelta(hours=1))
    assert issues.async_get_issue(DOMAIN, issue_id) is None  # the window is back
    await bees.until("2026-01-25 12:00:00", step=timedelta(hours=1))
    assert sorted(rows(bees, "hive")) == ["2026-01-21", "2026-01-22", "2026-01-23"]
    monday = sun_at(TROMSO, "sunrise", date(2026, 1, 26))
    assert monday is not None
    assert sensor.next_slot == dt_util.as_utc(monday.replace(microsecond=0))
    assert local("2026-01-24 12:00:00").weekday() == 5  # Saturday: no window, sun or not


async def test_the_sun_times_of_a_local_day(hass: HomeAssistant) -> None:
    await live_in(hass, TROMSO)
    times = sun_times_of(hass, ZoneInfo(TROMSO[0]))
    # Before the midnight sun, the sunset drifts past midnight: 16 May sets at 23:59,
    # the next one is at 00:19 on 18 May. 17 May (local) has none; its neighbours do.
    sets = {day: times(date(2026, 5, day)).sunset for day in (16, 17, 18)}
    assert sets[17] is None
    assert sets[16] == sun_at(TROMSO, "sunset", date(2026, 5, 16))
    late = sets[18]
    assert late is not None
    assert late.astimezone(ZoneInfo(TROMSO[0])).strftime("%m-%d %H:%M") == "05-18 00:19"
    assert times(date(2026, 5, 18)).sunrise == sun_at(TROMSO, "sunrise", date(2026, 5, 18))
    await live_in(hass, AUCKLAND)
    rise = sun_times_of(hass, ZoneInfo(AUCKLAND[0]))(date(2026, 1, 9)).sunrise
    assert rise is not None
    assert rise.date() == date(2026, 1, 8)  # 17:12 UTC the day before
    assert rise == sun_at(AUCKLAND, "sunrise", date(2026, 1, 9))
