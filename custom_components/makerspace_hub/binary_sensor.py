"""Binary sensors of a hub: the health of its state storage."""

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

from .entity import MakerspaceEntity
from .hub import MakerspaceConfigEntry
from .storage_health import HubStorage

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class StorageBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor computed from the hub's storage health."""

    is_on_fn: Callable[[HubStorage], bool]
    attributes_fn: Callable[[HubStorage], Mapping[str, Any]]


HUB_BINARY_SENSORS = (
    StorageBinarySensorDescription(
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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's binary sensors."""
    storage = entry.runtime_data.storage
    async_add_entities(
        StorageBinarySensor(entry, description, storage) for description in HUB_BINARY_SENSORS
    )


class StorageBinarySensor(MakerspaceEntity, BinarySensorEntity):
    """A binary sensor of the hub about its state storage."""

    entity_description: StorageBinarySensorDescription

    def __init__(
        self,
        entry: MakerspaceConfigEntry,
        description: StorageBinarySensorDescription,
        storage: HubStorage,
    ) -> None:
        """Watch `storage`."""
        super().__init__(entry, None, description, storage)
        self._storage = storage

    @property
    def is_on(self) -> bool:
        """Return True while there is a problem."""
        return self.entity_description.is_on_fn(self._storage)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """Return what is wrong."""
        return self.entity_description.attributes_fn(self._storage)
