"""Lock per machine: Lockout. Locked = locked out for maintenance.

Its `reason` attribute is the lockout's reason as the board shows it (the `lockout`
action's `reason`, or "Service due"); locking the entity gives no reason.

Every user may lock a machine out; unlocking makes it usable again, which is for
admins and automations (see `authority`).
"""

from typing import Any

from homeassistant.components.lock import LockEntity, LockEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import SUBENTRY_MACHINE
from .entity import EntityMaker, MakerspaceEntity, async_add_owner_entities
from .hub import MakerspaceConfigEntry
from .machines.authority import async_require_machine_usable
from .machines.machine import Machine

PARALLEL_UPDATES = 0

LOCKOUT = LockEntityDescription(key="lockout", translation_key="lockout")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each machine's Lockout lock."""
    async_add_owner_entities(entry, async_add_entities, entry.runtime_data.owners, LOCKS_BY_KIND)


class LockoutLock(MakerspaceEntity[Machine], LockEntity):
    """Locking locks the machine out; unlocking lets members use it again."""

    @property
    def is_locked(self) -> bool:
        """Return True while the machine is locked out."""
        return self.source.state.locked_out

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the reason the board shows (None: none, or not locked out)."""
        state = self.source.state
        return {"reason": state.lockout_reason if state.locked_out else None}

    async def async_lock(self, **kwargs: Any) -> None:
        """Lock the machine out (ends any session)."""
        self.source.async_set_flags(locked_out=True)

    async def async_unlock(self, **kwargs: Any) -> None:
        """End the lockout, if the caller may make the machine usable."""
        await async_require_machine_usable(self.hass, self._context, self.source)
        self.source.async_set_flags(locked_out=False)


LOCKS_BY_KIND: dict[str, EntityMaker] = {
    SUBENTRY_MACHINE: lambda entry, sid, machine: [LockoutLock(entry, sid, LOCKOUT, machine)],
}
