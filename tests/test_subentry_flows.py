"""Subentry flows: machines (add, second relay, reconfigure, dm_mac import), recording
sensors and printers. Every step, error and abort."""

import json
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.makerspace_hub.const import (
    CONF_ACTION,
    CONF_ALIAS,
    CONF_ALWAYS_ENABLED,
    CONF_AUTHORIZATIONS_OR,
    CONF_AUTO_START,
    CONF_CAMERA_ENTITY,
    CONF_CAPTURE_DURATION_SECONDS,
    CONF_CAPTURE_INTERVAL_SECONDS,
    CONF_CAPTURE_WINDOW_END,
    CONF_CAPTURE_WINDOW_START,
    CONF_ENTITIES,
    CONF_KIND,
    CONF_NAME,
    CONF_PAUSE_ENTITY,
    CONF_PAUSED_STATES,
    CONF_POLL_INTERVAL,
    CONF_POWER_ENTITY,
    CONF_PRINTING_STATES,
    CONF_SECOND_RELAY,
    CONF_SENSITIVITY,
    CONF_STATUS_ENTITY,
    CONF_UNAUTHORIZED_WARN_ONLY,
    CONF_WEBHOOK_ID,
    SUBENTRY_MACHINE,
    SUBENTRY_PRINTER,
    SUBENTRY_RECORDING_SENSOR,
)
from custom_components.makerspace_hub.machines.board_gate import CONF_RETIRED_WEBHOOK_IDS

from .conftest import HUB_WEBHOOK_ID, make_hub_entry, make_subentry, setup_hub, subentry_by_title

MILL = {
    CONF_NAME: "metal-mill",
    CONF_AUTHORIZATIONS_OR: ["Metal Mill"],
    CONF_UNAUTHORIZED_WARN_ONLY: False,
    CONF_ALWAYS_ENABLED: False,
    CONF_WEBHOOK_ID: "b" * 64,
}


@pytest.fixture
async def hub(hass: HomeAssistant) -> ConfigEntry:
    """A hub with one machine (metal-mill), set up."""
    return await setup_hub(
        hass, make_hub_entry(subentries=[make_subentry("machine", "metal-mill", MILL)])
    )


async def _start(hass: HomeAssistant, entry: ConfigEntry, kind: str) -> dict[str, Any]:
    return dict(
        await hass.config_entries.subentries.async_init(
            (entry.entry_id, kind), context={"source": "user"}
        )
    )


async def _reconfigure(
    hass: HomeAssistant, entry: ConfigEntry, kind: str, title: str
) -> dict[str, Any]:
    return dict(
        await hass.config_entries.subentries.async_init(
            (entry.entry_id, kind),
            context={
                "source": "reconfigure",
                "subentry_id": subentry_by_title(entry, title).subentry_id,
            },
        )
    )


async def _configure(
    hass: HomeAssistant, result: dict[str, Any], user_input: dict[str, Any]
) -> dict[str, Any]:
    result = dict(
        await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)
    )
    await hass.async_block_till_done()  # a new or changed subentry reloads the hub
    return result


def _machine_input(**changes: Any) -> dict[str, Any]:
    return {
        CONF_NAME: "laser",
        CONF_AUTHORIZATIONS_OR: ["Laser 101"],
        CONF_UNAUTHORIZED_WARN_ONLY: False,
        CONF_ALWAYS_ENABLED: False,
        "has_second_relay": False,
    } | changes


async def _add_machine_form(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any]:
    result = await _start(hass, entry, SUBENTRY_MACHINE)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["machine", "import_dm_mac"]
    result = await _configure(hass, result, {"next_step_id": "machine"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "machine"
    return result


# --- machines ---------------------------------------------------------------------


async def test_add_machine_shows_its_board_urls(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _add_machine_form(hass, hub)
    result = await _configure(
        hass,
        result,
        _machine_input(
            **{
                CONF_ALIAS: " Laser cutter ",
                CONF_AUTHORIZATIONS_OR: [" Laser 101 ", "", "Laser 101", "Laser Pro"],
            }
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["description"] == "board_urls"
    laser = subentry_by_title(hub, "Laser cutter")
    webhook_id = laser.data[CONF_WEBHOOK_ID]
    assert laser.unique_id == "laser"
    assert laser.data == {
        CONF_NAME: "laser",
        CONF_ALIAS: "Laser cutter",
        CONF_AUTHORIZATIONS_OR: ["Laser 101", "Laser Pro"],
        CONF_UNAUTHORIZED_WARN_ONLY: False,
        CONF_ALWAYS_ENABLED: False,
        CONF_WEBHOOK_ID: webhook_id,
    }
    assert len(webhook_id) == 64
    assert webhook_id not in (MILL[CONF_WEBHOOK_ID], HUB_WEBHOOK_ID)
    placeholders = result["description_placeholders"]
    assert placeholders["board_url"].endswith(f"/api/webhook/{webhook_id}")
    assert placeholders["hub_url"].endswith(f"/api/webhook/{HUB_WEBHOOK_ID}")


async def test_board_url_uses_the_internal_url(hass: HomeAssistant, hub: ConfigEntry) -> None:
    hass.config.internal_url = "http://192.168.1.10:8123"
    result = await _add_machine_form(hass, hub)
    result = await _configure(hass, result, _machine_input())
    webhook_id = subentry_by_title(hub, "laser").data[CONF_WEBHOOK_ID]
    assert (
        result["description_placeholders"]["board_url"]
        == f"http://192.168.1.10:8123/api/webhook/{webhook_id}"
    )


async def test_board_url_without_any_known_address(hass: HomeAssistant, hub: ConfigEntry) -> None:
    hass.config.api = None  # no HTTP server address known, no URL configured
    result = await _add_machine_form(hass, hub)
    result = await _configure(hass, result, _machine_input())
    webhook_id = subentry_by_title(hub, "laser").data[CONF_WEBHOOK_ID]
    assert (
        result["description_placeholders"]["board_url"]
        == f"http://<home-assistant-address>:8123/api/webhook/{webhook_id}"
    )


async def test_add_machine_with_a_second_relay(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _add_machine_form(hass, hub)
    result = await _configure(hass, result, _machine_input(has_second_relay=True))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "second_relay"
    # Authorizations already used in the hub are offered.
    selector = next(
        v for k, v in result["data_schema"].schema.items() if str(k) == CONF_AUTHORIZATIONS_OR
    )
    assert selector.config["options"] == ["Metal Mill"]
    result = await _configure(
        hass,
        result,
        {
            CONF_ALIAS: "Dust collector",
            CONF_AUTHORIZATIONS_OR: ["Dust 101"],
            CONF_UNAUTHORIZED_WARN_ONLY: True,
            CONF_ALWAYS_ENABLED: False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert subentry_by_title(hub, "laser").data[CONF_SECOND_RELAY] == {
        CONF_ALIAS: "Dust collector",
        CONF_AUTHORIZATIONS_OR: ["Dust 101"],
        CONF_UNAUTHORIZED_WARN_ONLY: True,
        CONF_ALWAYS_ENABLED: False,
    }


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("Laser Cutter", "invalid_name"),
        ("laser.1", "invalid_name"),
        ("", "invalid_name"),
        ("metal-mill", "name_taken"),
    ],
)
async def test_add_machine_name_errors(
    hass: HomeAssistant, hub: ConfigEntry, name: str, error: str
) -> None:
    result = await _add_machine_form(hass, hub)
    result = await _configure(hass, result, _machine_input(name=name))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: error}


async def test_reconfigure_machine_keeps_its_webhook(hass: HomeAssistant, hub: ConfigEntry) -> None:
    hass.config.internal_url = "http://192.168.1.10:8123"
    result = await _reconfigure(hass, hub, SUBENTRY_MACHINE, "metal-mill")
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {
        "board_url": f"http://192.168.1.10:8123/api/webhook/{MILL[CONF_WEBHOOK_ID]}",
        "hub_url": f"http://192.168.1.10:8123/api/webhook/{HUB_WEBHOOK_ID}",
    }
    # Keeping its own name is fine; another machine's name is not.
    result = await _configure(
        hass,
        result,
        _machine_input(name="metal-mill", **{CONF_ALIAS: "Bridgeport", CONF_ALWAYS_ENABLED: True}),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    mill = subentry_by_title(hub, "Bridgeport")
    assert mill.data[CONF_WEBHOOK_ID] == MILL[CONF_WEBHOOK_ID]
    assert mill.data[CONF_ALWAYS_ENABLED] is True
    assert mill.data[CONF_AUTHORIZATIONS_OR] == ["Laser 101"]


async def test_reconfigure_machine_edits_and_removes_its_second_relay(hass: HomeAssistant) -> None:
    entry = await setup_hub(
        hass,
        make_hub_entry(
            subentries=[
                make_subentry(
                    "machine",
                    "metal-mill",
                    MILL
                    | {
                        CONF_SECOND_RELAY: {
                            CONF_AUTHORIZATIONS_OR: ["Coolant"],
                            CONF_UNAUTHORIZED_WARN_ONLY: False,
                            CONF_ALWAYS_ENABLED: True,
                        }
                    },
                ),
                make_subentry(
                    "machine", "lathe", MILL | {CONF_NAME: "lathe", CONF_WEBHOOK_ID: "c" * 64}
                ),
            ]
        ),
    )
    result = await _reconfigure(hass, entry, SUBENTRY_MACHINE, "metal-mill")
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested["has_second_relay"] is True
    result = await _configure(hass, result, _machine_input(name="lathe", has_second_relay=True))
    assert result["errors"] == {CONF_NAME: "name_taken"}
    result = await _configure(
        hass, result, _machine_input(name="metal-mill", has_second_relay=True)
    )
    assert result["step_id"] == "second_relay"
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested[CONF_AUTHORIZATIONS_OR] == ["Coolant"]
    assert suggested[CONF_ALWAYS_ENABLED] is True
    result = await _configure(
        hass,
        result,
        {
            CONF_UNAUTHORIZED_WARN_ONLY: False,
            CONF_ALWAYS_ENABLED: False,
            CONF_AUTHORIZATIONS_OR: ["Coolant 2"],
        },
    )
    assert result["reason"] == "reconfigure_successful"
    assert subentry_by_title(entry, "metal-mill").data[CONF_SECOND_RELAY] == {
        CONF_AUTHORIZATIONS_OR: ["Coolant 2"],
        CONF_UNAUTHORIZED_WARN_ONLY: False,
        CONF_ALWAYS_ENABLED: False,
    }

    result = await _reconfigure(hass, entry, SUBENTRY_MACHINE, "metal-mill")
    result = await _configure(hass, result, _machine_input(name="metal-mill"))
    assert result["reason"] == "reconfigure_successful"
    assert CONF_SECOND_RELAY not in subentry_by_title(entry, "metal-mill").data


# --- dm_mac import ------------------------------------------------------------------

DM_MAC_MACHINES = {
    "laser": {"authorizations_or": ["Laser 101"], "alias": "Glowforge"},
    "woodshop-saw": {
        "authorizations_or": ["Woodshop 101", "Woodshop Staff"],
        "unauthorized_warn_only": True,
        "second_relay": {
            "authorizations_or": ["Dust"],
            "unauthorized_warn_only": False,
            "always_enabled": True,
            "alias": "Dust collector",
        },
    },
    "compressor": {"authorizations_or": [], "always_enabled": True},
}


async def _import(hass: HomeAssistant, entry: ConfigEntry, text: str) -> dict[str, Any]:
    result = await _start(hass, entry, SUBENTRY_MACHINE)
    result = await _configure(hass, result, {"next_step_id": "import_dm_mac"})
    assert result["step_id"] == "import_dm_mac"
    return await _configure(hass, result, {"machines_json": text})


async def test_import_dm_mac_creates_one_machine_per_entry_and_reloads_once(
    hass: HomeAssistant, hub: ConfigEntry
) -> None:
    reloads = 0
    original = hass.config_entries.async_reload

    async def counting_reload(entry_id: str) -> bool:
        nonlocal reloads
        reloads += 1
        return await original(entry_id)

    hass.config_entries.async_reload = counting_reload  # type: ignore[method-assign]
    result = await _import(hass, hub, json.dumps(DM_MAC_MACHINES))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "machines_imported"
    assert result["description_placeholders"] == {
        "count": "3",
        "names": "laser, woodshop-saw, compressor",
    }
    assert reloads == 1

    machines = {s.data[CONF_NAME]: s for s in hub.subentries.values()}
    assert set(machines) == {"metal-mill", "laser", "woodshop-saw", "compressor"}
    assert machines["laser"].title == "Glowforge"
    assert (
        machines["woodshop-saw"].data[CONF_SECOND_RELAY]
        == DM_MAC_MACHINES["woodshop-saw"]["second_relay"]
    )
    assert machines["compressor"].data[CONF_ALWAYS_ENABLED] is True
    webhook_ids = {s.data[CONF_WEBHOOK_ID] for s in machines.values()}
    assert len(webhook_ids) == 4


@pytest.mark.parametrize(
    ("text", "error", "placeholders"),
    [
        ("{not json", "import_invalid_json", {"detail"}),
        ("[]", "import_not_an_object", set()),
        ("{}", "import_empty", set()),
        (
            '{"laser": {"authorizations_or": []}, "laser": {"authorizations_or": []}}',
            "import_duplicate",
            {"entry"},
        ),
        ('{"laser": ["Laser 101"]}', "import_invalid_entry", {"entry"}),
        (
            '{"laser": {"authorizations_or": [], "colour": "red"}}',
            "import_unknown_field",
            {"entry", "field"},
        ),
        (
            '{"laser": {"authorizations_or": [], "second_relay": {"authorizations_or": [], "relay": 2}}}',
            "import_unknown_field",
            {"entry", "field"},
        ),
        ('{"Laser Cutter": {"authorizations_or": []}}', "import_invalid_name", {"entry"}),
        (
            '{"laser": {"authorizations_or": "Laser 101"}}',
            "import_invalid_field",
            {"entry", "field"},
        ),
        (
            '{"laser": {"authorizations_or": [], "always_enabled": "yes"}}',
            "import_invalid_field",
            {"entry", "field"},
        ),
        (
            '{"laser": {"authorizations_or": [], "second_relay": []}}',
            "import_invalid_field",
            {"entry", "field"},
        ),
        (
            '{"laser": {"authorizations_or": []}, "metal-mill": {"authorizations_or": []}}',
            "import_exists",
            {"entry"},
        ),
    ],
)
async def test_import_dm_mac_rejects_bad_files_and_names_the_entry(
    hass: HomeAssistant, hub: ConfigEntry, text: str, error: str, placeholders: set[str]
) -> None:
    result = await _import(hass, hub, text)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"machines_json": error}
    assert set(result["description_placeholders"]) == placeholders
    if "entry" in placeholders and error != "import_duplicate":
        assert result["description_placeholders"]["entry"] in (
            "laser",
            "Laser Cutter",
            "metal-mill",
        )
    # All or nothing: the hub still has only its first machine.
    assert [s.title for s in hub.subentries.values()] == ["metal-mill"]


async def test_import_dm_mac_error_names_field(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _import(
        hass,
        hub,
        '{"ok": {"authorizations_or": []}, "laser": {"authorizations_or": [], "unauthorized_warn_only": 1}}',
    )
    assert result["description_placeholders"] == {
        "entry": "laser",
        "field": CONF_UNAUTHORIZED_WARN_ONLY,
    }


# --- recording sensors --------------------------------------------------------------

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
    result = await _start(hass, entry, SUBENTRY_RECORDING_SENSOR)
    assert result["step_id"] == "user"
    return await _configure(hass, result, {CONF_NAME: name, CONF_KIND: kind})


async def test_add_camera_recording_sensor(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _recording(hass, hub, "hive-video", "camera")
    assert result["step_id"] == "camera"
    assert result["description_placeholders"] == {CONF_NAME: "hive-video"}
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested[CONF_CAPTURE_WINDOW_START] == "08:00:00"
    assert suggested[CONF_CAPTURE_INTERVAL_SECONDS] == 300
    result = await _configure(hass, result, SCHEDULE | {CONF_CAMERA_ENTITY: "camera.hive"})
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
    }


async def test_add_samples_recording_sensor(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _recording(hass, hub, "hive-climate", "samples")
    result = await _configure(hass, result, SCHEDULE | {CONF_ENTITIES: []})
    assert result["errors"] == {CONF_ENTITIES: "entities_required"}
    result = await _configure(
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
    result = await _configure(hass, result, SCHEDULE | {CONF_ACTION: []})
    assert result["errors"] == {CONF_ACTION: "action_required"}
    result = await _configure(hass, result, SCHEDULE | {CONF_ACTION: [{"not_an_action": 1}]})
    assert result["errors"] == {CONF_ACTION: "invalid_action"}
    assert result["description_placeholders"]["error"]
    result = await _configure(hass, result, SCHEDULE | {CONF_ACTION: action})
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
    result = await _configure(
        hass, result, SCHEDULE | {CONF_CAMERA_ENTITY: "camera.hive"} | user_input
    )
    assert result["errors"] == errors


async def test_recording_sensor_name_errors(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _recording(hass, hub, "Hive Video", "camera")
    assert result["errors"] == {CONF_NAME: "invalid_name"}
    result = await _configure(hass, result, {CONF_NAME: "hive", CONF_KIND: "camera"})
    result = await _configure(hass, result, SCHEDULE | {CONF_CAMERA_ENTITY: "camera.hive"})
    result = await _recording(hass, hub, "hive", "samples")
    assert result["errors"] == {CONF_NAME: "name_taken"}


async def test_reconfigure_recording_sensor_to_another_kind(
    hass: HomeAssistant, hub: ConfigEntry
) -> None:
    result = await _recording(hass, hub, "hive", "camera")
    await _configure(
        hass,
        result,
        SCHEDULE | {CONF_CAMERA_ENTITY: "camera.hive", CONF_CAPTURE_INTERVAL_SECONDS: 600.0},
    )

    result = await _reconfigure(hass, hub, SUBENTRY_RECORDING_SENSOR, "hive")
    assert result["step_id"] == "reconfigure"
    result = await _configure(hass, result, {CONF_NAME: "hive-temp", CONF_KIND: "samples"})
    assert result["step_id"] == "samples"
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested[CONF_CAPTURE_INTERVAL_SECONDS] == 600  # the schedule carries over
    result = await _configure(hass, result, SCHEDULE | {CONF_ENTITIES: ["sensor.hive_temperature"]})
    assert result["reason"] == "reconfigure_successful"
    sensor = subentry_by_title(hub, "hive-temp")
    assert sensor.unique_id == "hive-temp"
    assert CONF_CAMERA_ENTITY not in sensor.data
    assert sensor.data[CONF_ENTITIES] == ["sensor.hive_temperature"]


# --- printers -------------------------------------------------------------------------


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
    result = await _start(hass, hub, SUBENTRY_PRINTER)
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested[CONF_PRINTING_STATES] == ["printing", "running"]
    assert suggested[CONF_POLL_INTERVAL] == 10
    result = await _configure(
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
    result = await _start(hass, hub, SUBENTRY_PRINTER)
    result = await _configure(hass, result, _printer_input(**changes))
    assert result["errors"] == errors


async def test_printer_names_are_unique_by_slug(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _start(hass, hub, SUBENTRY_PRINTER)
    await _configure(hass, result, _printer_input())
    result = await _start(hass, hub, SUBENTRY_PRINTER)
    result = await _configure(hass, result, _printer_input(name="prusa mk4"))
    assert result["errors"] == {CONF_NAME: "name_taken"}


async def test_reconfigure_printer(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _start(hass, hub, SUBENTRY_PRINTER)
    await _configure(hass, result, _printer_input())
    result = await _reconfigure(hass, hub, SUBENTRY_PRINTER, "Prusa MK4")
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested[CONF_CAMERA_ENTITY] == "camera.prusa"
    result = await _configure(hass, result, _printer_input(name="Prusa MK4", poll_interval=30.0))
    assert result["reason"] == "reconfigure_successful"
    assert subentry_by_title(hub, "Prusa MK4").data[CONF_POLL_INTERVAL] == 30


async def test_reconfigure_machine_can_issue_a_new_board_url(
    hass: HomeAssistant, hub: ConfigEntry
) -> None:
    hass.config.internal_url = "http://192.168.1.10:8123"
    result = await _reconfigure(hass, hub, SUBENTRY_MACHINE, "metal-mill")
    suggested = {str(k): k.default() for k in result["data_schema"].schema if "new" in str(k)}
    assert suggested == {"new_board_url": False}  # off unless asked for
    result = await _configure(hass, result, _machine_input(name="metal-mill", new_board_url=True))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "new_board_url"
    mill = subentry_by_title(hub, "metal-mill")
    new = mill.data[CONF_WEBHOOK_ID]
    assert len(new) == 64
    assert new not in (MILL[CONF_WEBHOOK_ID], HUB_WEBHOOK_ID)
    assert mill.data[CONF_AUTHORIZATIONS_OR] == ["Laser 101"]
    assert result["description_placeholders"] == {
        "board_url": f"http://192.168.1.10:8123/api/webhook/{new}",
        "hub_url": f"http://192.168.1.10:8123/api/webhook/{HUB_WEBHOOK_ID}",
        "name": "metal-mill",
    }
    assert hub.data[CONF_RETIRED_WEBHOOK_IDS] == [[MILL[CONF_WEBHOOK_ID], mill.subentry_id]]
    assert hub.state is ConfigEntryState.LOADED
