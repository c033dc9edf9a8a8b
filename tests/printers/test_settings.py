"""A printer's settings without Home Assistant: read, stored, and every refusal."""

from typing import Any

import pytest

from custom_components.makerspace_hub.const import (
    CONF_ACTION,
    CONF_NAME,
    CONF_SENSITIVITY,
)
from custom_components.makerspace_hub.printers.settings import PrinterSettings
from custom_components.makerspace_hub.validation import InvalidConfigError


def printer(**changes: Any) -> dict[str, Any]:
    data = {"name": "Prusa", "camera_entity": "camera.p", "status_entity": "sensor.p"}
    return {key: value for key, value in (data | changes).items() if value is not ...}


def test_every_setting_is_read_and_stored() -> None:
    data = printer(
        printing_states=["printing"],
        paused_states=[],
        action="pause_and_off",
        pause_entity=" button.pause ",
        power_entity="switch.plug",
        sensitivity=1,
        poll_interval=30.0,  # number selectors give floats
        grace_minutes=10.0,
    )
    settings = PrinterSettings.from_data(data)
    assert settings == PrinterSettings(
        name="Prusa",
        camera_entity="camera.p",
        status_entity="sensor.p",
        printing_states=("printing",),
        paused_states=(),
        action="pause_and_off",
        pause_entity="button.pause",
        power_entity="switch.plug",
        sensitivity=1.0,
        poll_interval=30,
        grace_minutes=10,
    )
    assert isinstance(settings.sensitivity, float)
    assert isinstance(settings.poll_interval, int)
    assert settings.as_data() == {
        "name": "Prusa",
        "camera_entity": "camera.p",
        "status_entity": "sensor.p",
        "printing_states": ["printing"],
        "paused_states": [],
        "action": "pause_and_off",
        "pause_entity": "button.pause",
        "power_entity": "switch.plug",
        "sensitivity": 1.0,
        "poll_interval": 30,
        "grace_minutes": 10,
    }
    assert PrinterSettings.from_data(settings.as_data()) == settings


@pytest.mark.parametrize("minutes", [-1, 241, 2.5, "ten", True])
def test_a_bad_grace_period_is_refused(minutes: object) -> None:
    with pytest.raises(InvalidConfigError) as err:
        PrinterSettings.from_data(printer(grace_minutes=minutes))
    assert err.value.field == "grace_minutes"


def test_blank_entities_are_left_out() -> None:
    settings = PrinterSettings.from_data(printer(pause_entity="  ", power_entity=""))
    assert (settings.pause_entity, settings.power_entity) == (None, None)
    data = settings.as_data()
    assert "pause_entity" not in data
    assert "power_entity" not in data
    assert PrinterSettings.from_data(data) == settings


def test_names_and_entities_are_stripped() -> None:
    settings = PrinterSettings.from_data(printer(name=" Prusa ", camera_entity=" camera.p"))
    assert (settings.name, settings.camera_entity) == ("Prusa", "camera.p")


@pytest.mark.parametrize(
    ("changes", "key", "field"),
    [
        ({"name": ...}, "name_required", "name"),
        ({"name": "  "}, "name_required", "name"),
        ({"name": 7}, "invalid_value", "name"),
        ({"camera_entity": ...}, "camera_entity_required", "camera_entity"),
        ({"camera_entity": None}, "camera_entity_required", "camera_entity"),
        ({"camera_entity": ["camera.p"]}, "invalid_value", "camera_entity"),
        ({"status_entity": ...}, "status_entity_required", "status_entity"),
        ({"status_entity": ""}, "status_entity_required", "status_entity"),
        ({"printing_states": []}, "printing_states_required", "printing_states"),
        ({"printing_states": "printing"}, "invalid_value", "printing_states"),
        ({"printing_states": ["printing", 1]}, "invalid_value", "printing_states"),
        ({"paused_states": None}, "invalid_value", "paused_states"),
        ({"paused_states": [None]}, "invalid_value", "paused_states"),
        ({"action": "explode"}, "invalid_value", "action"),
        ({"action": None}, "invalid_value", "action"),
        ({"action": "pause"}, "pause_entity_required", "pause_entity"),
        ({"action": "pause", "pause_entity": " "}, "pause_entity_required", "pause_entity"),
        ({"action": "pause_and_off"}, "pause_entity_required", "pause_entity"),
        (
            {"action": "pause_and_off", "pause_entity": "button.p"},
            "power_entity_required",
            "power_entity",
        ),
        ({"pause_entity": 3}, "invalid_value", "pause_entity"),
        ({"power_entity": True}, "invalid_value", "power_entity"),
        ({"sensitivity": 0.79}, "invalid_value", "sensitivity"),
        ({"sensitivity": 1.21}, "invalid_value", "sensitivity"),
        ({"sensitivity": float("nan")}, "invalid_value", "sensitivity"),
        ({"sensitivity": "high"}, "invalid_value", "sensitivity"),
        ({"sensitivity": True}, "invalid_value", "sensitivity"),
        ({"sensitivity": None}, "invalid_value", "sensitivity"),
        ({"poll_interval": 4}, "invalid_value", "poll_interval"),
        ({"poll_interval": 10.5}, "invalid_value", "poll_interval"),
        ({"poll_interval": "10"}, "invalid_value", "poll_interval"),
        ({"poll_interval": True}, "invalid_value", "poll_interval"),
    ],
)
def test_every_refusal_names_its_field(changes: dict[str, Any], key: str, field: str) -> None:
    with pytest.raises(InvalidConfigError) as err:
        PrinterSettings.from_data(printer(**changes))
    assert (err.value.key, err.value.field) == (key, field)


@pytest.mark.parametrize(("sensitivity", "poll_interval"), [(0.8, 5), (1.2, 3600)])
def test_the_limits_are_allowed(sensitivity: float, poll_interval: int) -> None:
    settings = PrinterSettings.from_data(
        printer(sensitivity=sensitivity, poll_interval=poll_interval)
    )
    assert (settings.sensitivity, settings.poll_interval) == (sensitivity, poll_interval)


def test_a_notifying_printer_needs_no_pause_entity() -> None:
    settings = PrinterSettings.from_data(printer(action="notify"))
    assert settings.pause_entity is None
    with_power = PrinterSettings.from_data(printer(action="pause", pause_entity="button.p"))
    assert with_power.power_entity is None


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
