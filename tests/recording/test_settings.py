"""A recording sensor's settings without Home Assistant: read, stored, refused; its folder."""

from datetime import time, timedelta
from typing import Any

import pytest

from custom_components.makerspace_hub.const import (
    CONF_ACTION,
    CONF_CAPTURE_WINDOW_END,
    CONF_KIND,
    CONF_NAME,
)
from custom_components.makerspace_hub.recording.schedule import WEEKDAYS, WindowTime
from custom_components.makerspace_hub.recording.settings import (
    RecordingSensorSettings,
    resolve_recordings_dir,
)
from custom_components.makerspace_hub.validation import InvalidConfigError

SCHEDULE = {
    "capture_window_start": "22:00:00",
    "capture_window_end": "02:30:00",
    "capture_duration_seconds": 45,
    "capture_interval_seconds": 600,
    "auto_start": False,
    "weekdays": ["mon", "wed", "sat"],
    "keep_days": 14,
}


def camera(**changes: Any) -> dict[str, Any]:
    return {"name": "hive-video", "kind": "camera", "camera_entity": "camera.hive"} | changes


def samples(**changes: Any) -> dict[str, Any]:
    return {"name": "hive", "kind": "samples", "entities": ["sensor.t", "sensor.h"]} | changes


def action(**changes: Any) -> dict[str, Any]:
    steps = [{"action": "script.snap"}, {"delay": {"seconds": 5}}]
    return {"name": "hive_audio", "kind": "action", "action": steps} | changes


@pytest.mark.parametrize("data", [camera(**SCHEDULE), samples(**SCHEDULE), action(**SCHEDULE)])
def test_each_kind_stores_what_it_was_given(data: dict[str, Any]) -> None:
    settings = RecordingSensorSettings.from_data(data)
    assert settings.as_data() == data
    assert RecordingSensorSettings.from_data(settings.as_data()) == settings
    assert settings.capture_window_start == WindowTime(clock=time(22))
    assert settings.capture_window_end == WindowTime(clock=time(2, 30))
    assert settings.weekday_numbers == {0, 2, 5}
    assert settings.keep_days == 14


def test_an_entry_of_an_older_release_runs_every_day_and_keeps_everything() -> None:
    old = {k: v for k, v in samples(**SCHEDULE).items() if k not in ("weekdays", "keep_days")}
    settings = RecordingSensorSettings.from_data(old)
    assert settings.weekdays == WEEKDAYS
    assert settings.weekday_numbers == set(range(7))
    assert settings.keep_days == 0
    assert settings.as_data() == old | {"weekdays": list(WEEKDAYS), "keep_days": 0}


@pytest.mark.parametrize(
    ("value", "expected", "stored"),
    [
        ("sunrise", WindowTime(event="sunrise"), "sunrise"),
        ("sunset-01:00", WindowTime(event="sunset", offset=timedelta(hours=-1)), "sunset-01:00"),
        ("sunrise+00:45", WindowTime(event="sunrise", offset=timedelta(minutes=45)), None),
        (
            " Sunset + 1:30 ",
            WindowTime(event="sunset", offset=timedelta(minutes=90)),
            "sunset+01:30",
        ),
        ("sunrise-00:00", WindowTime(event="sunrise"), "sunrise"),
        ("sunset+23:59", WindowTime(event="sunset", offset=timedelta(hours=23, minutes=59)), None),
        ("05:30:15", WindowTime(clock=time(5, 30, 15)), None),
    ],
)
def test_window_times_follow_the_clock_or_the_sun(
    value: str, expected: WindowTime, stored: str | None
) -> None:
    settings = RecordingSensorSettings.from_data(
        samples(capture_window_start=value, capture_window_end=value)
    )
    assert settings.capture_window_start == settings.capture_window_end == expected
    assert settings.as_data()["capture_window_start"] == (stored or value)
    assert RecordingSensorSettings.from_data(settings.as_data()) == settings


def test_weekdays_are_kept_in_week_order_once() -> None:
    settings = RecordingSensorSettings.from_data(samples(weekdays=["sun", "mon", "sun"]))
    assert settings.weekdays == ("mon", "sun")
    assert settings.as_data()["weekdays"] == ["mon", "sun"]


def test_only_the_fields_of_its_kind_are_stored() -> None:
    settings = RecordingSensorSettings.from_data(
        samples(camera_entity="camera.old", action=[{"action": "script.old"}])
    )
    stored = settings.as_data()
    assert "camera_entity" not in stored
    assert "action" not in stored
    assert stored["entities"] == ["sensor.t", "sensor.h"]


def test_a_camera_sensor_gets_beemons_defaults() -> None:
    settings = RecordingSensorSettings.from_data(camera())
    assert settings == RecordingSensorSettings(
        name="hive-video",
        kind="camera",
        camera_entity="camera.hive",
        capture_window_start=WindowTime(clock=time(8)),
        capture_window_end=WindowTime(clock=time(20)),
        capture_duration_seconds=60,
        capture_interval_seconds=300,
        auto_start=True,
    )


def test_values_are_tidied() -> None:
    settings = RecordingSensorSettings.from_data(
        camera(
            camera_entity="  camera.hive ",
            capture_window_start="07:30",
            capture_duration_seconds=30.0,  # a number selector's whole float
        )
    )
    assert settings.camera_entity == "camera.hive"
    assert settings.capture_window_start == WindowTime(clock=time(7, 30))
    assert settings.capture_duration_seconds == 30
    assert isinstance(settings.capture_duration_seconds, int)
    single = RecordingSensorSettings.from_data(action(action={"action": "script.snap"}))
    assert single.action == ({"action": "script.snap"},)


def test_a_camera_may_record_for_the_whole_interval() -> None:
    settings = RecordingSensorSettings.from_data(
        camera(capture_duration_seconds=300, capture_interval_seconds=300)
    )
    assert settings.capture_duration_seconds == settings.capture_interval_seconds


def test_samples_and_actions_may_run_longer_than_their_interval() -> None:
    # Only a camera cannot record two clips at once.
    long = {"capture_duration_seconds": 900, "capture_interval_seconds": 60}
    assert RecordingSensorSettings.from_data(samples(**long)).capture_duration_seconds == 900
    assert RecordingSensorSettings.from_data(action(**long)).capture_duration_seconds == 900


@pytest.mark.parametrize(
    ("data", "key", "field"),
    [
        (camera(name=None), "invalid_name", "name"),
        (camera(name="Hive Video"), "invalid_name", "name"),
        (camera(name="../hive"), "invalid_name", "name"),
        (camera(kind=None), "invalid_value", "kind"),
        (camera(kind="video"), "invalid_value", "kind"),
        (action(action="script.snap"), "invalid_action", "action"),
        (action(action=["script.snap"]), "invalid_action", "action"),
        (action(action=[]), "action_required", "action"),
        (action(action=None), "action_required", "action"),
        (camera(camera_entity=None), "camera_entity_required", "camera_entity"),
        (camera(camera_entity="   "), "camera_entity_required", "camera_entity"),
        (camera(camera_entity=["camera.hive"]), "invalid_value", "camera_entity"),
        (
            camera(capture_duration_seconds=301),
            "duration_longer_than_interval",
            "capture_duration_seconds",
        ),
        (samples(entities=[]), "entities_required", "entities"),
        (samples(entities="sensor.t"), "invalid_value", "entities"),
        (samples(entities=["sensor.t", 3]), "invalid_value", "entities"),
        (samples(capture_window_start="8 am"), "invalid_time", "capture_window_start"),
        (samples(capture_window_start=None), "invalid_time", "capture_window_start"),
        (samples(capture_window_end="24:00"), "invalid_time", "capture_window_end"),
        (samples(capture_window_end="moonrise"), "invalid_time", "capture_window_end"),
        (samples(capture_window_end="sunrise+"), "invalid_time", "capture_window_end"),
        (samples(capture_window_end="sunset-1"), "invalid_time", "capture_window_end"),
        (samples(capture_window_end="sunset+01:60"), "invalid_time", "capture_window_end"),
        (samples(capture_window_end="sunset+24:00"), "invalid_time", "capture_window_end"),
        (samples(capture_window_end="sunset-01:00:00"), "invalid_time", "capture_window_end"),
        (samples(capture_window_start="sunrisesunset"), "invalid_time", "capture_window_start"),
        (samples(weekdays=[]), "weekdays_required", "weekdays"),
        (samples(weekdays=["monday"]), "invalid_value", "weekdays"),
        (samples(weekdays="mon"), "invalid_value", "weekdays"),
        (samples(keep_days=-1), "invalid_value", "keep_days"),
        (samples(keep_days=1.5), "invalid_value", "keep_days"),
        (samples(keep_days=36526), "invalid_value", "keep_days"),
        (samples(keep_days=None), "invalid_value", "keep_days"),
        (samples(capture_duration_seconds=0), "invalid_value", "capture_duration_seconds"),
        (samples(capture_duration_seconds=1.5), "invalid_value", "capture_duration_seconds"),
        (samples(capture_duration_seconds="60"), "invalid_value", "capture_duration_seconds"),
        (samples(capture_interval_seconds=-300), "invalid_value", "capture_interval_seconds"),
        (samples(capture_interval_seconds=False), "invalid_value", "capture_interval_seconds"),
        (samples(auto_start=1), "invalid_value", "auto_start"),
        (samples(auto_start=None), "invalid_value", "auto_start"),
    ],
)
def test_every_refusal_names_its_field(data: dict[str, Any], key: str, field: str) -> None:
    with pytest.raises(InvalidConfigError) as err:
        RecordingSensorSettings.from_data(data)
    assert (err.value.key, err.value.field) == (key, field)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # `media...` lands in Home Assistant's local media folder, wherever it is.
        ("media/makerspace_hub", "/srv/media/makerspace_hub"),
        ("media", "/srv/media"),
        ("media/a/b", "/srv/media/a/b"),
        ("./media/hives", "/srv/media/hives"),
        # Other relative paths are relative to the config folder ...
        ("recordings", "/config/recordings"),
        ("medias/hives", "/config/medias/hives"),
        # ... and absolute paths stay as they are, `/media` too.
        ("/share/hives", "/share/hives"),
        ("/media/hives", "/media/hives"),
    ],
)
def test_resolve_recordings_dir(value: str, expected: str) -> None:
    assert resolve_recordings_dir(value, "/config", "/srv/media") == expected


@pytest.mark.parametrize(
    ("value", "config_dir", "media", "expected"),
    [
        ("media/makerspace_hub", "/config", "/media", "/media/makerspace_hub"),
        ("media/makerspace_hub", "/config", "/config/media", "/config/media/makerspace_hub"),
        ("media", "/config", "/media", "/media"),
        ("recordings", "/config", "/media", "/config/recordings"),
        ("/share/hives", "/config", "/media", "/share/hives"),
    ],
)
def test_resolve_recordings_dir_with_either_media_folder(
    value: str, config_dir: str, media: str, expected: str
) -> None:
    assert resolve_recordings_dir(value, config_dir, media) == expected


def _recording(**changes: Any) -> dict[str, Any]:
    return {CONF_NAME: "hive", CONF_KIND: "samples", "entities": ["sensor.t"]} | changes


def test_recording_defaults_are_beemons() -> None:
    sensor = RecordingSensorSettings.from_data(_recording())
    assert sensor.capture_window_start == WindowTime(clock=time(8))
    assert sensor.capture_window_end == WindowTime(clock=time(20))
    assert sensor.capture_duration_seconds == 60
    assert sensor.capture_interval_seconds == 300
    assert sensor.auto_start is True
    assert RecordingSensorSettings.from_data(sensor.as_data()) == sensor


def test_recording_action_may_be_a_single_action() -> None:
    sensor = RecordingSensorSettings.from_data(
        _recording(kind="action", action={"action": "script.snap"})
    )
    assert sensor.action == ({"action": "script.snap"},)


@pytest.mark.parametrize(
    ("changes", "key", "field"),
    [
        ({CONF_KIND: "video"}, "invalid_value", CONF_KIND),
        ({CONF_KIND: "action", CONF_ACTION: "script.snap"}, "invalid_action", CONF_ACTION),
        ({CONF_KIND: "action"}, "action_required", CONF_ACTION),
        ({CONF_KIND: "camera"}, "camera_entity_required", "camera_entity"),
        ({CONF_CAPTURE_WINDOW_END: "25:00"}, "invalid_time", CONF_CAPTURE_WINDOW_END),
        ({CONF_CAPTURE_WINDOW_END: 2000}, "invalid_time", CONF_CAPTURE_WINDOW_END),
        ({"capture_interval_seconds": True}, "invalid_value", "capture_interval_seconds"),
        ({"capture_interval_seconds": 0}, "invalid_value", "capture_interval_seconds"),
        ({"auto_start": "on"}, "invalid_value", "auto_start"),
        ({"entities": "sensor.t"}, "invalid_value", "entities"),
    ],
)
def test_recording_validation(changes: dict[str, Any], key: str, field: str) -> None:
    with pytest.raises(InvalidConfigError) as err:
        RecordingSensorSettings.from_data(_recording(**changes))
    assert (err.value.key, err.value.field) == (key, field)
