"""Printer subentry flow: add, errors, unique names, reconfigure.

Adding takes two steps (name and status entity, then the full form): `add_printer`
drives both with one input; the proposals of the second step are in
test_flow_proposals.py.
"""

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.makerspace_hub.const import (
    CONF_ACTION,
    CONF_CAMERA_ENTITY,
    CONF_GRACE_MINUTES,
    CONF_NAME,
    CONF_PAUSE_ENTITY,
    CONF_PAUSED_STATES,
    CONF_POLL_INTERVAL,
    CONF_POWER_ENTITY,
    CONF_PRINTING_STATES,
    CONF_SENSITIVITY,
    CONF_STATUS_ENTITY,
    SUBENTRY_PRINTER,
)

from ..conftest import subentry_by_title
from ..flow_helpers import configure_flow, reconfigure_flow, setup_mill_hub, start_flow


@pytest.fixture
async def hub(hass: HomeAssistant) -> ConfigEntry:
    """A hub with one machine (metal-mill), set up."""
    return await setup_mill_hub(hass)


async def add_printer(
    hass: HomeAssistant, hub: ConfigEntry, user_input: dict[str, Any]
) -> dict[str, Any]:
    """Add a printer with `user_input`: its name and status entity, then the rest."""
    result = await start_flow(hass, hub, SUBENTRY_PRINTER)
    assert result["step_id"] == "user"
    first = {key: user_input[key] for key in (CONF_NAME, CONF_STATUS_ENTITY)}
    result = await configure_flow(hass, result, first)
    if result.get("step_id") != "printer":
        return result  # the first step refused the name
    return await configure_flow(hass, result, user_input)


def _printer_input(**changes: Any) -> dict[str, Any]:
    return {
        CONF_NAME: "Prusa MK4",
        CONF_CAMERA_ENTITY: "camera.prusa",
        CONF_STATUS_ENTITY: "sensor.prusa_status",
        CONF_PRINTING_STATES: ["printing"],
        CONF_PAUSED_STATES: ["paused"],
        CONF_ACTION: "notify",
        CONF_SENSITIVITY: 1.0,
        CONF_POLL_INTERVAL: 10.0,
    } | changes


async def test_add_printer(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await start_flow(hass, hub, SUBENTRY_PRINTER)
    result = await configure_flow(
        hass, result, {CONF_NAME: "Prusa MK4", CONF_STATUS_ENTITY: "sensor.prusa_status"}
    )
    assert result["step_id"] == "printer"
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested[CONF_PRINTING_STATES] == ["printing", "running"]
    assert suggested[CONF_POLL_INTERVAL] == 10
    result = await configure_flow(
        hass,
        result,
        _printer_input(
            action="pause_and_off",
            pause_entity="button.prusa_pause",
            power_entity="switch.prusa_power",
            printing_states=[" printing ", "", "running"],
            sensitivity=1.15,
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    printer = subentry_by_title(hub, "Prusa MK4")
    assert printer.unique_id == "prusa_mk4"
    assert printer.data == {
        CONF_NAME: "Prusa MK4",
        CONF_CAMERA_ENTITY: "camera.prusa",
        CONF_STATUS_ENTITY: "sensor.prusa_status",
        CONF_PRINTING_STATES: ["printing", "running"],
        CONF_PAUSED_STATES: ["paused"],
        CONF_ACTION: "pause_and_off",
        CONF_PAUSE_ENTITY: "button.prusa_pause",
        CONF_POWER_ENTITY: "switch.prusa_power",
        CONF_SENSITIVITY: 1.15,
        CONF_POLL_INTERVAL: 10,
        CONF_GRACE_MINUTES: 0,
    }


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_NAME: "  "}, {CONF_NAME: "name_required"}),
        ({CONF_PRINTING_STATES: [" "]}, {CONF_PRINTING_STATES: "printing_states_required"}),
        ({CONF_ACTION: "pause"}, {CONF_PAUSE_ENTITY: "pause_entity_required"}),
        (
            {CONF_ACTION: "pause_and_off", CONF_PAUSE_ENTITY: "button.p"},
            {CONF_POWER_ENTITY: "power_entity_required"},
        ),
    ],
)
async def test_printer_errors(
    hass: HomeAssistant, hub: ConfigEntry, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await add_printer(hass, hub, _printer_input(**changes))
    assert result["errors"] == errors


async def test_printer_names_are_unique_by_slug(hass: HomeAssistant, hub: ConfigEntry) -> None:
    await add_printer(hass, hub, _printer_input())
    result = await add_printer(hass, hub, _printer_input(name="prusa mk4"))
    assert result["errors"] == {CONF_NAME: "name_taken"}


async def test_reconfigure_printer(hass: HomeAssistant, hub: ConfigEntry) -> None:
    await add_printer(hass, hub, _printer_input())
    result = await reconfigure_flow(hass, hub, SUBENTRY_PRINTER, "Prusa MK4")
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested[CONF_CAMERA_ENTITY] == "camera.prusa"
    result = await configure_flow(
        hass, result, _printer_input(name="Prusa MK4", poll_interval=30.0)
    )
    assert result["reason"] == "reconfigure_successful"
    assert subentry_by_title(hub, "Prusa MK4").data[CONF_POLL_INTERVAL] == 30
