"""Sensors: state save timeouts of the hub (total) and of each owner."""

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import MakerspaceEntity
from .hub import MakerspaceConfigEntry
from .state_store import OwnerStore
from .storage_health import HubStorage

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class HubStorageSensorDescription(SensorEntityDescription):
    """A sensor of the hub computed from its storage."""

    value_fn: Callable[[HubStorage], int]


@dataclass(frozen=True, kw_only=True)
class OwnerStoreSensorDescription(SensorEntityDescription):
    """A sensor of an owner's device computed from its store."""

    value_fn: Callable[[OwnerStore], int]


HUB_SENSORS = (
    HubStorageSensorDescription(
        key="state_save_timeouts",
        translation_key="state_save_timeouts",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda storage: storage.save_timeouts,
    ),
)
OWNER_SENSORS = (
    OwnerStoreSensorDescription(
        key="state_save_timeouts",
        translation_key="state_save_timeouts",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda store: store.save_timeouts,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's sensors and each owner's."""
    hub = entry.runtime_data
    async_add_entities(
        HubStorageSensor(entry, description, hub.storage) for description in HUB_SENSORS
    )
    for subentry_id, store in hub.stores.items():
        async_add_entities(
            (
                OwnerStoreSensor(entry, subentry_id, description, store)
                for description in OWNER_SENSORS
            ),
            config_subentry_id=subentry_id,
        )


class HubStorageSensor(MakerspaceEntity, SensorEntity):
    """A sensor of the hub about its state storage."""

    entity_description: HubStorageSensorDescription

    def __init__(
        self,
        entry: MakerspaceConfigEntry,
        description: HubStorageSensorDescription,
        storage: HubStorage,
    ) -> None:
        """Watch `storage`."""
        super().__init__(entry, None, description, storage)
        self._storage = storage

    @property
    def native_value(self) -> int:
        """Return the value."""
        return self.entity_description.value_fn(self._storage)


class OwnerStoreSensor(MakerspaceEntity, SensorEntity):
    """A sensor of an owner's device about its state store."""

    entity_description: OwnerStoreSensorDescription

    def __init__(
        self,
        entry: MakerspaceConfigEntry,
        subentry_id: str,
        description: OwnerStoreSensorDescription,
        store: OwnerStore,
    ) -> None:
        """Watch the hub's storage for changes of `store`."""
        super().__init__(entry, entry.subentries[subentry_id], description, store.hub)
        self._store = store

    @property
    def native_value(self) -> int:
        """Return the value."""
        return self.entity_description.value_fn(self._store)
