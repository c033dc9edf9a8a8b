"""Lock per machine: Lockout. Locked = locked out for maintenance."""

from typing import Any

from homeassistant.components.lock import LockEntity, LockEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import MakerspaceEntity
from .hub import MakerspaceConfigEntry
from .machine import Machine

PARALLEL_UPDATES = 0

LOCKOUT = LockEntityDescription(key="lockout", translation_key="lockout")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each machine's Lockout lock."""
    for subentry_id, machine in entry.runtime_data.machines.items():
        async_add_entities(
            [LockoutLock(entry, subentry_id, machine)], config_subentry_id=subentry_id
        )


class LockoutLock(MakerspaceEntity, LockEntity):
    """Locking locks the machine out; unlocking lets members use it again."""

    def __init__(self, entry: MakerspaceConfigEntry, subentry_id: str, machine: Machine) -> None:
        """Control `machine`'s lockout flag."""
        super().__init__(entry, entry.subentries[subentry_id], LOCKOUT, machine)
        self._machine = machine

    @property
    def is_locked(self) -> bool:
        """Return True while the machine is locked out."""
        return self._machine.state.locked_out

    async def async_lock(self, **kwargs: Any) -> None:
        """Lock the machine out (ends any session)."""
        self._machine.async_set_flags(locked_out=True)

    async def async_unlock(self, **kwargs: Any) -> None:
        """End the lockout."""
        self._machine.async_set_flags(locked_out=False)
