"""Binary sensors.

Hub: state storage (problem), ML API (connectivity). Machine: Oops, Online, Second
relay, Service due (with a service interval). Printer: Print failure. Recording
sensor: Recording now.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import SUBENTRY_MACHINE, SUBENTRY_PRINTER, SUBENTRY_RECORDING_SENSOR
from .entity import (
    EntityMaker,
    Observable,
    SourceDescription,
    SourceEntity,
    async_add_owner_entities,
)
from .hub import MakerspaceConfigEntry
from .machines.machine import Machine
from .printers.ml_service import MLService
from .printers.printer import Printer
from .recording.recording_sensor import RecordingSensor
from .storage.hub_storage import HubStorage

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class MakerspaceBinarySensorDescription[T](BinarySensorEntityDescription, SourceDescription[T]):
    """A binary sensor computed from its source (the hub's storage, a machine)."""

    is_on_fn: Callable[[T], bool]
    exists_fn: Callable[[T], bool] = lambda _: True


HUB_BINARY_SENSORS: tuple[MakerspaceBinarySensorDescription[HubStorage], ...] = (
    MakerspaceBinarySensorDescription(
        key="state_storage",
        translation_key="state_storage",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda storage: storage.slow or bool(storage.failing),
        attributes_fn=lambda storage: {
            "hung_saves": sum(store.hung for store in storage.stores),
            "failing": [store.label for store in storage.failing],
        },
    ),
)
ML_API_BINARY_SENSORS: tuple[MakerspaceBinarySensorDescription[MLService], ...] = (
    MakerspaceBinarySensorDescription(
        key="ml_api",
        translation_key="ml_api",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda service: service.available,
        attributes_fn=lambda service: {"last_error": service.last_error},
        exists_fn=lambda service: service.configured,
    ),
)
PRINTER_BINARY_SENSORS: tuple[MakerspaceBinarySensorDescription[Printer], ...] = (
    MakerspaceBinarySensorDescription(
        key="print_failure",
        translation_key="print_failure",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda printer: printer.job.active and printer.job.failure,
        attributes_fn=lambda printer: {"print": printer.job.name},
        available_fn=lambda printer: printer.available,
    ),
)
RECORDING_BINARY_SENSORS: tuple[MakerspaceBinarySensorDescription[RecordingSensor], ...] = (
    MakerspaceBinarySensorDescription(
        key="recording_now",
        translation_key="recording_now",
        device_class=BinarySensorDeviceClass.RUNNING,
        is_on_fn=lambda sensor: sensor.recording_now,
    ),
)
MACHINE_BINARY_SENSORS: tuple[MakerspaceBinarySensorDescription[Machine], ...] = (
    MakerspaceBinarySensorDescription(
        key="oops",
        translation_key="oops",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda machine: machine.state.oopsed,
    ),
    MakerspaceBinarySensorDescription(
        key="online",
        translation_key="online",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        is_on_fn=lambda machine: machine.online,
    ),
    MakerspaceBinarySensorDescription(
        key="second_relay",
        translation_key="second_relay",
        device_class=BinarySensorDeviceClass.POWER,
        is_on_fn=lambda machine: machine.reply.second_relay,
        attributes_fn=lambda machine: {
            "decision": machine.state.second_relay(machine.settings),
            "reported": machine.state.telemetry.get("second_relay_state"),
        },
        exists_fn=lambda machine: machine.settings.second_relay is not None,
    ),
    MakerspaceBinarySensorDescription(
        key="service_due",
        translation_key="service_due",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda machine: machine.state.service_due_sent,
        exists_fn=lambda machine: machine.settings.service_interval_hours > 0,
    ),
)


def _described(
    descriptions: tuple[MakerspaceBinarySensorDescription[Any], ...],
) -> EntityMaker:
    return lambda entry, subentry_id, owner: [
        MakerspaceBinarySensor(entry, subentry_id, description, owner)
        for description in descriptions
        if description.exists_fn(owner)
    ]


BINARY_SENSORS: dict[str, EntityMaker] = {
    SUBENTRY_MACHINE: _described(MACHINE_BINARY_SENSORS),
    SUBENTRY_PRINTER: _described(PRINTER_BINARY_SENSORS),
    SUBENTRY_RECORDING_SENSOR: _described(RECORDING_BINARY_SENSORS),
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's binary sensors and each device's."""
    hub = entry.runtime_data
    async_add_entities(
        [
            *(MakerspaceBinarySensor(entry, None, d, hub.storage) for d in HUB_BINARY_SENSORS),
            *(
                MakerspaceBinarySensor(entry, None, d, hub.ml_service)
                for d in ML_API_BINARY_SENSORS
                if d.exists_fn(hub.ml_service)
            ),
        ]
    )
    async_add_owner_entities(entry, async_add_entities, hub.owners, BINARY_SENSORS)


class MakerspaceBinarySensor[T: Observable](SourceEntity[T], BinarySensorEntity):
    """A binary sensor of the hub or of a device."""

    entity_description: MakerspaceBinarySensorDescription[T]

    @property
    def is_on(self) -> bool:
        """Return the state."""
        return self.entity_description.is_on_fn(self.source)
