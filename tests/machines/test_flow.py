"""Machine subentry flow: add, second relay, reconfigure, a new board URL, dm_mac import."""

import json
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest

from custom_components.makerspace_hub.const import (
    CONF_ALIAS,
    CONF_ALWAYS_ENABLED,
    CONF_AUTHORIZATIONS_OR,
    CONF_IDLE_CURRENT_AMPS,
    CONF_IDLE_LOGOUT_MINUTES,
    CONF_LOCK_OUT_WHEN_SERVICE_DUE,
    CONF_MAX_SESSION_MINUTES,
    CONF_NAME,
    CONF_SECOND_RELAY,
    CONF_SERVICE_INTERVAL_HOURS,
    CONF_UNAUTHORIZED_WARN_ONLY,
    CONF_WEBHOOK_ID,
    MAX_SERVICE_INTERVAL_HOURS,
    MAX_SESSION_LIMIT_MINUTES,
    SUBENTRY_MACHINE,
)
from custom_components.makerspace_hub.machines.board_ids import CONF_RETIRED_WEBHOOK_IDS

from ..conftest import HUB_WEBHOOK_ID, make_hub_entry, make_subentry, setup_hub, subentry_by_title
from ..flow_helpers import MILL, configure_flow, reconfigure_flow, setup_mill_hub, start_flow


@pytest.fixture
async def hub(hass: HomeAssistant) -> ConfigEntry:
    """A hub with one machine (metal-mill), set up."""
    return await setup_mill_hub(hass)


def _machine_input(**changes: Any) -> dict[str, Any]:
    return {
        CONF_NAME: "laser",
        CONF_AUTHORIZATIONS_OR: ["Laser 101"],
        CONF_UNAUTHORIZED_WARN_ONLY: False,
        CONF_ALWAYS_ENABLED: False,
        "has_second_relay": False,
    } | changes


async def _add_machine_form(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any]:
    result = await start_flow(hass, entry, SUBENTRY_MACHINE)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["machine", "import_dm_mac"]
    result = await configure_flow(hass, result, {"next_step_id": "machine"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "machine"
    return result


# --- machines ---------------------------------------------------------------------


async def test_add_machine_shows_its_board_urls(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _add_machine_form(hass, hub)
    result = await configure_flow(
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
    result = await configure_flow(hass, result, _machine_input())
    webhook_id = subentry_by_title(hub, "laser").data[CONF_WEBHOOK_ID]
    assert (
        result["description_placeholders"]["board_url"]
        == f"http://192.168.1.10:8123/api/webhook/{webhook_id}"
    )


async def test_board_url_without_any_known_address(hass: HomeAssistant, hub: ConfigEntry) -> None:
    hass.config.api = None  # no HTTP server address known, no URL configured
    result = await _add_machine_form(hass, hub)
    result = await configure_flow(hass, result, _machine_input())
    webhook_id = subentry_by_title(hub, "laser").data[CONF_WEBHOOK_ID]
    assert (
        result["description_placeholders"]["board_url"]
        == f"http://<home-assistant-address>:8123/api/webhook/{webhook_id}"
    )


async def test_add_machine_with_a_second_relay(hass: HomeAssistant, hub: ConfigEntry) -> None:
    result = await _add_machine_form(hass, hub)
    result = await configure_flow(hass, result, _machine_input(has_second_relay=True))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "second_relay"
    # Authorizations already used in the hub are offered.
    selector = next(
        v for k, v in result["data_schema"].schema.items() if str(k) == CONF_AUTHORIZATIONS_OR
    )
    assert selector.config["options"] == ["Metal Mill"]
    result = await configure_flow(
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
    result = await configure_flow(hass, result, _machine_input(name=name))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: error}


async def test_reconfigure_machine_keeps_its_webhook(hass: HomeAssistant, hub: ConfigEntry) -> None:
    hass.config.internal_url = "http://192.168.1.10:8123"
    result = await reconfigure_flow(hass, hub, SUBENTRY_MACHINE, "metal-mill")
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {
        "board_url": f"http://192.168.1.10:8123/api/webhook/{MILL[CONF_WEBHOOK_ID]}",
        "hub_url": f"http://192.168.1.10:8123/api/webhook/{HUB_WEBHOOK_ID}",
    }
    # Keeping its own name is fine; another machine's name is not.
    result = await configure_flow(
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
    result = await reconfigure_flow(hass, entry, SUBENTRY_MACHINE, "metal-mill")
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested["has_second_relay"] is True
    result = await configure_flow(hass, result, _machine_input(name="lathe", has_second_relay=True))
    assert result["errors"] == {CONF_NAME: "name_taken"}
    result = await configure_flow(
        hass, result, _machine_input(name="metal-mill", has_second_relay=True)
    )
    assert result["step_id"] == "second_relay"
    suggested = {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }
    assert suggested[CONF_AUTHORIZATIONS_OR] == ["Coolant"]
    assert suggested[CONF_ALWAYS_ENABLED] is True
    result = await configure_flow(
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

    result = await reconfigure_flow(hass, entry, SUBENTRY_MACHINE, "metal-mill")
    result = await configure_flow(hass, result, _machine_input(name="metal-mill"))
    assert result["reason"] == "reconfigure_successful"
    assert CONF_SECOND_RELAY not in subentry_by_title(entry, "metal-mill").data


# --- sessions that end by themselves ----------------------------------------------

SESSION_LIMITS = (CONF_IDLE_LOGOUT_MINUTES, CONF_IDLE_CURRENT_AMPS, CONF_MAX_SESSION_MINUTES)


def _suggested_limits(result: dict[str, Any]) -> dict[str, Any]:
    return {
        str(k): (k.description or {}).get("suggested_value")
        for k in result["data_schema"].schema
        if str(k) in SESSION_LIMITS
    }


async def test_add_machine_with_idle_logout_and_a_session_limit(
    hass: HomeAssistant, hub: ConfigEntry
) -> None:
    result = await _add_machine_form(hass, hub)
    assert _suggested_limits(result) == {
        CONF_IDLE_LOGOUT_MINUTES: 0,
        CONF_IDLE_CURRENT_AMPS: 0.5,
        CONF_MAX_SESSION_MINUTES: 0,
    }
    # Number boxes hand over floats; whole minutes are stored as whole numbers.
    result = await configure_flow(
        hass,
        result,
        _machine_input(
            **{
                CONF_IDLE_LOGOUT_MINUTES: 15.0,
                CONF_IDLE_CURRENT_AMPS: 1.25,
                CONF_MAX_SESSION_MINUTES: 240.0,
            }
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    laser = subentry_by_title(hub, "laser").data
    assert {key: laser[key] for key in SESSION_LIMITS} == {
        CONF_IDLE_LOGOUT_MINUTES: 15,
        CONF_IDLE_CURRENT_AMPS: 1.25,
        CONF_MAX_SESSION_MINUTES: 240,
    }
    assert type(laser[CONF_IDLE_LOGOUT_MINUTES]) is int
    assert type(laser[CONF_MAX_SESSION_MINUTES]) is int


async def test_reconfigure_machine_sets_and_clears_its_session_limits(
    hass: HomeAssistant,
) -> None:
    dust = {CONF_AUTHORIZATIONS_OR: ["Dust"], CONF_UNAUTHORIZED_WARN_ONLY: False}
    entry = await setup_hub(
        hass,
        make_hub_entry(
            subentries=[
                make_subentry(
                    "machine",
                    "metal-mill",
                    MILL | {CONF_SECOND_RELAY: dust | {CONF_ALWAYS_ENABLED: True}},
                )
            ]
        ),
    )

    async def reconfigure(**limits: float) -> dict[str, Any]:
        result = await reconfigure_flow(hass, entry, SUBENTRY_MACHINE, "metal-mill")
        suggested = _suggested_limits(result)
        result = await configure_flow(
            hass, result, _machine_input(name="metal-mill", has_second_relay=True, **limits)
        )
        result = await configure_flow(
            hass, result, dust | {CONF_ALWAYS_ENABLED: True, CONF_ALIAS: "Dust collector"}
        )
        assert result["reason"] == "reconfigure_successful"
        return suggested

    assert await reconfigure(
        **{CONF_IDLE_LOGOUT_MINUTES: 20, CONF_IDLE_CURRENT_AMPS: 0.8, CONF_MAX_SESSION_MINUTES: 0}
    ) == {CONF_IDLE_LOGOUT_MINUTES: 0, CONF_IDLE_CURRENT_AMPS: 0.5, CONF_MAX_SESSION_MINUTES: 0}
    mill = subentry_by_title(entry, "metal-mill").data
    assert mill[CONF_IDLE_LOGOUT_MINUTES] == 20
    assert mill[CONF_IDLE_CURRENT_AMPS] == 0.8
    assert CONF_MAX_SESSION_MINUTES not in mill

    # Idle logout off: its current goes too; everything else stays.
    assert await reconfigure(
        **{CONF_IDLE_LOGOUT_MINUTES: 0, CONF_IDLE_CURRENT_AMPS: 0.8, CONF_MAX_SESSION_MINUTES: 90}
    ) == {CONF_IDLE_LOGOUT_MINUTES: 20, CONF_IDLE_CURRENT_AMPS: 0.8, CONF_MAX_SESSION_MINUTES: 0}
    assert subentry_by_title(entry, "metal-mill").data == MILL | {
        CONF_AUTHORIZATIONS_OR: ["Laser 101"],
        CONF_SECOND_RELAY: dust | {CONF_ALWAYS_ENABLED: True, CONF_ALIAS: "Dust collector"},
        CONF_MAX_SESSION_MINUTES: 90,
    }

    # Fields the form leaves out (an emptied box) mean off.
    result = await reconfigure_flow(hass, entry, SUBENTRY_MACHINE, "metal-mill")
    assert _suggested_limits(result)[CONF_MAX_SESSION_MINUTES] == 90
    result = await configure_flow(hass, result, _machine_input(name="metal-mill"))
    assert result["reason"] == "reconfigure_successful"
    mill = subentry_by_title(entry, "metal-mill").data
    assert not set(SESSION_LIMITS) & set(mill)
    assert mill[CONF_WEBHOOK_ID] == MILL[CONF_WEBHOOK_ID]


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({CONF_IDLE_LOGOUT_MINUTES: -1}, CONF_IDLE_LOGOUT_MINUTES),
        ({CONF_IDLE_LOGOUT_MINUTES: MAX_SESSION_LIMIT_MINUTES + 1}, CONF_IDLE_LOGOUT_MINUTES),
        ({CONF_IDLE_LOGOUT_MINUTES: 10, CONF_IDLE_CURRENT_AMPS: 0}, CONF_IDLE_CURRENT_AMPS),
        ({CONF_IDLE_LOGOUT_MINUTES: 10, CONF_IDLE_CURRENT_AMPS: -0.5}, CONF_IDLE_CURRENT_AMPS),
        ({CONF_MAX_SESSION_MINUTES: -5}, CONF_MAX_SESSION_MINUTES),
        ({CONF_MAX_SESSION_MINUTES: MAX_SESSION_LIMIT_MINUTES + 1}, CONF_MAX_SESSION_MINUTES),
    ],
)
async def test_session_limits_out_of_range_are_refused_on_their_field(
    hass: HomeAssistant, hub: ConfigEntry, limits: dict[str, float], field: str
) -> None:
    # The number boxes refuse these before the flow sees them; the frontend shows
    # the error on the field.
    result = await _add_machine_form(hass, hub)
    with pytest.raises(InvalidData) as refused:
        await configure_flow(hass, result, _machine_input(**limits))
    assert set(refused.value.schema_errors) == {field}
    assert [s.title for s in hub.subentries.values()] == ["metal-mill"]


@pytest.mark.parametrize("field", [CONF_IDLE_LOGOUT_MINUTES, CONF_MAX_SESSION_MINUTES])
async def test_session_limits_in_part_minutes_are_refused_on_their_field(
    hass: HomeAssistant, hub: ConfigEntry, field: str
) -> None:
    result = await _add_machine_form(hass, hub)
    result = await configure_flow(hass, result, _machine_input(**{field: 2.5}))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "invalid_value"}
    assert [s.title for s in hub.subentries.values()] == ["metal-mill"]


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
    result = await start_flow(hass, entry, SUBENTRY_MACHINE)
    result = await configure_flow(hass, result, {"next_step_id": "import_dm_mac"})
    assert result["step_id"] == "import_dm_mac"
    return await configure_flow(hass, result, {"machines_json": text})


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


async def test_reconfigure_machine_can_issue_a_new_board_url(
    hass: HomeAssistant, hub: ConfigEntry
) -> None:
    hass.config.internal_url = "http://192.168.1.10:8123"
    result = await reconfigure_flow(hass, hub, SUBENTRY_MACHINE, "metal-mill")
    suggested = {str(k): k.default() for k in result["data_schema"].schema if "new" in str(k)}
    assert suggested == {"new_board_url": False}  # off unless asked for
    result = await configure_flow(
        hass, result, _machine_input(name="metal-mill", new_board_url=True)
    )
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


# --- service intervals -------------------------------------------------------------


async def test_add_machine_with_a_service_interval_stored_only_when_set(
    hass: HomeAssistant, hub: ConfigEntry
) -> None:
    result = await _add_machine_form(hass, hub)
    result = await configure_flow(
        hass,
        result,
        _machine_input(
            **{CONF_SERVICE_INTERVAL_HOURS: 250.0, CONF_LOCK_OUT_WHEN_SERVICE_DUE: True}
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    laser = subentry_by_title(hub, "laser").data
    assert laser[CONF_SERVICE_INTERVAL_HOURS] == 250
    assert type(laser[CONF_SERVICE_INTERVAL_HOURS]) is int
    assert laser[CONF_LOCK_OUT_WHEN_SERVICE_DUE] is True
    # Off: neither key is stored (a machine keeps dm_mac's shape).
    assert CONF_SERVICE_INTERVAL_HOURS not in subentry_by_title(hub, "metal-mill").data
    result = await reconfigure_flow(hass, hub, SUBENTRY_MACHINE, "laser")
    suggested = {
        str(k): (k.description or {}).get("suggested_value")
        for k in result["data_schema"].schema
        if str(k) in (CONF_SERVICE_INTERVAL_HOURS, CONF_LOCK_OUT_WHEN_SERVICE_DUE)
    }
    assert suggested == {CONF_SERVICE_INTERVAL_HOURS: 250, CONF_LOCK_OUT_WHEN_SERVICE_DUE: True}
    result = await configure_flow(
        hass,
        result,
        _machine_input(**{CONF_SERVICE_INTERVAL_HOURS: 0, CONF_LOCK_OUT_WHEN_SERVICE_DUE: True}),
    )
    laser = subentry_by_title(hub, "laser").data
    assert CONF_SERVICE_INTERVAL_HOURS not in laser
    assert CONF_LOCK_OUT_WHEN_SERVICE_DUE not in laser


@pytest.mark.parametrize("hours", [-1, MAX_SERVICE_INTERVAL_HOURS + 1])
async def test_a_service_interval_out_of_range_is_refused_on_its_field(
    hass: HomeAssistant, hub: ConfigEntry, hours: int
) -> None:
    result = await _add_machine_form(hass, hub)
    with pytest.raises(InvalidData) as refused:
        await configure_flow(hass, result, _machine_input(**{CONF_SERVICE_INTERVAL_HOURS: hours}))
    assert set(refused.value.schema_errors) == {CONF_SERVICE_INTERVAL_HOURS}
    assert [s.title for s in hub.subentries.values()] == ["metal-mill"]


async def test_a_service_interval_in_part_hours_is_refused_on_its_field(
    hass: HomeAssistant, hub: ConfigEntry
) -> None:
    result = await _add_machine_form(hass, hub)
    result = await configure_flow(
        hass, result, _machine_input(**{CONF_SERVICE_INTERVAL_HOURS: 2.5})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SERVICE_INTERVAL_HOURS: "invalid_value"}
    assert [s.title for s in hub.subentries.values()] == ["metal-mill"]
