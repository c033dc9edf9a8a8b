"""Which hubs, machines and printers an action call means.

An action names its devices by target (devices, entities, areas, floors, labels) or
by a name field (`machine`, `printer`: a name or display name, any case), or its hub
by `config_entry_id`. What it names must exist and be of the right kind: a clear,
translated error otherwise, before anything changes.
"""

from collections.abc import Callable, Iterable, Mapping

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_AREA_ID,
    ATTR_DEVICE_ID,
    ATTR_ENTITY_ID,
    ATTR_FLOOR_ID,
    ATTR_LABEL_ID,
)
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    area_registry as ar,
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
import voluptuous as vol

from .const import DOMAIN
from .hub import MakerspaceConfigEntry, MakerspaceHub
from .machines.machine import Machine
from .printers.printer import Printer

ATTR_MACHINE = "machine"
ATTR_PRINTER = "printer"
ATTR_CONFIG_ENTRY_ID = "config_entry_id"

_IDS = vol.All(cv.ensure_list, [cv.string])
_NAME = vol.All(cv.string, vol.Strip, vol.Length(min=1))
TARGET_FIELDS = {
    vol.Optional(ATTR_ENTITY_ID): cv.entity_ids,
    vol.Optional(ATTR_DEVICE_ID): _IDS,
    vol.Optional(ATTR_AREA_ID): _IDS,
    vol.Optional(ATTR_FLOOR_ID): _IDS,
    vol.Optional(ATTR_LABEL_ID): _IDS,
}
MACHINE_SCHEMA = vol.Schema({vol.Optional(ATTR_MACHINE): _NAME, **TARGET_FIELDS})
PRINTER_SCHEMA = vol.Schema({vol.Optional(ATTR_PRINTER): _NAME, **TARGET_FIELDS})


def invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """Return the translated error of a call a user got wrong."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def running_hubs(hass: HomeAssistant) -> list[MakerspaceConfigEntry]:
    """Return the hub entries that are loaded."""
    return [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def _devices_of(
    hass: HomeAssistant, call: ServiceCall, unknown: str, field: str
) -> tuple[set[str], set[str]]:
    """Return (devices named directly or through entities, devices of areas/labels)."""
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    direct = set(call.data.get(ATTR_DEVICE_ID, []))
    for entity_id in call.data.get(ATTR_ENTITY_ID, []):
        entry = entities.async_get(entity_id)
        if entry is None or entry.device_id is None:
            raise invalid(unknown, **{field: entity_id})
        direct.add(entry.device_id)
    grouped: set[str] = set()
    areas = set(call.data.get(ATTR_AREA_ID, []))
    for floor_id in call.data.get(ATTR_FLOOR_ID, []):
        areas.update(area.id for area in ar.async_entries_for_floor(ar.async_get(hass), floor_id))
    for area_id in areas:
        grouped.update(device.id for device in dr.async_entries_for_area(devices, area_id))
        grouped.update(
            entry.device_id
            for entry in er.async_entries_for_area(entities, area_id)
            if entry.device_id
        )
    for label_id in call.data.get(ATTR_LABEL_ID, []):
        grouped.update(device.id for device in dr.async_entries_for_label(devices, label_id))
        grouped.update(
            entry.device_id
            for entry in er.async_entries_for_label(entities, label_id)
            if entry.device_id
        )
    return direct, grouped


def _subentry_ids(hass: HomeAssistant, device_ids: Iterable[str]) -> dict[str, set[str]]:
    registry = dr.async_get(hass)
    found: dict[str, set[str]] = {}
    for device_id in device_ids:
        device = registry.async_get(device_id)
        found[device_id] = {
            identifier
            for domain, identifier in (device.identifiers if device else ())
            if domain == DOMAIN
        }
    return found


def hubs_of_call(hass: HomeAssistant, call: ServiceCall) -> list[MakerspaceConfigEntry]:
    """Return the running hub the call names, or every running hub; raise if none."""
    entries = running_hubs(hass)
    if (entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID)) is not None:
        entries = [entry for entry in entries if entry.entry_id == entry_id]
        if not entries:
            raise invalid("unknown_hub", hub=entry_id)
    if not entries:
        raise invalid("no_hub")
    return entries


@callback
def machines_of_call(hass: HomeAssistant, call: ServiceCall) -> list[Machine]:
    """Return the machines an action call targets; raise a clear error otherwise."""
    return _owners_of_call(
        hass,
        call,
        lambda hub: hub.machines,
        Machine.matches,
        (ATTR_MACHINE, "unknown_machine", "not_a_machine", "no_machine"),
    )


@callback
def printers_of_call(hass: HomeAssistant, call: ServiceCall) -> list[Printer]:
    """Return the printers an action call targets; raise a clear error otherwise."""
    return _owners_of_call(
        hass,
        call,
        lambda hub: hub.printers,
        lambda printer, wanted: printer.name.casefold() == wanted.strip().casefold(),
        (ATTR_PRINTER, "unknown_printer", "not_a_printer", "no_printer"),
    )


def _owners_of_call[O](
    hass: HomeAssistant,
    call: ServiceCall,
    owners_of: Callable[[MakerspaceHub], Mapping[str, O]],
    matches: Callable[[O, str], bool],
    keys: tuple[str, str, str, str],
) -> list[O]:
    """Return the owners of one kind that a call names by name field or target."""
    field, unknown, wrong_kind, none = keys
    owners = {
        sid: owner
        for entry in running_hubs(hass)
        for sid, owner in owners_of(entry.runtime_data).items()
    }
    chosen: dict[str, O] = {}
    if (wanted := call.data.get(field)) is not None:
        match = next((sid for sid, owner in owners.items() if matches(owner, wanted)), None)
        if match is None:
            raise invalid(unknown, **{field: wanted})
        chosen[match] = owners[match]
    direct, grouped = _devices_of(hass, call, unknown, field)
    for device_id, identifiers in _subentry_ids(hass, direct | grouped).items():
        hits = [sid for sid in identifiers if sid in owners]
        if not hits and device_id in direct:
            raise invalid(wrong_kind, device=device_id)
        chosen.update((sid, owners[sid]) for sid in hits)
    if not chosen:
        raise invalid(none)
    return list(chosen.values())
