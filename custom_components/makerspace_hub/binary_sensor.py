"""Binary sensors: the hub's state storage; each machine's Oops, Online, Second relay."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import MakerspaceEntity, Observable, async_add_machine_entities
from .hub import MakerspaceConfigEntry
from .machine import Machine
from .storage_health import HubStorage

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class MakerspaceBinarySensorDescription[T](BinarySensorEntityDescription):
    """A binary sensor computed from its source (the hub's storage, a machine)."""

    is_on_fn: Callable[[T], bool]
    attributes_fn: Callable[[T], Mapping[str, Any]] = lambda _: {}
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
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's and the machines' binary sensors."""
    hub = entry.runtime_data
    async_add_entities(
        MakerspaceBinarySensor(entry, None, description, hub.storage)
        for description in HUB_BINARY_SENSORS
    )
    async_add_machine_entities(
        entry,
        async_add_entities,
        lambda subentry_id, machine: [
            MakerspaceBinarySensor(entry, subentry_id, description, machine)
            for description in MACHINE_BINARY_SENSORS
            if description.exists_fn(machine)
        ],
    )


class MakerspaceBinarySensor[T: Observable](MakerspaceEntity[T], BinarySensorEntity):
    """A binary sensor of the hub or of a machine."""

    entity_description: MakerspaceBinarySensorDescription[T]

    @property
    def is_on(self) -> bool:
        """Return the state."""
        return self.entity_description.is_on_fn(self.source)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """Return the details."""
        return self.entity_description.attributes_fn(self.source)
