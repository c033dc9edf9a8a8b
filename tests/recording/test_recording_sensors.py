"""Recording sensors on a schedule, with the clock moved by freezer and real files."""

from datetime import timedelta
import json

from homeassistant.core import Event, HomeAssistant, ServiceCall
from homeassistant.helpers.json import JSONEncoder
from homeassistant.util import dt as dt_util

from custom_components.makerspace_hub.diagnostics import (
    async_get_config_entry_diagnostics,
    async_get_device_diagnostics,
)
from custom_components.makerspace_hub.storage.hub_storage import DATA_STORAGE, StateStorage

from ..conftest import find_device, subentry_by_title
from .conftest import HOST, MakeBees, local, sensor_subentry


async def test_samples_append_rows_with_nan(hass: HomeAssistant, make_bees: MakeBees) -> None:
    hass.states.async_set("sensor.hive_temp", "21.5")
    hass.states.async_set("sensor.hive_humidity", "unavailable")
    hass.states.async_set("sensor.hive_weight", "heavy")
    bees = await make_bees(
        sensor_subentry(
            "hive",
            "samples",
            entities=["sensor.hive_temp", "sensor.hive_humidity", "sensor.hive_weight"],
        )
    )
    assert (
        bees.state("sensor", "hive", "next_recording").state
        == local("2026-06-01 08:00:00").astimezone(dt_util.UTC).isoformat()
    )
    await bees.until("2026-06-01 08:12:00")
    path = bees.folder / "hive" / "2026-06-01" / f"{HOST}@2026-06-01.csv"
    assert path.read_text().splitlines() == [
        "08-00-00,21.5,nan,nan",
        "08-05-00,21.5,nan,nan",
        "08-10-00,21.5,nan,nan",
    ]
    assert bees.state("sensor", "hive", "recordings_today").state == "3"
    assert [kind for kind, _ in bees.events["hive"]] == ["started", "finished"] * 3


async def test_switching_on_mid_window_drops_past_slots(
    hass: HomeAssistant, make_bees: MakeBees
) -> None:
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(
        sensor_subentry("hive", "samples", entities=["sensor.t"], auto_start=False),
        at="2026-06-01 10:07:30",
    )
    switch = bees.state("switch", "hive", "recording")
    assert switch.state == "off"
    assert bees.state("sensor", "hive", "next_recording").state == "unknown"
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": switch.entity_id}, blocking=True
    )
    sensor = bees.sensor("hive")
    assert sensor.next_slot == local("2026-06-01 10:10:00")  # anchored at 08:00, not at 10:07
    await bees.until("2026-06-01 10:16:00")
    path = bees.folder / "hive" / "2026-06-01" / f"{HOST}@2026-06-01.csv"
    assert path.read_text().splitlines() == ["10-10-00,1.0", "10-15-00,1.0"]


async def test_stop_between_slots_cancels_everything(
    hass: HomeAssistant, make_bees: MakeBees
) -> None:
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(sensor_subentry("hive", "samples", entities=["sensor.t"]))
    await bees.until("2026-06-01 08:02:00")
    switch = bees.state("switch", "hive", "recording").entity_id
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert bees.state("sensor", "hive", "next_recording").state == "unknown"
    await bees.until("2026-06-01 09:00:00", step=timedelta(minutes=5))
    path = bees.folder / "hive" / "2026-06-01" / f"{HOST}@2026-06-01.csv"
    assert path.read_text().splitlines() == ["08-00-00,1.0"]


async def test_stop_during_a_recording_lets_it_finish(
    hass: HomeAssistant, make_bees: MakeBees
) -> None:
    bees = await make_bees(
        sensor_subentry(
            "hive",
            "action",
            action=[{"delay": {"seconds": 30}}, {"event": "hive_recorded"}],
        )
    )
    recorded: list[Event] = []
    hass.bus.async_listen("hive_recorded", recorded.append)
    await bees.until("2026-06-01 08:00:10", step=timedelta(seconds=10), wait=False)
    assert bees.state("binary_sensor", "hive", "recording_now").state == "on"
    bees.sensor("hive").async_turn_off()
    await bees.until("2026-06-01 08:20:00", step=timedelta(seconds=30), wait=False)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(recorded) == 1  # finished and kept; no recording after the stop
    assert [kind for kind, _ in bees.events["hive"]] == ["started", "finished"]
    assert bees.state("binary_sensor", "hive", "recording_now").state == "off"


async def test_three_days_across_midnight_without_restart(
    hass: HomeAssistant, make_bees: MakeBees
) -> None:
    hass.states.async_set("sensor.t", "5")
    bees = await make_bees(
        sensor_subentry(
            "hive",
            "samples",
            entities=["sensor.t"],
            capture_window_start="22:00:00",
            capture_window_end="02:00:00",
            capture_interval_seconds=3600,
        ),
        at="2026-06-01 12:00:00",
    )
    await bees.until("2026-06-04 12:00:00", step=timedelta(minutes=30))
    rows = {
        path.parent.name: path.read_text().splitlines()
        for path in sorted((bees.folder / "hive").glob("*/*.csv"))
    }
    assert rows == {
        "2026-06-01": ["22-00-00,5.0", "23-00-00,5.0"],
        "2026-06-02": [
            "00-00-00,5.0",
            "01-00-00,5.0",
            "02-00-00,5.0",
            "22-00-00,5.0",
            "23-00-00,5.0",
        ],
        "2026-06-03": [
            "00-00-00,5.0",
            "01-00-00,5.0",
            "02-00-00,5.0",
            "22-00-00,5.0",
            "23-00-00,5.0",
        ],
        "2026-06-04": ["00-00-00,5.0", "01-00-00,5.0", "02-00-00,5.0"],
    }


async def test_a_restart_in_the_middle_of_a_window(
    hass: HomeAssistant, make_bees: MakeBees
) -> None:
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(
        sensor_subentry("hive", "samples", entities=["sensor.t"], auto_start=False)
    )
    bees.sensor("hive").async_turn_on()
    await bees.until("2026-06-01 08:06:00")
    assert await bees.entry.runtime_data.storage.async_flush()
    assert await hass.config_entries.async_unload(bees.entry.entry_id)
    hass.data[DATA_STORAGE] = StateStorage(hass)
    bees.freezer.move_to(local("2026-06-01 09:02:00"))  # down for an hour
    assert await hass.config_entries.async_setup(bees.entry.entry_id)
    sensor = bees.sensor("hive")
    assert sensor.counts.on  # the switch survived, although auto_start is off
    assert sensor.next_slot == local("2026-06-01 09:05:00")  # nothing caught up
    await bees.until("2026-06-01 09:06:00")
    path = bees.folder / "hive" / "2026-06-01" / f"{HOST}@2026-06-01.csv"
    assert path.read_text().splitlines() == ["08-00-00,1.0", "08-05-00,1.0", "09-05-00,1.0"]
    assert sensor.recordings_today == 3


async def test_camera_kind_records_with_the_right_file_and_duration(
    hass: HomeAssistant, make_bees: MakeBees
) -> None:
    calls: list[ServiceCall] = []

    async def record(call: ServiceCall) -> None:
        calls.append(call)

    hass.services.async_register("camera", "record", record)
    bees = await make_bees(
        sensor_subentry(
            "hive-video", "camera", camera_entity="camera.hive", capture_duration_seconds=45
        )
    )
    await bees.until("2026-06-01 08:05:30")
    folder = bees.folder / "hive-video" / "2026-06-01"
    assert [dict(call.data) for call in calls] == [
        {
            "entity_id": "camera.hive",
            "filename": str(folder / f"{HOST}@2026-06-01@08-00-00.mp4"),
            "duration": 45,
        },
        {
            "entity_id": "camera.hive",
            "filename": str(folder / f"{HOST}@2026-06-01@08-05-00.mp4"),
            "duration": 45,
        },
    ]
    assert folder.is_dir()
    assert (
        bees.state("sensor", "hive-video", "last_recording").state
        == f"{HOST}@2026-06-01@08-05-00.mp4"
    )


async def test_a_failed_recording_is_counted(hass: HomeAssistant, make_bees: MakeBees) -> None:
    bees = await make_bees(sensor_subentry("hive-video", "camera", camera_entity="camera.nowhere"))
    await bees.until("2026-06-01 08:01:00")
    failed = bees.state("sensor", "hive-video", "failed_recordings")
    assert failed.state == "1"
    assert failed.attributes["last_error"]
    assert [kind for kind, _ in bees.events["hive-video"]] == ["started", "failed"]


async def test_action_kind_gets_the_variables(hass: HomeAssistant, make_bees: MakeBees) -> None:
    seen: list[Event] = []
    hass.bus.async_listen("hive_slot", seen.append)
    bees = await make_bees(
        sensor_subentry(
            "hive-audio",
            "action",
            capture_duration_seconds=30,
            action=[
                {
                    "event": "hive_slot",
                    "event_data": {
                        "sensor": "{{ sensor }}",
                        "slot": "{{ slot }}",
                        "duration": "{{ duration }}",
                        "filename": "{{ filename }}",
                    },
                }
            ],
        )
    )
    await bees.until("2026-06-01 08:01:00")
    (event,) = seen
    assert event.data == {
        "sensor": "hive-audio",
        "slot": local("2026-06-01 08:00:00").isoformat(),
        "duration": 30,
        "filename": str(bees.folder / "hive-audio" / "2026-06-01" / f"{HOST}@2026-06-01@08-00-00"),
    }


async def test_recordings_today_resets_at_midnight_and_lateness_is_measured(
    hass: HomeAssistant, make_bees: MakeBees
) -> None:
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(
        sensor_subentry("hive", "samples", entities=["sensor.t"], capture_window_end="08:10:00"),
    )
    await bees.until("2026-06-01 08:11:00")
    assert bees.state("sensor", "hive", "recordings_today").state == "3"
    stats = bees.sensor("hive").lateness_stats()
    assert stats["count"] == 3
    assert stats["max"] is not None
    assert stats["max"] < 60  # the clock moved in 1-minute steps
    await bees.until("2026-06-02 00:00:30", step=timedelta(hours=1))
    assert bees.state("sensor", "hive", "recordings_today").state == "0"
    await bees.until("2026-06-02 08:11:00", step=timedelta(minutes=1))
    assert bees.sensor("hive").lateness_stats()["count"] == 3  # only the last day's


async def test_lateness_history_stays_bounded_without_diagnostics(
    hass: HomeAssistant, make_bees: MakeBees
) -> None:
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(
        sensor_subentry("hive", "samples", entities=["sensor.t"], capture_window_end="10:00:00"),
    )
    sensor = bees.sensor("hive")
    for day in ("2026-06-01", "2026-06-02", "2026-06-03"):
        await bees.until(f"{day} 10:01:00", step=timedelta(minutes=5))  # 25 slots a day
        await bees.until(f"{day} 23:59:00", step=timedelta(hours=1))
    await bees.until("2026-06-04 08:06:00", step=timedelta(minutes=5))
    # Nobody asked for the stats: of the 77 slots so far the history itself kept
    # only those of the last 24 h, 08:05-10:00 yesterday (24) and 08:00, 08:05 today.
    assert len(sensor.lateness) == 24 + 2
    assert sensor.lateness_stats()["count"] == 24 + 2


async def test_an_action_still_running_at_the_next_slot_fails_that_slot(
    hass: HomeAssistant, make_bees: MakeBees
) -> None:
    bees = await make_bees(
        sensor_subentry("hive", "action", action=[{"delay": {"seconds": 400}}]),
    )
    await bees.until("2026-06-01 08:05:30", step=timedelta(seconds=30), wait=False)
    failed = bees.state("sensor", "hive", "failed_recordings")
    assert failed.state == "1"
    assert failed.attributes["last_error"] == "the actions of the previous slot still run"
    await bees.until("2026-06-01 08:10:30", step=timedelta(seconds=30), wait=False)
    # 08:00 runs until 08:06:40; 08:05 fails at once; 08:10 runs.
    assert [kind for kind, _ in bees.events["hive"]] == [
        "started",
        "started",
        "failed",
        "finished",
        "started",
    ]
    event = bees.state("event", "hive", "recording")
    assert event.attributes["event_type"] == "started"
    assert event.attributes["sensor"] == "hive"


async def test_a_changed_schedule_takes_effect_at_once(
    hass: HomeAssistant, make_bees: MakeBees
) -> None:
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(sensor_subentry("hive", "samples", entities=["sensor.t"]))
    await bees.until("2026-06-01 08:06:30", step=timedelta(seconds=30))
    subentry = subentry_by_title(bees.entry, "hive")
    hass.config_entries.async_update_subentry(
        bees.entry, subentry, data=subentry.data | {"capture_interval_seconds": 60}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert bees.sensor("hive").next_slot == local("2026-06-01 08:07:00")
    assert bees.sensor("hive").counts.on
    await bees.until("2026-06-01 08:09:30")
    path = bees.folder / "hive" / "2026-06-01" / f"{HOST}@2026-06-01.csv"
    assert path.read_text().splitlines() == [
        "08-00-00,1.0",
        "08-05-00,1.0",
        "08-07-00,1.0",
        "08-08-00,1.0",
        "08-09-00,1.0",
    ]


async def test_the_spring_forward_night_holds_one_slot_less(
    hass: HomeAssistant, make_bees: MakeBees
) -> None:
    hass.states.async_set("sensor.t", "2")
    bees = await make_bees(
        sensor_subentry(
            "hive",
            "samples",
            entities=["sensor.t"],
            capture_window_start="00:00:00",
            capture_window_end="04:00:00",
            capture_interval_seconds=3600,
        ),
        at="2026-03-07 23:00:00",
    )
    await bees.until("2026-03-08 06:00:00", step=timedelta(minutes=30))
    path = bees.folder / "hive" / "2026-03-08" / f"{HOST}@2026-03-08.csv"
    # 02:00 does not exist that night: one hour after 01:00 PST is 03:00 PDT.
    assert path.read_text().splitlines() == [
        "00-00-00,2.0",
        "01-00-00,2.0",
        "03-00-00,2.0",
        "04-00-00,2.0",
    ]


async def test_recording_now_follows_the_clip(hass: HomeAssistant, make_bees: MakeBees) -> None:
    async def record(call: ServiceCall) -> None:
        """A camera that takes the clip in the background, like stream does."""

    hass.services.async_register("camera", "record", record)
    bees = await make_bees(
        sensor_subentry(
            "hive-video", "camera", camera_entity="camera.hive", capture_duration_seconds=60
        )
    )
    await bees.until("2026-06-01 08:00:30", step=timedelta(seconds=30))
    assert bees.state("binary_sensor", "hive-video", "recording_now").state == "on"
    await bees.until("2026-06-01 08:01:30", step=timedelta(seconds=30))
    assert bees.state("binary_sensor", "hive-video", "recording_now").state == "off"
    assert (
        bees.state("sensor", "hive-video", "next_recording").state
        == local("2026-06-01 08:05:00").astimezone(dt_util.UTC).isoformat()
    )
    assert bees.state("event", "hive-video", "recording").attributes["event_type"] == ("finished")


async def test_diagnostics_show_slot_lateness(hass: HomeAssistant, make_bees: MakeBees) -> None:
    # Called directly: the frozen clock is months before the test client's token.
    hass.states.async_set("sensor.t", "1")
    bees = await make_bees(sensor_subentry("hive", "samples", entities=["sensor.t"]))
    await bees.until("2026-06-01 08:10:30", step=timedelta(seconds=20))
    diagnostics = json.loads(
        json.dumps(await async_get_config_entry_diagnostics(hass, bees.entry), cls=JSONEncoder)
    )
    (shown,) = diagnostics["recording_sensors"]
    assert shown["name"] == "hive"
    assert shown["counts"]["today"] == 3
    assert shown["next_slot"] == local("2026-06-01 08:15:00").astimezone(dt_util.UTC).isoformat()
    lateness = shown["slot_start_lateness_last_day"]
    assert lateness["count"] == 3
    assert 0 <= lateness["p99"] <= lateness["max"] < 20  # the clock moved in 20 s steps
    device = find_device(hass, subentry_by_title(bees.entry, "hive").subentry_id)
    assert device is not None
    per_device = await async_get_device_diagnostics(hass, bees.entry, device)
    assert per_device["recording_sensor"]["kind"] == "samples"
    # The sensor reports its own diagnostics: what both downloads show.
    own = bees.sensor("hive").diagnostics()
    assert per_device["recording_sensor"] == own
    assert shown == json.loads(json.dumps(own, cls=JSONEncoder))
    assert set(own) == {
        "name",
        "kind",
        "counts",
        "next_slot",
        "recording_now",
        "slot_start_lateness_last_day",
    }
