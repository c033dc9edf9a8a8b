"""Switches: Relay per machine, Recording per recording sensor.

Relay: on = the machine is powered.

Turning it off ends the session (the card must be presented again) and is open to
every user; turning it on is a remote enable by a Home Assistant admin or an
automation (see `authority`), recorded as an override session, and refused while the
machine is oopsed or locked out.
"""

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import SUBENTRY_MACHINE, SUBENTRY_RECORDING_SENSOR
from .entity import EntityMaker, MakerspaceEntity, async_add_owner_entities
from .hub import MakerspaceConfigEntry
from .machines.authority import async_require_machine_usable
from .machines.machine import Machine
from .recording.recording_sensor import RecordingSensor

PARALLEL_UPDATES = 0

RELAY = SwitchEntityDescription(key="relay", translation_key="relay")
REMOTE_NAME = "Home Assistant"


RECORDING = SwitchEntityDescription(key="recording", translation_key="recording")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each machine's Relay switch and each recording sensor's Recording switch."""
    async_add_owner_entities(entry, async_add_entities, entry.runtime_data.owners, SWITCHES)


class RelaySwitch(MakerspaceEntity[Machine], SwitchEntity):
    """The machine's relay."""

    @property
    def is_on(self) -> bool:
        """Return True while the relay is energized."""
        return self.source.reply.relay

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Enable the machine remotely, as the admin (or automation) who asked."""
        caller = await async_require_machine_usable(self.hass, self._context, self.source)
        self.source.async_remote_enable(caller.name or REMOTE_NAME)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the machine off; the member must present the card again."""
        self.source.async_end_session()


class RecordingSwitch(MakerspaceEntity[RecordingSensor], SwitchEntity):
    """On: the sensor records on its schedule. Off: no recording starts any more."""

    @property
    def is_on(self) -> bool:
        """Return True while the sensor follows its schedule."""
        return self.source.counts.on

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start recording from the current window's next slot."""
        self.source.async_turn_on()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Cancel every pending slot (a running recording finishes)."""
        self.source.async_turn_off()


SWITCHES: dict[str, EntityMaker] = {
    SUBENTRY_MACHINE: lambda entry, sid, machine: [RelaySwitch(entry, sid, RELAY, machine)],
    SUBENTRY_RECORDING_SENSOR: lambda entry, sid, sensor: [
        RecordingSwitch(entry, sid, RECORDING, sensor)
    ],
}
