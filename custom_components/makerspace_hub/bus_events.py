"""Each happening of a machine, printer or recording sensor, once on the event bus.

Every event an owner emits (what its Access, Detection or Recording event entity
shows) is also fired as one `makerspace_hub_event` on Home Assistant's bus, whether
or not the event entity is enabled: device triggers (`device_trigger`) and the
logbook (`logbook`) are built on it. A state trigger on an event entity can miss the
second of two events in one timestamp; a bus event cannot be missed.

The data is the event entity's (built here, for both), plus the owner's device, the
hub entry and the event type. A card appears only as its keyed tag, never its code;
unknown cards and fob guessing arrive already coalesced by the access rules.
"""

from collections.abc import Callable
from typing import Any

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import (
    ATTR_ENTRY_ID,
    ATTR_TYPE,
    DOMAIN,
    EVENT_MAKERSPACE_HUB,
    SUBENTRY_MACHINE,
    SUBENTRY_PRINTER,
    SUBENTRY_RECORDING_SENSOR,
)
from .hub import MakerspaceConfigEntry
from .machines.machine import Machine
from .machines.sessions import AccessEvent
from .printers.printer import Printer
from .recording.recording_sensor import RecordingSensor

# The key that names the device in an event's data, by kind of device.
NAME_KEYS: dict[str, str] = {
    SUBENTRY_MACHINE: "machine",
    SUBENTRY_PRINTER: "printer",
    SUBENTRY_RECORDING_SENSOR: "sensor",
}


def access_event_data(machine: Machine, event: AccessEvent) -> dict[str, Any]:
    """Return the data of a machine's Access event (the fob: its keyed tag only)."""
    return {
        NAME_KEYS[SUBENTRY_MACHINE]: machine.settings.display_name,
        "member": event.member,
        "account_id": event.account_id,
        "reason": event.reason,
        "fob": event.fob,
        "source": event.source,
    }


def named_event_data(source: Printer | RecordingSensor, data: dict[str, Any]) -> dict[str, Any]:
    """Return the data of a printer's Detection or a recording sensor's Recording event."""
    return {NAME_KEYS[source.kind]: source.name, **data}


@callback
def async_fire_owner_events(hass: HomeAssistant, entry: MakerspaceConfigEntry) -> CALLBACK_TYPE:
    """Fire a bus event for each event of the hub's owners; return the remover.

    Called once the owners' devices exist (their ids go into the events) and before
    the platforms: the bus sees every event the event entities see.
    """
    registry = dr.async_get(hass)
    device_ids = {
        identifier: device.id
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
        for domain, identifier in device.identifiers
        if domain == DOMAIN
    }
    removers: list[CALLBACK_TYPE] = []
    for subentry_id, owner in entry.runtime_data.owners.items():
        fire = _firer(hass, device_ids.get(subentry_id), entry.entry_id)
        if isinstance(owner, Machine):
            removers.append(owner.async_add_event_listener(_on_access(owner, fire)))
        elif isinstance(owner, Printer | RecordingSensor):
            removers.append(owner.async_add_event_listener(_on_named(owner, fire)))

    @callback
    def remove() -> None:
        for remover in removers:
            remover()

    return remove


type _Fire = Callable[[str, dict[str, Any]], None]


def _firer(hass: HomeAssistant, device_id: str | None, entry_id: str) -> _Fire:
    @callback
    def fire(event_type: str, data: dict[str, Any]) -> None:
        hass.bus.async_fire(
            EVENT_MAKERSPACE_HUB,
            {ATTR_DEVICE_ID: device_id, ATTR_ENTRY_ID: entry_id, ATTR_TYPE: event_type, **data},
        )

    return fire


def _on_access(machine: Machine, fire: _Fire) -> Callable[[AccessEvent], None]:
    @callback
    def on_event(event: AccessEvent) -> None:
        fire(event.type, access_event_data(machine, event))

    return on_event


def _on_named(
    source: Printer | RecordingSensor, fire: _Fire
) -> Callable[[str, dict[str, Any]], None]:
    @callback
    def on_event(event_type: str, data: dict[str, Any]) -> None:
        fire(event_type, named_event_data(source, data))

    return on_event
