"""Adding a printer proposes what its status entity's device tells.

The registries hold entities shaped like those of the real integrations (unique ids,
names, translation keys as OctoPrint, PrusaLink, Bambu Lab and Moonraker register
them, on a device of a config entry of that domain); the real subentry flow reads
them. The mapping itself (`printer_devices`) is tested on plain data at the end.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

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
from custom_components.makerspace_hub.printers.printer_devices import (
    DeviceEntity,
    PrinterProposal,
    propose,
)

from ..conftest import subentry_by_title
from ..flow_helpers import configure_flow, setup_mill_hub, start_flow

OCTOPRINT_ID = "5a0cd6d6-8c26-4f3c-9f4d-1f0e3c1c6e61"  # OctoPrint's instance id
BAMBU_SERIAL = "01S00C123456789"


@pytest.fixture
async def hub(hass: HomeAssistant) -> ConfigEntry:
    """A hub with one machine (metal-mill), set up."""
    return await setup_mill_hub(hass)


@dataclass
class Printer:
    """A printer integration's entities in the registries, by role."""

    status: str
    entities: dict[str, str] = field(default_factory=dict)  # role -> entity id


def _device(hass: HomeAssistant, domain: str, unique_id: str | None = None) -> MockConfigEntry:
    entry = MockConfigEntry(domain=domain, title=f"{domain} printer", unique_id=unique_id)
    entry.add_to_hass(hass)
    return entry


def _register(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    entities: dict[str, tuple[str, str, dict[str, Any]]],
) -> dict[str, str]:
    """Put `role: (domain, unique id, extra)` on one device of `entry`; return ids."""
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(entry.domain, entry.unique_id or entry.entry_id)},
        name="Prusa",
    )
    registry = er.async_get(hass)
    return {
        role: registry.async_get_or_create(
            domain,
            entry.domain,
            unique_id,
            config_entry=entry,
            device_id=device.id,
            **extra,
        ).entity_id
        for role, (domain, unique_id, extra) in entities.items()
    }


def octoprint(hass: HomeAssistant) -> Printer:
    """OctoPrint (core): names "OctoPrint <x>", unique ids "<x>-<instance id>"."""
    entry = _device(hass, "octoprint", OCTOPRINT_ID)
    ids = _register(
        hass,
        entry,
        {
            "status": (
                "sensor",
                f"Current State-{OCTOPRINT_ID}",
                {"original_name": "OctoPrint Current State"},
            ),
            "printing": (
                "binary_sensor",
                f"Printing-{OCTOPRINT_ID}",
                {"original_name": "OctoPrint Printing"},
            ),
            "camera": ("camera", OCTOPRINT_ID, {"original_name": "OctoPrint Camera"}),
            "pause": (
                "button",
                f"Pause Job-{OCTOPRINT_ID}",
                {"original_name": "OctoPrint Pause Job"},
            ),
            "resume": (
                "button",
                f"Resume Job-{OCTOPRINT_ID}",
                {"original_name": "OctoPrint Resume Job"},
            ),
            "stop": ("button", f"Stop Job-{OCTOPRINT_ID}", {"original_name": "OctoPrint Stop Job"}),
        },
    )
    return Printer(status=ids["status"], entities=ids)


def prusalink(hass: HomeAssistant) -> Printer:
    """PrusaLink (core): unique ids "<entry id>_<key>", translated names."""
    entry = _device(hass, "prusalink")
    eid = entry.entry_id
    ids = _register(
        hass,
        entry,
        {
            "status": (
                "sensor",
                f"{eid}_printer.state",
                {"translation_key": "printer_state", "has_entity_name": True},
            ),
            "pause": ("button", f"{eid}_job.pause_job", {"translation_key": "pause_job"}),
            "resume": ("button", f"{eid}_job.resume_job", {"translation_key": "resume_job"}),
            "cancel": ("button", f"{eid}_printer.cancel_job", {"translation_key": "cancel_job"}),
            "preview": ("camera", f"{eid}_job_preview", {"translation_key": "job_preview"}),
        },
    )
    return Printer(status=ids["status"], entities=ids)


def bambu_lab(hass: HomeAssistant) -> Printer:
    """Bambu Lab (HACS): unique ids "<serial>_<key>", translated names."""
    entry = _device(hass, "bambu_lab", BAMBU_SERIAL)
    s = BAMBU_SERIAL
    ids = _register(
        hass,
        entry,
        {
            "status": ("sensor", f"{s}_print_status", {"translation_key": "print_status"}),
            "stage": ("sensor", f"{s}_stage", {"translation_key": "stage"}),
            "pause": ("button", f"{s}_pause", {"translation_key": "pause"}),
            "resume": ("button", f"{s}_resume", {"translation_key": "resume"}),
            "stop": ("button", f"{s}_stop", {"translation_key": "stop"}),
            "camera": ("camera", f"{s}_camera", {"translation_key": "camera"}),
            "camera_switch": ("switch", f"{s}_camera", {"translation_key": "camera"}),
            "sound": ("switch", f"{s}_prompt_sound", {"translation_key": "prompt_sound"}),
        },
    )
    return Printer(status=ids["status"], entities=ids)


def moonraker(hass: HomeAssistant) -> Printer:
    """Moonraker (HACS): unique ids "<entry id>_<key>", plain names."""
    entry = _device(hass, "moonraker")
    eid = entry.entry_id
    ids = _register(
        hass,
        entry,
        {
            "status": ("sensor", f"{eid}_print_state", {"original_name": "Current Print State"}),
            "printer_state": ("sensor", f"{eid}_state", {"original_name": "Printer State"}),
            "pause": ("button", f"{eid}_pause_print", {"original_name": "Pause Print"}),
            "resume": ("button", f"{eid}_resume_print", {"original_name": "Resume Print"}),
            "macro": ("button", f"{eid}_PAUSE", {"original_name": "Macro Pause"}),
            "camera": ("camera", f"{eid}_webcam_0", {"original_name": "Voron webcam"}),
            "thumbnail": ("camera", f"{eid}_thumbnail", {"original_name": "Voron Thumbnail"}),
            "power": ("switch", f"{eid}_printer", {"original_name": "Printer"}),
            "pin": ("switch", f"{eid}_output_pin caselight", {"original_name": "Caselight"}),
        },
    )
    return Printer(status=ids["status"], entities=ids)


def _suggested(result: dict[str, Any]) -> dict[str, Any]:
    return {
        str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema
    }


def _given(result: dict[str, Any]) -> dict[str, Any]:
    """Return the values the form shows filled in (what a user would submit as is)."""
    return {k: v for k, v in _suggested(result).items() if v is not None}


def _options(result: dict[str, Any], key: str) -> list[str]:
    schema = result["data_schema"].schema
    marker = next(k for k in schema if str(k) == key)
    options: list[str] = schema[marker].config["options"]
    return options


async def _details(
    hass: HomeAssistant, hub: ConfigEntry, status_entity: str, name: str = "Prusa MK4"
) -> dict[str, Any]:
    """Start adding a printer with this status entity; return the full form."""
    result = await start_flow(hass, hub, SUBENTRY_PRINTER)
    result = await configure_flow(
        hass, result, {CONF_NAME: name, CONF_STATUS_ENTITY: status_entity}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "printer"
    return result


@pytest.mark.parametrize(
    ("make", "camera", "printing", "paused", "pause", "power"),
    [
        (
            octoprint,
            "camera",
            ["Printing", "Printing from SD"],
            ["Pausing", "Paused", "Resuming"],
            "pause",
            None,
        ),
        # PrusaLink's only camera is the job's preview picture: not proposed.
        (prusalink, None, ["printing"], ["paused", "attention"], "pause", None),
        # Bambu Lab's switches (camera on/off, sounds) do not power the printer.
        (bambu_lab, "camera", ["running"], ["pause"], "pause", None),
        # The webcam, not the file's thumbnail; the power device, not an output pin.
        (moonraker, "camera", ["printing"], ["paused"], "pause", "power"),
    ],
)
async def test_the_device_proposes_the_printers_entities_and_states(
    hass: HomeAssistant,
    hub: ConfigEntry,
    make: Callable[[HomeAssistant], Printer],
    camera: str | None,
    printing: list[str],
    paused: list[str],
    pause: str | None,
    power: str | None,
) -> None:
    printer = make(hass)
    result = await _details(hass, hub, printer.status)
    suggested = _suggested(result)
    assert suggested[CONF_NAME] == "Prusa MK4"
    assert suggested[CONF_STATUS_ENTITY] == printer.status
    assert suggested[CONF_CAMERA_ENTITY] == (printer.entities[camera] if camera else None)
    assert suggested[CONF_PRINTING_STATES] == printing
    assert suggested[CONF_PAUSED_STATES] == paused
    assert suggested[CONF_PAUSE_ENTITY] == (printer.entities[pause] if pause else None)
    assert suggested[CONF_POWER_ENTITY] == (printer.entities[power] if power else None)
    # The rest keeps its defaults, the grace among them.
    assert suggested[CONF_ACTION] == "notify"
    assert suggested[CONF_GRACE_MINUTES] == 0
    # The integration's states are offered in the lists, next to the usual ones.
    assert set(printing + paused) <= set(_options(result, CONF_PRINTING_STATES))
    assert {"printing", "running"} <= set(_options(result, CONF_PRINTING_STATES))


async def test_what_the_user_confirms_or_changes_is_stored(
    hass: HomeAssistant, hub: ConfigEntry
) -> None:
    printer = octoprint(hass)
    result = await _details(hass, hub, printer.status)
    confirmed = _given(result) | {
        CONF_PAUSED_STATES: ["Paused", "Pausing", "Resuming", "Cancelling"],  # one more
        CONF_ACTION: "pause_and_off",
        CONF_POWER_ENTITY: "switch.printer_plug",  # a smart plug: never proposed
        CONF_GRACE_MINUTES: 5,
    }
    result = await configure_flow(hass, result, confirmed)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert subentry_by_title(hub, "Prusa MK4").data == {
        CONF_NAME: "Prusa MK4",
        CONF_CAMERA_ENTITY: printer.entities["camera"],
        CONF_STATUS_ENTITY: printer.status,
        CONF_PRINTING_STATES: ["Printing", "Printing from SD"],
        CONF_PAUSED_STATES: ["Paused", "Pausing", "Resuming", "Cancelling"],
        CONF_ACTION: "pause_and_off",
        CONF_PAUSE_ENTITY: printer.entities["pause"],
        CONF_POWER_ENTITY: "switch.printer_plug",
        CONF_SENSITIVITY: 1.0,
        CONF_POLL_INTERVAL: 10,
        CONF_GRACE_MINUTES: 5,
    }


async def test_a_proposal_can_be_cleared(hass: HomeAssistant, hub: ConfigEntry) -> None:
    printer = moonraker(hass)
    result = await _details(hass, hub, printer.status)
    confirmed = {
        k: v for k, v in _given(result).items() if k not in (CONF_PAUSE_ENTITY, CONF_POWER_ENTITY)
    }
    result = await configure_flow(hass, result, confirmed)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = subentry_by_title(hub, "Prusa MK4").data
    assert CONF_PAUSE_ENTITY not in data
    assert CONF_POWER_ENTITY not in data
    assert data[CONF_CAMERA_ENTITY] == printer.entities["camera"]


async def test_another_entity_of_the_printer_proposes_its_entities_not_states(
    hass: HomeAssistant, hub: ConfigEntry
) -> None:
    printer = octoprint(hass)
    result = await _details(hass, hub, printer.entities["printing"])  # a binary sensor
    suggested = _suggested(result)
    assert suggested[CONF_CAMERA_ENTITY] == printer.entities["camera"]
    assert suggested[CONF_PAUSE_ENTITY] == printer.entities["pause"]
    assert suggested[CONF_PRINTING_STATES] == ["printing", "running"]  # the defaults
    assert suggested[CONF_PAUSED_STATES] == ["paused", "pause"]


def _unknown_printer(hass: HomeAssistant) -> Printer:
    entry = _device(hass, "mqtt")
    ids = _register(
        hass,
        entry,
        {
            "status": ("sensor", "printer_status", {"original_name": "Print status"}),
            "camera": ("camera", "printer_cam", {"original_name": "Camera"}),
            "pause": ("button", "printer_pause", {"original_name": "Pause print"}),
            "power": ("switch", "printer_power", {"original_name": "Power"}),
        },
    )
    return Printer(status=ids["status"], entities=ids)


def _no_device(hass: HomeAssistant) -> Printer:
    entry = _device(hass, "template")
    status = er.async_get(hass).async_get_or_create(
        "sensor", "template", "printer_status", config_entry=entry
    )
    return Printer(status=status.entity_id)


@pytest.mark.parametrize(
    "make",
    [
        _unknown_printer,  # an integration this hub does not know
        _no_device,  # a registered entity without a device
        lambda hass: Printer(status="sensor.yaml_printer_status"),  # not registered
    ],
)
async def test_no_proposal_leaves_the_form_as_it_was(
    hass: HomeAssistant, hub: ConfigEntry, make: Callable[[HomeAssistant], Printer]
) -> None:
    printer = make(hass)
    result = await _details(hass, hub, printer.status)
    suggested = _suggested(result)
    assert suggested[CONF_STATUS_ENTITY] == printer.status
    for key in (CONF_CAMERA_ENTITY, CONF_PAUSE_ENTITY, CONF_POWER_ENTITY):
        assert suggested[key] is None
    assert suggested[CONF_PRINTING_STATES] == ["printing", "running"]
    assert suggested[CONF_PAUSED_STATES] == ["paused", "pause"]
    assert _options(result, CONF_PRINTING_STATES) == ["printing", "running"]


async def test_a_disabled_entity_is_not_proposed(hass: HomeAssistant, hub: ConfigEntry) -> None:
    printer = bambu_lab(hass)
    er.async_get(hass).async_update_entity(
        printer.entities["pause"], disabled_by=er.RegistryEntryDisabler.USER
    )
    suggested = _suggested(await _details(hass, hub, printer.status))
    assert suggested[CONF_PAUSE_ENTITY] is None
    assert suggested[CONF_CAMERA_ENTITY] == printer.entities["camera"]


async def test_what_the_user_typed_stays_through_both_steps(
    hass: HomeAssistant, hub: ConfigEntry
) -> None:
    first = {CONF_NAME: "Prusa MK4", CONF_STATUS_ENTITY: "sensor.prusa_status"}
    result = await _details(hass, hub, "sensor.mk4")
    await configure_flow(hass, result, _given(result) | {CONF_CAMERA_ENTITY: "camera.mk4"})
    # A taken name is refused on the first step, with the status entity kept.
    result = await start_flow(hass, hub, SUBENTRY_PRINTER)
    result = await configure_flow(hass, result, first | {CONF_NAME: "prusa-mk4"})
    assert result["step_id"] == "user"
    assert result["errors"] == {CONF_NAME: "name_taken"}
    assert _suggested(result) == {CONF_NAME: "prusa-mk4", CONF_STATUS_ENTITY: "sensor.prusa_status"}
    # On the second step, a refused value shows the form again as the user left it.
    result = await configure_flow(hass, result, first | {CONF_NAME: "Prusa XL"})
    assert result["step_id"] == "printer"
    typed = _given(result) | {
        CONF_CAMERA_ENTITY: "camera.xl",
        CONF_PAUSED_STATES: ["held"],
        CONF_ACTION: "pause",  # without a pause entity
    }
    result = await configure_flow(hass, result, typed)
    assert result["step_id"] == "printer"
    assert result["errors"] == {CONF_PAUSE_ENTITY: "pause_entity_required"}
    assert _given(result) == typed
    assert "held" in _options(result, CONF_PAUSED_STATES)
    # Renamed on the second step to a taken name: refused there too.
    result = await configure_flow(
        hass, result, typed | {CONF_ACTION: "notify", CONF_NAME: "PRUSA MK4"}
    )
    assert result["errors"] == {CONF_NAME: "name_taken"}
    result = await configure_flow(hass, result, typed | {CONF_ACTION: "notify"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert subentry_by_title(hub, "Prusa XL").data[CONF_PAUSED_STATES] == ["held"]


# --- the mapping, on plain data --------------------------------------------------------


def _entity(entity_id: str, unique_id: str, platform: str = "moonraker") -> DeviceEntity:
    return DeviceEntity(
        entity_id=entity_id, platform=platform, unique_id=unique_id, config_entry_id="01JENTRY"
    )


MOONRAKER_STATUS = _entity("sensor.voron_current_print_state", "01JENTRY_print_state")


def test_an_unknown_integration_proposes_nothing() -> None:
    status = _entity("sensor.p_status", "p_status", platform="mqtt")
    camera = _entity("camera.p", "p_cam", platform="mqtt")
    assert propose(status, [status, camera]) == PrinterProposal()
    assert PrinterProposal().as_suggestions() == {}


def test_of_several_cameras_none_is_sure() -> None:
    cameras = [
        _entity("camera.voron_webcam", "01JENTRY_webcam_0"),
        _entity("camera.voron_nozzle", "01JENTRY_nozzle_1"),
        _entity("camera.voron_thumbnail", "01JENTRY_thumbnail"),
    ]
    assert propose(MOONRAKER_STATUS, cameras).camera_entity is None
    assert propose(MOONRAKER_STATUS, cameras[1:]).camera_entity == "camera.voron_nozzle"


@pytest.mark.parametrize(
    ("switches", "power"),
    [
        (["printer"], "switch.printer"),
        (["lights"], "switch.lights"),  # Moonraker's only power device
        (["lights", "printer_psu", "nevermore"], "switch.printer_psu"),
        (["lights", "nevermore"], None),  # which one powers the printer?
        (["psu", "printer"], None),
        (["output_pin beeper"], None),  # Klipper's pins are no power devices
    ],
)
def test_the_moonraker_power_device_that_powers_the_printer(
    switches: list[str], power: str | None
) -> None:
    device = [_entity(f"switch.{key.replace(' ', '_')}", f"01JENTRY_{key}") for key in switches]
    assert propose(MOONRAKER_STATUS, device).power_entity == power


def test_only_entities_of_the_status_entitys_integration_count() -> None:
    foreign = [
        _entity("button.pause_print", "01JENTRY_pause_print", platform="template"),
        _entity("camera.voron_webcam", "01JENTRY_webcam_0", platform="generic"),
    ]
    own = [_entity("button.voron_pause_print", "01JENTRY_pause_print")]
    proposal = propose(MOONRAKER_STATUS, [MOONRAKER_STATUS, *foreign, *own])
    assert proposal.pause_entity == "button.voron_pause_print"
    assert proposal.camera_entity is None
    assert proposal.as_suggestions() == {
        CONF_PRINTING_STATES: ["printing"],
        CONF_PAUSED_STATES: ["paused"],
        CONF_PAUSE_ENTITY: "button.voron_pause_print",
    }


def test_keys_are_read_with_or_without_the_config_entry_id() -> None:
    """PrusaLink's keys contain dots and underscores; the entry id is cut first."""
    status = DeviceEntity(
        entity_id="sensor.mk4", platform="prusalink", unique_id="01JPRUSA_printer.state"
    )
    pause = DeviceEntity(
        entity_id="button.mk4_pause_job",
        platform="prusalink",
        unique_id="01J_PRUSA_job.pause_job",
        config_entry_id="01J_PRUSA",
    )
    proposal = propose(status, [pause])
    assert proposal.printing_states == ("printing",)
    assert proposal.pause_entity == "button.mk4_pause_job"
