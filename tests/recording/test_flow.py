"""Recording sensor subentry flow: every kind, schedule errors, reconfigure."""

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.makerspace_hub.const import (
    CONF_ACTION,
    CONF_AUTO_START,
    CONF_CAMERA_ENTITY,
    CONF_CAPTURE_DURATION_SECONDS,
    CONF_CAPTURE_INTERVAL_SECONDS,
    CONF_CAPTURE_WINDOW_END,
    CONF_CAPTURE_WINDOW_START,
    CONF_ENTITIES,
    CONF_KEEP_DAYS,
    CONF_KIND,
    CONF_NAME,
    CONF_WEEKDAYS,
    SUBENTRY_RECORDING_SENSOR,
)

from ..conftest import TRANSLATIONS, subentry_by_title
from ..flow_helpers import configure_flow, reconfigure_flow, setup_mill_hub, start_flow


@pytest.fixture
async def hub(hass: HomeAssistant) -> ConfigEntry:
    """A hub with one machine (metal-mill), set up."""
    return await setup_mill_hub(hass)


SCHEDULE = {
    CONF_CAPTURE_WINDOW_START: "08:00:00",
    CONF_CAPTURE_WINDOW_END: "20:00:00",
    CONF_CAPTURE_DURATION_SECONDS: 60.0,
    CONF_CAPTURE_INTERVAL_SECONDS: 300.0,
    CONF_AUTO_START: True,
}


async def _recording(
    hass: HomeAssistant, entry: ConfigEntry, name: str, kind: str
) -> dict[str, Any]:
    result = await start_flow(hass, entry, SUBENTRY_RECORDING_SENSOR)
    assert result["step_id"] == "user"
    return await configure_flow(hass, result, {CONF_NAME: name, CONF_KIND: kind})


async def test_add_camera_recording_sensor(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _recording(hass, hub, "hive-video", "camera")
    assert result["step_id"] == "camera"
    assert result["description_placeholders"] == {CONF_NAME: "hive-video"}
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested[CONF_CAPTURE_WINDOW_START] == "08:00:00"
    assert suggested[CONF_CAPTURE_INTERVAL_SECONDS] == 300
    result = await configure_flow(hass, result, SCHEDULE | {CONF_CAMERA_ENTITY: "camera.hive"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    sensor = subentry_by_title(hub, "hive-video")
    assert sensor.unique_id == "hive-video"
    assert sensor.data == {
        CONF_NAME: "hive-video",
        CONF_KIND: "camera",
        CONF_CAMERA_ENTITY: "camera.hive",
        CONF_CAPTURE_WINDOW_START: "08:00:00",
        CONF_CAPTURE_WINDOW_END: "20:00:00",
        CONF_CAPTURE_DURATION_SECONDS: 60,
        CONF_CAPTURE_INTERVAL_SECONDS: 300,
        CONF_AUTO_START: True,
        CONF_WEEKDAYS: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],  # defaults
        CONF_KEEP_DAYS: 0,
    }


async def test_add_samples_recording_sensor(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _recording(hass, hub, "hive-climate", "samples")
    result = await configure_flow(hass, result, SCHEDULE | {CONF_ENTITIES: []})
    assert result["errors"] == {CONF_ENTITIES: "entities_required"}
    result = await configure_flow(
        hass,
        result,
        SCHEDULE
        | {
            CONF_ENTITIES: ["sensor.hive_temperature", "sensor.hive_humidity"],
            CONF_CAPTURE_WINDOW_START: "22:00:00",
            CONF_CAPTURE_WINDOW_END: "04:00:00",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = subentry_by_title(hub, "hive-climate").data
    assert data[CONF_ENTITIES] == ["sensor.hive_temperature", "sensor.hive_humidity"]
    assert data[CONF_CAPTURE_WINDOW_START] == "22:00:00"


async def test_add_action_recording_sensor(hass: HomeAssistant, hub: ConfigEntry) -> None:
    action = [{"action": "logbook.log", "data": {"name": "hive", "message": "{{ filename }}"}}]
    result = await _recording(hass, hub, "hive-audio", "action")
    result = await configure_flow(hass, result, SCHEDULE | {CONF_ACTION: []})
    assert result["errors"] == {CONF_ACTION: "action_required"}
    result = await configure_flow(hass, result, SCHEDULE | {CONF_ACTION: [{"not_an_action": 1}]})
    assert result["errors"] == {CONF_ACTION: "invalid_action"}
    assert result["description_placeholders"]["error"]
    result = await configure_flow(hass, result, SCHEDULE | {CONF_ACTION: action})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert subentry_by_title(hub, "hive-audio").data[CONF_ACTION] == action


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        (
            {CONF_CAPTURE_DURATION_SECONDS: 301.0},
            {CONF_CAPTURE_DURATION_SECONDS: "duration_longer_than_interval"},
        ),
        ({CONF_CAPTURE_DURATION_SECONDS: 1.5}, {CONF_CAPTURE_DURATION_SECONDS: "invalid_value"}),
    ],
)
async def test_recording_schedule_errors(
    hass: HomeAssistant, hub: ConfigEntry, user_input: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await _recording(hass, hub, "hive-video", "camera")
    result = await configure_flow(
        hass, result, SCHEDULE | {CONF_CAMERA_ENTITY: "camera.hive"} | user_input
    )
    assert result["errors"] == errors


async def test_recording_sensor_name_errors(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _recording(hass, hub, "Hive Video", "camera")
    assert result["errors"] == {CONF_NAME: "invalid_name"}
    result = await configure_flow(hass, result, {CONF_NAME: "hive", CONF_KIND: "camera"})
    result = await configure_flow(hass, result, SCHEDULE | {CONF_CAMERA_ENTITY: "camera.hive"})
    result = await _recording(hass, hub, "hive", "samples")
    assert result["errors"] == {CONF_NAME: "name_taken"}


async def test_reconfigure_recording_sensor_to_another_kind(
    hass: HomeAssistant, hub: ConfigEntry
) -> None:
    result = await _recording(hass, hub, "hive", "camera")
    await configure_flow(
        hass,
        result,
        SCHEDULE | {CONF_CAMERA_ENTITY: "camera.hive", CONF_CAPTURE_INTERVAL_SECONDS: 600.0},
    )

    result = await reconfigure_flow(hass, hub, SUBENTRY_RECORDING_SENSOR, "hive")
    assert result["step_id"] == "reconfigure"
    result = await configure_flow(hass, result, {CONF_NAME: "hive-temp", CONF_KIND: "samples"})
    assert result["step_id"] == "samples"
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested[CONF_CAPTURE_INTERVAL_SECONDS] == 600  # the schedule carries over
    result = await configure_flow(
        hass, result, SCHEDULE | {CONF_ENTITIES: ["sensor.hive_temperature"]}
    )
    assert result["reason"] == "reconfigure_successful"
    sensor = subentry_by_title(hub, "hive-temp")
    assert sensor.unique_id == "hive-temp"
    assert CONF_CAMERA_ENTITY not in sensor.data
    assert sensor.data[CONF_ENTITIES] == ["sensor.hive_temperature"]


@pytest.mark.parametrize("kind", ["camera", "samples", "action"])
async def test_the_schedule_form_explains_sun_times_days_and_retention(
    hass: HomeAssistant, hub: ConfigEntry, kind: str
) -> None:
    result = await _recording(hass, hub, "hive", kind)
    shown = {str(marker) for marker in result["data_schema"].schema}
    assert {CONF_WEEKDAYS, CONF_KEEP_DAYS} <= shown
    described = TRANSLATIONS["config_subentries"]["recording_sensor"]["step"][kind][
        "data_description"
    ]
    for key in (CONF_CAPTURE_WINDOW_START, CONF_CAPTURE_WINDOW_END, CONF_WEEKDAYS, CONF_KEEP_DAYS):
        assert described[key]
    assert (
        "sunset-01:00"
        in TRANSLATIONS["config_subentries"]["recording_sensor"]["error"]["invalid_time"]
    )


async def test_reconfigure_to_a_sun_window_on_some_days_with_retention(
    hass: HomeAssistant, hub: ConfigEntry
) -> None:
    result = await _recording(hass, hub, "hive", "samples")
    await configure_flow(hass, result, SCHEDULE | {CONF_ENTITIES: ["sensor.t"]})
    result = await reconfigure_flow(hass, hub, SUBENTRY_RECORDING_SENSOR, "hive")
    result = await configure_flow(hass, result, {CONF_NAME: "hive", CONF_KIND: "samples"})
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested[CONF_WEEKDAYS] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert suggested[CONF_KEEP_DAYS] == 0
    sun = {CONF_ENTITIES: ["sensor.t"], CONF_CAPTURE_WINDOW_START: "Sunrise - 0:30"}
    result = await configure_flow(hass, result, SCHEDULE | sun | {CONF_WEEKDAYS: []})
    assert result["errors"] == {CONF_WEEKDAYS: "weekdays_required"}
    result = await configure_flow(
        hass, result, SCHEDULE | sun | {CONF_CAPTURE_WINDOW_END: "sundown"}
    )
    assert result["errors"] == {CONF_CAPTURE_WINDOW_END: "invalid_time"}
    result = await configure_flow(
        hass,
        result,
        SCHEDULE
        | sun
        | {
            CONF_CAPTURE_WINDOW_END: "sunset+01:00",
            CONF_WEEKDAYS: ["sat", "wed"],
            CONF_KEEP_DAYS: 30.0,
        },
    )
    assert result["reason"] == "reconfigure_successful"
    data = subentry_by_title(hub, "hive").data
    assert data[CONF_CAPTURE_WINDOW_START] == "sunrise-00:30"
    assert data[CONF_CAPTURE_WINDOW_END] == "sunset+01:00"
    assert data[CONF_WEEKDAYS] == ["wed", "sat"]
    assert data[CONF_KEEP_DAYS] == 30
    await hass.async_block_till_done()
    sensor = next(iter(hub.runtime_data.recording_sensors.values()))
    assert sensor.settings.keep_days == 30  # the hub reloaded with it


# --- printers -------------------------------------------------------------------------
