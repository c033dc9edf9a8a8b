"""Events: Access per machine, Detection per printer, Recording per recording sensor.

Access: logins, logouts, refusals, oops, lockout, reboots, service due and serviced,
cards enrolled; the data names the machine, the member and the reason, a fob appears
only as its keyed tag. Detection: print started, warning, failure, paused, powered off,
ignored; the data names the printer and the print. Recording: started, finished,
failed; the data names the sensor, the slot and the file. Each event also goes on the
bus, with the same data, whether or not its entity is enabled (`bus_events`).
"""

from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .bus_events import access_event_data, named_event_data
from .const import SUBENTRY_MACHINE, SUBENTRY_PRINTER, SUBENTRY_RECORDING_SENSOR
from .entity import EntityMaker, MakerspaceEntity, async_add_owner_entities
from .hub import MakerspaceConfigEntry
from .machines.machine import Machine
from .machines.sessions import AccessEvent
from .printers.printer import Printer
from .recording.recording_sensor import RecordingSensor

PARALLEL_UPDATES = 0


ACCESS_EVENT_TYPES = [
    "login",
    "logout",
    "denied",
    "unknown_fob",
    "expired",
    "override_login",
    "warn_only_login",
    "oops",
    "unoops",
    "lockout",
    "unlock",
    "reboot",
    "guessing",
    "service_due",
    "serviced",
    "card_enrolled",
]
ACCESS = EventEntityDescription(
    key="access", translation_key="access", event_types=ACCESS_EVENT_TYPES
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each machine's Access and each printer's Detection event entity."""
    async_add_owner_entities(entry, async_add_entities, entry.runtime_data.owners, EVENTS)


class AccessEventEntity(MakerspaceEntity[Machine], EventEntity):
    """What happens at the machine."""

    async def async_added_to_hass(self) -> None:
        """Follow the machine's events, not its every change (no super() on purpose)."""
        self.async_on_remove(self.source.async_add_event_listener(self._on_event))

    @callback
    def _on_event(self, event: AccessEvent) -> None:
        # The same data as the bus event (`bus_events`).
        self._trigger_event(event.type, access_event_data(self.source, event))
        self.async_write_ha_state()


DETECTION_EVENT_TYPES = [
    "print_started",
    "warning",
    "failure",
    "paused",
    "powered_off",
    "ignored",
    "snoozed",
    "detection_on",
    "detection_off",
]
DETECTION = EventEntityDescription(
    key="detection", translation_key="detection", event_types=DETECTION_EVENT_TYPES
)


class NamedEventEntity(MakerspaceEntity[Printer | RecordingSensor], EventEntity):
    """What a printer's failure detection or a recording sensor did."""

    async def async_added_to_hass(self) -> None:
        """Follow the source's events (no super(): not its every change)."""
        self.async_on_remove(self.source.async_add_event_listener(self._on_event))

    @callback
    def _on_event(self, event_type: str, data: dict[str, Any]) -> None:
        # The same data as the bus event (`bus_events`).
        self._trigger_event(event_type, named_event_data(self.source, data))
        self.async_write_ha_state()


RECORDING_EVENT_TYPES = ["started", "finished", "failed"]
RECORDING = EventEntityDescription(
    key="recording", translation_key="recording", event_types=RECORDING_EVENT_TYPES
)


EVENTS: dict[str, EntityMaker] = {
    SUBENTRY_MACHINE: lambda entry, sid, machine: [AccessEventEntity(entry, sid, ACCESS, machine)],
    SUBENTRY_PRINTER: lambda entry, sid, printer: [
        NamedEventEntity(entry, sid, DETECTION, printer)
    ],
    SUBENTRY_RECORDING_SENSOR: lambda entry, sid, sensor: [
        NamedEventEntity(entry, sid, RECORDING, sensor)
    ],
}

# The event types of each kind of device; its device triggers offer the same.
EVENT_TYPES: dict[str, list[str]] = {
    SUBENTRY_MACHINE: ACCESS_EVENT_TYPES,
    SUBENTRY_PRINTER: DETECTION_EVENT_TYPES,
    SUBENTRY_RECORDING_SENSOR: RECORDING_EVENT_TYPES,
}
