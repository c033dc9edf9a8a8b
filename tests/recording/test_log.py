"""The recording log without Home Assistant: counts, the day roll-over, files, lateness."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.makerspace_hub.recording.log import (
    LATENESS_MAX_SAMPLES,
    LATENESS_WINDOW,
    RecordingCounts,
    RecordingFile,
    SlotLateness,
    recording_file,
    sample_row,
    sample_value,
)

PACIFIC = ZoneInfo("US/Pacific")
ROOT = Path("/media/makerspace_hub")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- counts ---------------------------------------------------------------------------


def test_counts_round_trip() -> None:
    counts = RecordingCounts(on=True)
    assert counts.as_dict() == {
        "on": True,
        "day": None,
        "today": 0,
        "failed": 0,
        "last_error": None,
        "last_recording": None,
        "last_recording_at": None,
    }
    assert RecordingCounts.from_dict(counts.as_dict()) == counts
    slot = utc("2026-06-01 15:00:00")
    counts.count_started(slot, PACIFIC, "hub@2026-06-01@08-00-00.mp4", slot)
    counts.count_failed("camera gone")
    assert counts.as_dict() == {
        "on": True,
        "day": "2026-06-01",
        "today": 1,
        "failed": 1,
        "last_error": "camera gone",
        "last_recording": "hub@2026-06-01@08-00-00.mp4",
        "last_recording_at": "2026-06-01T15:00:00+00:00",
    }
    assert RecordingCounts.from_dict(counts.as_dict()) == counts


def test_counts_of_an_older_release_default_to_zero() -> None:
    assert RecordingCounts.from_dict({"on": False}) == RecordingCounts(on=False)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, ValueError),
        ({"on": "yes"}, ValueError),
        ({"on": True, "today": True}, ValueError),
        ({"on": True, "today": "3"}, ValueError),
        ({"on": True, "failed": 1.5}, ValueError),
        ({"on": True, "today": -1}, ValueError),
        ({"on": True, "failed": float("inf")}, ValueError),
        ({"on": True, "last_error": 7}, ValueError),
        ({"on": True, "day": "yesterday"}, ValueError),
        ({"on": True, "last_recording_at": "soon"}, ValueError),
        ({"on": True, "day": 20260601}, ValueError),
    ],
)
def test_unusable_counts_are_refused(data: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        RecordingCounts.from_dict(data)


def test_failures_keep_the_last_error() -> None:
    counts = RecordingCounts(on=True)
    counts.count_failed("first")
    counts.count_failed("second")
    assert (counts.failed, counts.last_error) == (2, "second")


# --- the day roll-over ----------------------------------------------------------------


def start(counts: RecordingCounts, now: str) -> None:
    counts.count_started(utc(now), PACIFIC, "file", utc(now))


def test_recordings_today_roll_over_at_local_midnight() -> None:
    counts = RecordingCounts(on=True)
    start(counts, "2026-06-01 15:00:00")  # 08:00 PDT
    start(counts, "2026-06-02 06:59:59")  # 23:59:59 PDT, still June 1st
    assert counts.recordings_today(utc("2026-06-02 06:59:59"), PACIFIC) == 2
    # At local midnight the day is over, before any recording of the new day.
    assert counts.recordings_today(utc("2026-06-02 07:00:00"), PACIFIC) == 0
    assert counts.day == date(2026, 6, 1)
    start(counts, "2026-06-02 07:00:00")
    assert (counts.day, counts.today) == (date(2026, 6, 2), 1)
    assert counts.recordings_today(utc("2026-06-02 07:00:00"), PACIFIC) == 1
    # Read the next day, or days later: nothing started today.
    assert counts.recordings_today(utc("2026-06-05 18:00:00"), PACIFIC) == 0


def test_a_slot_that_starts_after_midnight_counts_for_the_new_day() -> None:
    counts = RecordingCounts(on=True)
    start(counts, "2026-06-01 15:00:00")
    late = utc("2026-06-02 06:59:59")  # the 23:59:59 slot, started at 00:00:01
    counts.count_started(utc("2026-06-02 07:00:01"), PACIFIC, "file", late)
    assert (counts.day, counts.today, counts.last_recording_at) == (date(2026, 6, 2), 1, late)


@pytest.mark.parametrize(
    ("before", "after", "day"),
    [
        # Spring forward: March 8th lasts 23 hours; PDT from 02:00 on.
        ("2026-03-08 07:59:59", "2026-03-08 08:00:00", date(2026, 3, 8)),
        ("2026-03-09 06:59:59", "2026-03-09 07:00:00", date(2026, 3, 9)),
        # Fall back: November 1st lasts 25 hours; PST from 02:00 on.
        ("2026-11-01 06:59:59", "2026-11-01 07:00:00", date(2026, 11, 1)),
        ("2026-11-02 07:59:59", "2026-11-02 08:00:00", date(2026, 11, 2)),
    ],
)
def test_the_roll_over_follows_daylight_saving(before: str, after: str, day: date) -> None:
    counts = RecordingCounts(on=True)
    start(counts, before)
    assert counts.day == day - timedelta(days=1)
    assert counts.recordings_today(utc(before), PACIFIC) == 1
    assert counts.recordings_today(utc(after), PACIFIC) == 0
    start(counts, after)
    assert (counts.day, counts.today) == (day, 1)


def test_a_whole_daylight_saving_day_is_one_day() -> None:
    counts = RecordingCounts(on=True)
    # Every hour of the 25-hour November 1st, local 00:00 PDT to 23:00 PST.
    first = utc("2026-11-01 07:00:00")
    for hour in range(25):
        counts.count_started(first + timedelta(hours=hour), PACIFIC, "file", first)
    assert (counts.day, counts.today) == (date(2026, 11, 1), 25)


# --- files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("samples", "test_makerspace@2026-06-01.csv"),
        ("camera", "test_makerspace@2026-06-01@08-05-00.mp4"),
        ("action", "test_makerspace@2026-06-01@08-05-00"),
    ],
)
def test_file_names(kind: str, name: str) -> None:
    file = recording_file(
        utc("2026-06-01 15:05:00"),
        PACIFIC,
        root=ROOT,
        sensor="hive",
        host_slug="test_makerspace",
        kind=kind,
    )
    folder = ROOT / "hive" / "2026-06-01"
    assert file == RecordingFile(folder, folder / name, "08-05-00")


def camera_file(slot: str, zone: ZoneInfo = PACIFIC) -> Path:
    return recording_file(
        utc(slot), zone, root=ROOT, sensor="hive-video", host_slug="space", kind="camera"
    ).path


def test_files_go_to_the_local_day_of_the_slot() -> None:
    # 23:30 on June 1st in California is June 2nd in UTC and in Berlin.
    assert camera_file("2026-06-02 06:30:00") == (
        ROOT / "hive-video" / "2026-06-01" / "space@2026-06-01@23-30-00.mp4"
    )
    assert camera_file("2026-06-02 06:30:00", ZoneInfo("Europe/Berlin")) == (
        ROOT / "hive-video" / "2026-06-02" / "space@2026-06-02@08-30-00.mp4"
    )


def test_file_names_on_daylight_saving_days() -> None:
    # One hour after 01:00 PST is 03:00 PDT: no file is named 02-00-00 that night.
    assert camera_file("2026-03-08 09:00:00").name == "space@2026-03-08@01-00-00.mp4"
    assert camera_file("2026-03-08 10:00:00").name == "space@2026-03-08@03-00-00.mp4"
    # Fall back: the names follow the wall clock, PDT until 02:00, PST after.
    assert camera_file("2026-11-01 08:00:00").name == "space@2026-11-01@01-00-00.mp4"
    assert camera_file("2026-11-01 10:00:00").name == "space@2026-11-01@02-00-00.mp4"


@pytest.mark.parametrize(
    ("state", "value"),
    [
        ("21.5", "21.5"),
        ("3", "3.0"),
        ("-0.25", "-0.25"),
        ("unavailable", "nan"),
        ("unknown", "nan"),
        ("heavy", "nan"),
        ("", "nan"),
        ("nan", "nan"),
        ("inf", "nan"),
        ("-Infinity", "nan"),
        (None, "nan"),
    ],
)
def test_sample_values(state: str | None, value: str) -> None:
    assert sample_value(state) == value


def test_a_sample_row_starts_with_the_clock() -> None:
    assert sample_row("08-00-00", ["21.5", "unavailable", None]) == "08-00-00,21.5,nan,nan"
    assert sample_row("08-00-00", []) == "08-00-00"


# --- lateness -------------------------------------------------------------------------


def test_lateness_history_keeps_at_most_its_cap() -> None:
    history = SlotLateness()
    start = 1_780_000_000.0
    for second in range(3 * LATENESS_MAX_SAMPLES):  # 1-s slots: all within a day
        history.add(start + second, 0.25)
    assert len(history) == LATENESS_MAX_SAMPLES
    # A clock set back a day: pruning by age keeps the "future" samples, the cap
    # still bounds them.
    for second in range(3 * LATENESS_MAX_SAMPLES):
        history.add(start - 86_400 + second, 0.5)
    assert len(history) == LATENESS_MAX_SAMPLES
    assert history.stats(start - 86_400 + 3 * LATENESS_MAX_SAMPLES) == {
        "count": LATENESS_MAX_SAMPLES,
        "max": 0.5,
        "p99": 0.5,
    }


def test_lateness_without_slots() -> None:
    assert SlotLateness().stats(1_780_000_000.0) == {"count": 0, "max": None, "p99": None}


def test_lateness_keeps_the_last_day_only() -> None:
    history = SlotLateness()
    day = LATENESS_WINDOW.total_seconds()
    history.add(0.0, 30.0)
    history.add(day, 1.0)
    # A sample exactly one day old is still in the window; older ones go.
    assert history.stats(day) == {"count": 2, "max": 30.0, "p99": 30.0}
    assert history.stats(day + 0.5) == {"count": 1, "max": 1.0, "p99": 1.0}
    # Adding prunes too, without anyone asking for the stats.
    history.add(2 * day + 1, 2.0)
    assert len(history) == 1


def test_an_early_start_counts_as_on_time() -> None:
    history = SlotLateness()
    history.add(100.0, -0.5)  # a timer that fired a little early
    assert history.stats(100.0) == {"count": 1, "max": 0.0, "p99": 0.0}


def test_p99_of_a_hundred_slots_ignores_the_worst_one() -> None:
    history = SlotLateness()
    for late in range(1, 101):
        history.add(1000.0 + late, float(late))
    assert history.stats(1101.0) == {"count": 100, "max": 100.0, "p99": 99.0}
    history.add(1102.0, 101.0)
    # From 101 samples on, p99 is the second worst.
    assert history.stats(1102.0) == {"count": 101, "max": 101.0, "p99": 100.0}
