"""The recordings disk of a hub: keep_days at night, the free space floor, a hung disk.

Real files on a real small disk (`small_disk`: a tmpfs, or a counted folder where
mounting is not allowed), the clock moved by freezer, a camera that writes its clip.
"""

from datetime import timedelta
import logging
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er, issue_registry as ir

from custom_components.makerspace_hub.const import DOMAIN

from ..restart import restarted
from .conftest import HOST, Bees, MakeBees, sensor_subentry
from .small_disk import SmallDisk

CLIP = 400 * 1024  # bytes a clip takes
FLOOR = 1_200_000  # bytes to keep free: min_free_gb 0.0012
FLOOR_OPTIONS = {"min_free_gb": 0.0012}


def camera_writing(hass: HomeAssistant, size: int = CLIP) -> list[str]:
    """A camera whose `camera.record` writes a clip of `size` bytes; the names it wrote."""
    written: list[str] = []

    async def record(call: ServiceCall) -> None:
        path = Path(call.data["filename"])
        await hass.async_add_executor_job(path.write_bytes, b"\0" * size)
        written.append(path.name)

    hass.services.async_register("camera", "record", record)
    return written


def video_sensor(**changes: object) -> object:
    return sensor_subentry(
        "hive-video",
        "camera",
        camera_entity="camera.hive",
        capture_duration_seconds=30,
        capture_interval_seconds=60,
        **changes,
    )


def disk_issue(hass: HomeAssistant, entry_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"recordings_disk_full_{entry_id}")


async def test_a_filling_disk_keeps_its_floor_by_deleting_the_oldest_clips(
    hass: HomeAssistant,
    make_bees: MakeBees,
    small_disk: SmallDisk,
    caplog: object,
) -> None:
    caplog.set_level(logging.INFO)  # type: ignore[attr-defined]
    written = camera_writing(hass)
    folder = small_disk.folder / "makerspace_hub" / "hive-video"
    day = folder / "2026-06-01"
    not_recordings = [
        small_disk.fill(day / "notes.txt", 100),
        small_disk.fill(day / "other_farm@2026-06-01@07-00-00.mp4", 100),  # another hub's
        small_disk.fill(folder / f"{HOST}@2026-06-01@06-00-00.mp4", 100),  # not in a date folder
    ]
    bees = await make_bees(video_sensor(), at="2026-06-01 07:59:00", options=FLOOR_OPTIONS)
    for minute in range(21):
        await bees.until(f"2026-06-01 08:{minute:02d}:00")
        # Each clip's space is won back before the next slot.
        assert small_disk.free >= FLOOR
    assert len(written) == 21  # every slot recorded
    kept = sorted(path.name for path in day.glob(f"{HOST}@*"))
    assert 0 < len(kept) < 21
    assert kept == written[-len(kept) :]  # the oldest went, the newest stay
    assert all(path.exists() for path in not_recordings)
    sensor = bees.sensor("hive-video")
    assert sensor.counts.failed == 0
    # The slots started on time: the disk checks and deletions never held them up.
    assert sensor.lateness_stats() == {"count": 21, "max": 0.0, "p99": 0.0}
    free = bees.state("sensor", None, "recordings_disk_free")
    assert free.attributes["unit_of_measurement"] == "GB"
    assert float(free.state) == round(small_disk.free / 1e9, 3)
    assert free.attributes["min_free_gb"] == 0.0012
    assert free.attributes["last_cleanup_deleted"] == 1
    assert "Test Makerspace: deleted 1 recordings" in caplog.text  # type: ignore[attr-defined]
    assert disk_issue(hass, bees.entry.entry_id) is None


async def test_a_disk_filled_by_something_else_fails_slots_until_space_is_freed(
    hass: HomeAssistant, make_bees: MakeBees, small_disk: SmallDisk
) -> None:
    written = camera_writing(hass)
    folder = small_disk.folder / "makerspace_hub" / "hive-video"
    recording = small_disk.fill(folder / "2026-05-31" / f"{HOST}@2026-05-31@08-00-00.mp4", CLIP)
    backup = small_disk.fill(small_disk.folder / "backup.bin", 3_000_000)
    # Even without the recording the disk would stay below the floor.
    assert small_disk.free + CLIP < FLOOR
    bees = await make_bees(video_sensor(), at="2026-06-01 07:59:00", options=FLOOR_OPTIONS)
    await hass.async_block_till_done(wait_background_tasks=True)
    issue = disk_issue(hass, bees.entry.entry_id)
    assert issue is not None
    assert issue.translation_key == "recordings_disk_full"
    assert issue.translation_placeholders == {
        "hub": "Test Makerspace",
        "path": str(small_disk.folder / "makerspace_hub"),
        "free_gb": f"{small_disk.free / 1e9:.3f}",
        "min_free_gb": "0.0012",
    }
    await bees.until("2026-06-01 08:02:00")
    assert written == []  # the slots did not fill the disk further
    failed = bees.state("sensor", "hive-video", "failed_recordings")
    assert failed.state == "3"
    assert failed.attributes["last_error"] == (
        f"the recordings disk has {small_disk.free / 1e9:.3f} GB free, "
        "less than the 0.0012 GB to keep free"
    )
    assert recording.exists()  # deleting it could not reach the floor: kept
    assert [kind for kind, _ in bees.events["hive-video"]] == ["failed"] * 3

    backup.unlink()  # space freed by hand: noticed within a minute, before the next slot
    await bees.until("2026-06-01 08:04:00")
    assert written == [f"{HOST}@2026-06-01@08-04-00.mp4"]
    assert disk_issue(hass, bees.entry.entry_id) is None
    assert recording.exists()


async def test_keep_days_deletes_old_recordings_every_night_and_nothing_else(
    hass: HomeAssistant, make_bees: MakeBees, config_dir: Path
) -> None:
    root = config_dir / "media" / "makerspace_hub"
    files: dict[str, Path] = {}
    for sensor, day in [
        ("hive", "2026-05-30"),
        ("hive", "2026-06-04"),
        ("hive", "2026-06-05"),
        ("hive", "2026-06-07"),
        ("hive-audio", "2026-05-01"),
    ]:
        path = root / sensor / day / f"{HOST}@{day}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("08-00-00,1.0\n")
        files[f"{sensor} {day}"] = path
    notes = root / "hive" / "2026-06-04" / "notes.txt"
    notes.write_text("queen seen")
    (root / "hive" / "2026-06-01").mkdir()  # an empty date folder
    (root / "hive" / "archive").mkdir()  # not a date folder: never touched
    other = root / "moths" / "2026-05-01" / f"{HOST}@2026-05-01.csv"  # no sensor of the hub
    other.parent.mkdir(parents=True)
    other.write_text("")
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(
        sensor_subentry("hive", "samples", entities=["sensor.t"], keep_days=3),
        sensor_subentry("hive-audio", "action", action=[{"event": "buzz"}]),  # keeps all
        at="2026-06-07 03:00:00",
    )
    await bees.until("2026-06-07 03:29:00")
    assert all(path.exists() for path in files.values())  # not before the night's pass
    await bees.until("2026-06-07 03:31:00")
    gone = {name for name, path in files.items() if not path.exists()}
    assert gone == {"hive 2026-05-30", "hive 2026-06-04"}  # 3 days kept: 06-05 to today
    assert not (root / "hive" / "2026-05-30").exists()
    assert not (root / "hive" / "2026-06-01").exists()
    assert notes.exists()  # its folder stays with it
    assert (root / "hive" / "archive").is_dir()
    assert other.exists()
    # Without a floor the hub has no disk sensor.
    assert (
        er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"{bees.entry.entry_id}_hub_recordings_disk_free"
        )
        is None
    )


async def test_a_hung_disk_check_never_makes_a_slot_late(
    hass: HomeAssistant, make_bees: MakeBees, small_disk: SmallDisk
) -> None:
    small_disk.hang()  # every free-space check of the disk blocks from now on
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(
        sensor_subentry("hive", "samples", entities=["sensor.t"], capture_interval_seconds=60),
        at="2026-06-01 07:59:00",
        options=FLOOR_OPTIONS,
    )
    await bees.until("2026-06-01 08:05:00", wait=False)
    sensor = bees.sensor("hive")
    assert sensor.lateness_stats() == {"count": 6, "max": 0.0, "p99": 0.0}
    assert sensor.recordings_today == 6
    assert bees.disk.free is None  # still measuring
    assert bees.state("sensor", None, "recordings_disk_free").state == "unknown"
    small_disk.release()
    await hass.async_block_till_done(wait_background_tasks=True)
    csv = small_disk.folder / "makerspace_hub" / "hive" / "2026-06-01" / f"{HOST}@2026-06-01.csv"
    assert len(csv.read_text().splitlines()) == 6
    assert bees.disk.free == small_disk.free
    assert float(bees.state("sensor", None, "recordings_disk_free").state) > 0


async def test_a_sun_window_and_retention_after_a_real_restart(
    hass: HomeAssistant,
    make_bees: MakeBees,
    small_disk: SmallDisk,
    config_dir: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    root = small_disk.folder / "makerspace_hub" / "hive"
    old = small_disk.fill(root / "2026-05-20" / f"{HOST}@2026-05-20.csv", 100)
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(
        sensor_subentry(
            "hive",
            "samples",
            entities=["sensor.t"],
            capture_window_start="sunrise",
            capture_window_end="sunrise+01:00",
            capture_interval_seconds=1800,
            keep_days=2,
        ),
        at="2026-06-01 04:00:00",
        options=FLOOR_OPTIONS,
    )
    first = bees.sensor("hive").next_slot
    assert first is not None
    await bees.until("2026-06-01 08:00:00", step=timedelta(minutes=15))
    today = root / "2026-06-01" / f"{HOST}@2026-06-01.csv"
    assert len(today.read_text().splitlines()) == 3  # sunrise, +30 min, +60 min

    async with restarted(hass, config_dir) as (new, _client):
        entry = new.config_entries.async_get_entry(bees.entry.entry_id)
        assert entry is not None
        again = Bees(new, entry, freezer, bees.folder, {})
        sensor = again.sensor("hive")
        # The next sunrise, from the new Home Assistant's sun: a day and a minute or
        # so after the first.
        assert sensor.next_slot is not None
        assert (
            timedelta(days=1) - timedelta(minutes=3) < sensor.next_slot - first < timedelta(days=1)
        )
        assert again.state("sensor", "hive", "next_recording").state == (
            sensor.next_slot.isoformat()
        )
        await new.async_block_till_done(wait_background_tasks=True)
        assert float(again.state("sensor", None, "recordings_disk_free").state) > 0.0012
        await again.until("2026-06-02 03:31:00", step=timedelta(minutes=30))
        assert not old.exists()  # the night's pass of the new Home Assistant: kept 2 days
        assert not old.parent.exists()
        assert today.exists()
        await again.until("2026-06-02 08:00:00", step=timedelta(minutes=15))
        assert sensor.recordings_today == 3
