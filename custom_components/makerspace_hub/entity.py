"""Devices of a hub and the base class of every makerspace_hub entity.

The hub is one device; every subentry (machine, recording sensor, printer) is one
device linked to it as its via device (set up by `async_sync_devices`). Unique ids
are `<entry id>_<subentry id or "hub">_<key>`.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from homeassistant.components.sensor import SensorEntity
from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_NAME, DOMAIN
from .hub import device_model
from .owner import Owner

MANUFACTURER = "makerspace_hub"


def hub_device_info(entry: ConfigEntry) -> DeviceInfo:
    """Describe the hub's own device."""
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.data[CONF_NAME],
        manufacturer=MANUFACTURER,
        model="Makerspace hub",
        entry_type=DeviceEntryType.SERVICE,
    )


def subentry_device_info(subentry: ConfigSubentry) -> DeviceInfo:
    """Describe the device of a machine, recording sensor or printer.

    The link to the hub device is not part of it: `via_device` is deprecated in the
    newest registry and `via_device_id` unknown to the oldest, so the link is set by
    device id in `async_sync_devices`, which works on both.
    """
    return DeviceInfo(
        identifiers={(DOMAIN, subentry.subentry_id)},
        name=subentry.title,
        manufacturer=MANUFACTURER,
        model=device_model(subentry.subentry_type),
    )


@callback
def async_sync_devices(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Create the hub device and one device per subentry; remove stale ones."""
    registry = dr.async_get(hass)
    hub = registry.async_get_or_create(config_entry_id=entry.entry_id, **hub_device_info(entry))
    keep = {hub.id}
    for subentry in entry.subentries.values():
        device = registry.async_get_or_create(
            config_entry_id=entry.entry_id,
            config_subentry_id=subentry.subentry_id,
            **subentry_device_info(subentry),
        )
        if device.via_device_id != hub.id:
            registry.async_update_device(device.id, via_device_id=hub.id)
        keep.add(device.id)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if device.id not in keep:
            registry.async_remove_device(device.id)


class Observable(Protocol):
    """Something that calls its listeners when it changes (a store, a machine...)."""

    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` on every change; return the function that removes it."""


class MakerspaceEntity[S: Observable](Entity):
    """An entity of the hub device (no subentry) or of a subentry's device.

    It is pushed, never polled: it writes its state whenever its `source` changes.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        entry: ConfigEntry,
        subentry_id: str | None,
        description: EntityDescription,
        source: S,
    ) -> None:
        """Attach the entity to its device and its source of changes."""
        self.entity_description = description
        self.source = source
        self._shown: tuple[Any, ...] | None = None  # what the last write showed
        self._native: tuple[Any, ...] | None = None  # a sensor's, before conversions
        self._attr_unique_id = f"{entry.entry_id}_{subentry_id or 'hub'}_{description.key}"
        self._attr_device_info = (
            subentry_device_info(entry.subentries[subentry_id])
            if subentry_id
            else hub_device_info(entry)
        )

    async def async_added_to_hass(self) -> None:
        """Follow the source's changes."""
        await super().async_added_to_hass()
        self.async_on_remove(self.source.async_add_listener(self._async_source_changed))

    @callback
    def _async_source_changed(self) -> None:
        """Write the state when the source changed something this entity shows.

        A hundred boards post every second or so and most posts change nothing an
        entity shows: skipping those writes keeps the event loop and the recorder free.
        A sensor's state is its native value converted and checked (`SensorEntity.state`,
        the costliest part of this on every post): an unchanged native value is an
        unchanged state, so that is looked at first. (A change of the sensor's unit
        options changes its state too: Home Assistant writes that one itself.)
        """
        if isinstance(self, SensorEntity):
            native = (
                self.available,
                self.native_value,
                self.state_attributes,
                self.extra_state_attributes,
            )
            if native == self._native:
                return
            self._native = native
        shown = (self.available, self.state, self.state_attributes, self.extra_state_attributes)
        if shown != self._shown:
            self._shown = shown
            self.async_write_ha_state()


@dataclass(frozen=True, kw_only=True)
class SourceDescription[T](EntityDescription):
    """What an entity computes from its source besides its state."""

    attributes_fn: Callable[[T], Mapping[str, Any]] = lambda _: {}
    available_fn: Callable[[T], bool] = lambda _: True


class SourceEntity[T: Observable](MakerspaceEntity[T]):
    """An entity whose availability and attributes its description computes."""

    entity_description: SourceDescription[T]

    @property
    def available(self) -> bool:
        """Return False while the source cannot be trusted."""
        return super().available and self.entity_description.available_fn(self.source)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """Return the details."""
        return self.entity_description.attributes_fn(self.source)


# What a platform adds for one kind of device: (entry, subentry id, owner) -> entities.
type EntityMaker = Callable[[ConfigEntry, str, Any], Iterable[Entity]]


@callback
def async_add_owner_entities(
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    owners: Mapping[str, Owner],
    makers: Mapping[str, EntityMaker],
) -> None:
    """Add each owner's entities, on its subentry, made by the maker of its kind.

    A platform lists its makers by kind (none: the kind has no entity there), so a
    new kind of device adds makers, not another loop.
    """
    for subentry_id, owner in owners.items():
        if (make := makers.get(owner.kind)) is not None:
            async_add_entities(make(entry, subentry_id, owner), config_subentry_id=subentry_id)
