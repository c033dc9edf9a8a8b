"""The pure configuration model: defaults, validation and the stored shape."""

from datetime import time
from typing import Any

import pytest

from custom_components.makerspace_hub.const import (
    CONF_ACTION,
    CONF_CAPTURE_WINDOW_END,
    CONF_KIND,
    CONF_NAME,
    CONF_SECOND_RELAY,
    CONF_SENSITIVITY,
)
from custom_components.makerspace_hub.hub_options import HubOptions
from custom_components.makerspace_hub.machines.dm_mac_import import parse_machines_json
from custom_components.makerspace_hub.machines.settings import MachineSettings
from custom_components.makerspace_hub.printers.settings import PrinterSettings
from custom_components.makerspace_hub.recording.settings import (
    RecordingSensorSettings,
    resolve_recordings_dir,
)
from custom_components.makerspace_hub.validation import InvalidConfigError, resolve_config_path


def test_hub_settings_defaults_round_trip() -> None:
    settings = HubOptions.from_options({})
    assert settings == HubOptions()
    assert HubOptions.from_options(settings.as_options()) == settings
    assert "ml_api_token" not in repr(HubOptions(ml_api_token="secret-token"))


def test_hub_settings_keep_make_usable_for_admins_by_default() -> None:
    assert HubOptions.from_options({}).non_admins_make_usable is False
    settings = HubOptions.from_options({"non_admins_make_usable": True})
    assert settings.non_admins_make_usable is True
    assert settings.as_options()["non_admins_make_usable"] is True
    assert HubOptions.from_options(settings.as_options()) == settings


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_hub_settings_reject_a_non_boolean_non_admin_option(value: object) -> None:
    with pytest.raises(InvalidConfigError) as err:
        HubOptions.from_options({"non_admins_make_usable": value})
    assert err.value.field == "non_admins_make_usable"


@pytest.mark.parametrize("days", [-1, 366, 7.5, True])
def test_hub_settings_reject_bad_grace_periods(days: object) -> None:
    with pytest.raises(InvalidConfigError):
        HubOptions.from_options({"expiry_grace_days": days})


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
def test_resolve_recordings_dir(value: str, config_dir: str, media: str, expected: str) -> None:
    assert resolve_recordings_dir(value, config_dir, media) == expected


def test_resolve_config_path() -> None:
    assert (
        resolve_config_path("makerspace_hub/users.json", "/config")
        == "/config/makerspace_hub/users.json"
    )
    assert resolve_config_path("/srv/users.json", "/config") == "/srv/users.json"


def test_machine_round_trip_with_second_relay() -> None:
    data = {
        CONF_NAME: "saw",
        "alias": "Table saw",
        "authorizations_or": ["Wood"],
        "unauthorized_warn_only": True,
        "always_enabled": False,
        "webhook_id": "w" * 64,
        CONF_SECOND_RELAY: {
            "authorizations_or": ["Dust"],
            "unauthorized_warn_only": False,
            "always_enabled": True,
            "alias": "Dust",
        },
    }
    machine = MachineSettings.from_data(data)
    assert machine.display_name == "Table saw"
    assert machine.as_data() == data
    assert "w" * 64 not in repr(machine)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({CONF_NAME: None}, CONF_NAME),
        ({CONF_NAME: "ok", "authorizations_or": [1]}, "authorizations_or"),
        ({CONF_NAME: "ok", "always_enabled": 1}, "always_enabled"),
        ({CONF_NAME: "ok", "alias": 5}, "alias"),
        ({CONF_NAME: "ok", CONF_SECOND_RELAY: "yes"}, CONF_SECOND_RELAY),
    ],
)
def test_machine_validation(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidConfigError) as err:
        MachineSettings.from_data(data)
    assert err.value.field == field


def _recording(**changes: Any) -> dict[str, Any]:
    return {CONF_NAME: "hive", CONF_KIND: "samples", "entities": ["sensor.t"]} | changes


def test_recording_defaults_are_beemons() -> None:
    sensor = RecordingSensorSettings.from_data(_recording())
    assert sensor.capture_window_start == time(8)
    assert sensor.capture_window_end == time(20)
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


def _printer(**changes: Any) -> dict[str, Any]:
    return {CONF_NAME: "Prusa", "camera_entity": "camera.p", "status_entity": "sensor.p"} | changes


def test_printer_defaults() -> None:
    printer = PrinterSettings.from_data(_printer())
    assert printer.printing_states == ("printing", "running")
    assert printer.paused_states == ("paused", "pause")
    assert printer.action == "notify"
    assert printer.sensitivity == 1.0
    assert printer.poll_interval == 10
    assert PrinterSettings.from_data(printer.as_data()) == printer


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({CONF_SENSITIVITY: 1.3}, CONF_SENSITIVITY),
        ({CONF_SENSITIVITY: "high"}, CONF_SENSITIVITY),
        ({CONF_ACTION: "explode"}, CONF_ACTION),
        ({"poll_interval": 4}, "poll_interval"),
        ({"camera_entity": None}, "camera_entity"),
    ],
)
def test_printer_validation(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidConfigError) as err:
        PrinterSettings.from_data(_printer(**changes))
    assert err.value.field == field


def test_dm_mac_import_keeps_file_order_and_exact_authorizations() -> None:
    machines = parse_machines_json(
        '{"b-saw": {"authorizations_or": ["Wood Shop "]}, "a-laser": {"authorizations_or": []}}',
        existing_names=(),
    )
    assert [m.name for m in machines] == ["b-saw", "a-laser"]
    # Authorization names are exact, case-sensitive strings: nothing is trimmed.
    assert machines[0].authorizations_or == ("Wood Shop ",)
