"""Which recordings a hub deletes (pure): keep_days, the floor, and never anything else."""

from datetime import date, timedelta
import random

import pytest

from custom_components.makerspace_hub.recording.retention import (
    Recording,
    RetentionPlan,
    folder_day,
    plan_retention,
    recording_in,
)

HOST = "bee_farm"
TODAY = date(2026, 6, 8)


def day(days_ago: int) -> date:
    return TODAY - timedelta(days=days_ago)


def clip(sensor: str, days_ago: int, clock: str = "08-00-00", size: int = 100) -> Recording:
    when = day(days_ago)
    return Recording(when, clock, sensor, f"{HOST}@{when}@{clock}.mp4", size)


@pytest.mark.parametrize(
    ("name", "clock"),
    [
        (f"{HOST}@2026-06-01.csv", ""),  # a day of samples
        (f"{HOST}@2026-06-01@08-05-00.mp4", "08-05-00"),  # a camera clip
        (f"{HOST}@2026-06-01@08-05-00", "08-05-00"),  # an action's file without extension
        (f"{HOST}@2026-06-01@08-05-00.wav", "08-05-00"),
        (f"{HOST}@2026-06-01@08-05-00_left.wav", "08-05-00"),
    ],
)
def test_the_hubs_recordings_are_recognised(name: str, clock: str) -> None:
    found = recording_in("hive", date(2026, 6, 1), name, 7, host_slug=HOST)
    assert found == Recording(date(2026, 6, 1), clock, "hive", name, 7)


@pytest.mark.parametrize(
    "name",
    [
        "notes.txt",
        "other_farm@2026-06-01@08-05-00.mp4",  # another hub's
        "bee@2026-06-01@08-05-00.mp4",  # a hub whose slug starts the same
        f"{HOST}_2@2026-06-01.csv",
        f"{HOST}@2026-06-02@08-05-00.mp4",  # another day than its folder's
        f"{HOST}@2026-06-01.csv.bak",
        f"{HOST}@2026-06-01.txt",
        f"{HOST}@2026-06-01@08-05-001.mp4",
        f"{HOST}@2026-06-01@8-05-00.mp4",
        f"x{HOST}@2026-06-01.csv",
    ],
)
def test_anything_else_is_not_a_recording(name: str) -> None:
    assert recording_in("hive", date(2026, 6, 1), name, 7, host_slug=HOST) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2026-06-01", date(2026, 6, 1)),
        ("2026-02-30", None),
        ("2026-6-1", None),
        ("20260601", None),
        ("2026-06-01x", None),
        ("archive", None),
    ],
)
def test_date_folders(name: str, expected: date | None) -> None:
    assert folder_day(name) == expected


def test_keep_days_keeps_today_and_the_days_before_it() -> None:
    recordings = [clip("hive", ago) for ago in range(10)] + [clip("audio", 30)]
    plan = plan_retention(
        recordings, keep_days={"hive": 7, "audio": 0}, today=TODAY, free=10**9, floor=0
    )
    assert [r.day for r in plan.expired] == [day(9), day(8), day(7)]
    assert plan.for_space == ()
    assert plan.reachable
    assert plan.folders == (("hive", day(9)), ("hive", day(8)), ("hive", day(7)))


def test_the_floor_deletes_the_oldest_of_all_sensors_first() -> None:
    recordings = [
        clip("hive", 2, "09-00-00"),
        clip("audio", 2, "08-30-00"),
        clip("hive", 1),
        clip("audio", 0, "07-00-00"),
    ]
    plan = plan_retention(recordings, keep_days={}, today=TODAY, free=850, floor=1000)
    assert [(r.sensor, r.day, r.clock) for r in plan.for_space] == [
        ("audio", day(2), "08-30-00"),
        ("hive", day(2), "09-00-00"),
    ]
    assert plan.reachable


def test_expired_recordings_count_towards_the_floor() -> None:
    recordings = [clip("hive", 9, size=500), clip("hive", 1, size=500)]
    plan = plan_retention(recordings, keep_days={"hive": 3}, today=TODAY, free=600, floor=1000)
    assert [r.day for r in plan.expired] == [day(9)]
    assert plan.for_space == ()


def test_a_floor_out_of_reach_deletes_nothing_for_it() -> None:
    recordings = [clip("hive", 9), clip("hive", 1), clip("hive", 0)]
    plan = plan_retention(recordings, keep_days={"hive": 3}, today=TODAY, free=100, floor=1000)
    assert [r.day for r in plan.expired] == [day(9)]  # keep_days still applies
    assert plan.for_space == ()
    assert not plan.reachable


def test_todays_folder_stays_and_empty_old_folders_go() -> None:
    recordings = [clip("hive", 0, "07-00-00"), clip("hive", 0, "08-00-00")]
    plan = plan_retention(
        recordings,
        keep_days={},
        today=TODAY,
        free=0,
        floor=150,
        empty_folders=[("hive", day(5)), ("hive", day(0)), ("audio", day(-1))],
    )
    assert [r.clock for r in plan.for_space] == ["07-00-00", "08-00-00"]
    assert plan.folders == (("hive", day(5)),)


def test_todays_samples_file_never_goes_for_space() -> None:
    today = Recording(TODAY, "", "scale", f"h@{TODAY.isoformat()}.csv", 500)
    yesterday = Recording(day(1), "", "scale", f"h@{day(1).isoformat()}.csv", 500)
    plan = plan_retention([yesterday, today], keep_days={}, today=TODAY, free=0, floor=900)
    assert plan.for_space == ()  # still appended to: the floor cannot be reached
    assert not plan.reachable
    plan = plan_retention([yesterday, today], keep_days={}, today=TODAY, free=0, floor=400)
    assert plan.for_space == (yesterday,)


@pytest.mark.parametrize("seed", range(100))
def test_random_plans_free_the_least_and_the_oldest(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test cases
    sensors = ["hive", "audio", "scale"]
    recordings = [
        clip(rng.choice(sensors), rng.randrange(20), f"{rng.randrange(24):02d}-00-00", size)
        for size in (rng.randrange(1, 1000) for _ in range(rng.randrange(40)))
    ]
    keep_days = {sensor: rng.choice([0, 1, 3, 7]) for sensor in sensors}
    free, floor = rng.randrange(5000), rng.choice([0, rng.randrange(20000)])
    plan = plan_retention(recordings, keep_days=keep_days, today=TODAY, free=free, floor=floor)
    deleted = list(plan.deleted)
    assert len(set(deleted)) == len(deleted)
    for recording in recordings:
        days = keep_days[recording.sensor]
        expired = days > 0 and recording.day <= TODAY - timedelta(days=days)
        assert (recording in plan.expired) == expired
    kept = sorted(set(recordings) - set(deleted))
    after = free + sum(r.size for r in deleted)
    # Today's samples file is still appended to.
    assert not any(r.day == TODAY and r.clock == "" for r in plan.for_space)
    if not plan.reachable:
        assert plan.for_space == ()
        spare = [r for r in recordings if r in plan.expired or r.day < TODAY or r.clock]
        assert free + sum(r.size for r in spare) < floor
        return
    assert after >= floor
    if plan.for_space:
        # The oldest first, and not one more than needed.
        assert max(plan.for_space) <= min(kept, default=max(plan.for_space))
        assert after - plan.for_space[-1].size < floor
    assert isinstance(plan, RetentionPlan)
