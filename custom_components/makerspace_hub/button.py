"""Buttons per machine: Oops (stop it for a problem) and Clear (unoops and unlock)."""

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import MakerspaceEntity
from .hub import MakerspaceConfigEntry
from .machine import Machine

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class MachineButtonDescription(ButtonEntityDescription):
    """A button acting on a machine."""

    press_fn: Callable[[Machine], None]


BUTTONS = (
    MachineButtonDescription(
        key="oops",
        translation_key="oops",
        press_fn=lambda machine: machine.async_set_flags(oopsed=True),
    ),
    MachineButtonDescription(
        key="clear",
        translation_key="clear",
        press_fn=lambda machine: machine.async_set_flags(oopsed=False, locked_out=False),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each machine's buttons."""
    for subentry_id, machine in entry.runtime_data.machines.items():
        async_add_entities(
            (MachineButton(entry, subentry_id, description, machine) for description in BUTTONS),
            config_subentry_id=subentry_id,
        )


class MachineButton(MakerspaceEntity, ButtonEntity):
    """A button of a machine."""

    entity_description: MachineButtonDescription

    def __init__(
        self,
        entry: MakerspaceConfigEntry,
        subentry_id: str,
        description: MachineButtonDescription,
        machine: Machine,
    ) -> None:
        """Act on `machine`."""
        super().__init__(entry, entry.subentries[subentry_id], description, machine)
        self._machine = machine

    async def async_press(self) -> None:
        """Act."""
        self.entity_description.press_fn(self._machine)
