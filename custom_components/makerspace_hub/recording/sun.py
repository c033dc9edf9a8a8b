"""The sun times a recording sensor's windows follow, and their repair issue (glue).

Home Assistant's sun helpers compute an event for a date taken as a UTC date (a
newer astral returns the event of that UTC day, an older one the event of the
solar day at the home location). A window belongs to its local start day, so
`sun_times_of` asks for the neighbouring dates too and keeps the event whose local
date is the day asked for: in Auckland, a sunrise at 06:12 local is 17:12 UTC the
day before.
"""

from datetime import date, datetime, timedelta, tzinfo

from homeassistant.const import SUN_EVENT_SUNRISE, SUN_EVENT_SUNSET
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.sun import get_astral_event_date
from homeassistant.util import dt as dt_util

from ..issues import async_set_issue
from .schedule import SunTimes, SunTimesOf, Upcoming

_NEIGHBOURS = (timedelta(0), timedelta(days=-1), timedelta(days=1))


def sun_times_of(hass: HomeAssistant, zone: tzinfo) -> SunTimesOf:
    """Return the sunrise and sunset of a local day in `zone`, at the home location."""

    def event_on(event: str, day: date) -> datetime | None:
        for shift in _NEIGHBOURS:
            instant = get_astral_event_date(hass, event, day + shift)
            if instant is not None and instant.astimezone(zone).date() == day:
                return instant
        return None  # polar day or night: not on this day

    def sun_times(day: date) -> SunTimes:
        return SunTimes(event_on(SUN_EVENT_SUNRISE, day), event_on(SUN_EVENT_SUNSET, day))

    return sun_times


def sun_issue_id(subentry_id: str) -> str:
    """Return the repair issue id of a sensor whose window misses days for the sun."""
    return f"recording_no_sun_{subentry_id}"


@callback
def async_report_sunless_days(
    hass: HomeAssistant, subentry_id: str, sensor: str, upcoming: Upcoming | None
) -> None:
    """Raise the issue while days are skipped for want of their sun event; else remove it."""
    if upcoming is None or upcoming.sunless_day is None:
        async_set_issue(hass, sun_issue_id(subentry_id), "recording_no_sun", None)
        return
    placeholders = {
        "sensor": sensor,
        "event": upcoming.missing_event or "",
        "day": upcoming.sunless_day.isoformat(),
        "next": dt_util.as_local(upcoming.slot).strftime("%Y-%m-%d %H:%M")
        if upcoming.slot
        else "-",
    }
    async_set_issue(
        hass,
        sun_issue_id(subentry_id),
        "recording_no_sun",
        placeholders,
        severity=ir.IssueSeverity.WARNING,
    )
