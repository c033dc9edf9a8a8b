"""Switch per machine: Relay. On = the machine is powered.

Turning it off ends the session (the card must be presented again); turning it on
is a remote enable by a Home Assistant admin, recorded as an override session, and
refused while the machine is oopsed or locked out.
"""

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import MakerspaceEntity
from .hub import MakerspaceConfigEntry
from .machine import Machine

PARALLEL_UPDATES = 0

RELAY = SwitchEntityDescription(key="relay", translation_key="relay")
REMOTE_NAME = "Home Assistant"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each machine's Relay switch."""
    for subentry_id, machine in entry.runtime_data.machines.items():
        async_add_entities(
            [RelaySwitch(entry, subentry_id, machine)], config_subentry_id=subentry_id
        )


class RelaySwitch(MakerspaceEntity, SwitchEntity):
    """The machine's relay."""

    def __init__(self, entry: MakerspaceConfigEntry, subentry_id: str, machine: Machine) -> None:
        """Control `machine`'s relay."""
        super().__init__(entry, entry.subentries[subentry_id], RELAY, machine)
        self._machine = machine

    @property
    def is_on(self) -> bool:
        """Return True while the relay is energized."""
        return self._machine.reply.relay

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Enable the machine remotely, as the admin who asked."""
        name = REMOTE_NAME
        if self._context is not None and self._context.user_id is not None:
            user = await self.hass.auth.async_get_user(self._context.user_id)
            if user is not None and user.name:
                name = user.name
        self._machine.async_remote_enable(name)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the machine off; the member must present the card again."""
        self._machine.async_end_session()
