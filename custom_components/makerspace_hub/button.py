"""Buttons per machine: Oops, Clear (unoops and unlock) and Serviced.

Serviced exists with a service interval: it starts a new one (it does not unlock).

Every user may press Oops; Clear and Serviced are for admins and automations (see
`authority`): Clear makes the machine usable again, Serviced says it was serviced.
"""

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import SUBENTRY_MACHINE
from .entity import EntityMaker, MakerspaceEntity, async_add_owner_entities
from .hub import MakerspaceConfigEntry
from .machines.authority import async_require_machine_admin, async_require_machine_usable
from .machines.machine import Machine

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class MachineButtonDescription(ButtonEntityDescription):
    """A button acting on a machine."""

    press_fn: Callable[[Machine], None]
    # True: pressing makes the machine usable again, so the caller is checked first.
    makes_usable: bool = False
    # True: for admins and automations only, even where every user may make usable.
    admins_only: bool = False
    exists_fn: Callable[[Machine], bool] = lambda _: True


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
        makes_usable=True,
    ),
    # A new service interval is an admin's word that the machine was serviced.
    MachineButtonDescription(
        key="serviced",
        translation_key="serviced",
        press_fn=lambda machine: machine.async_serviced(),
        admins_only=True,
        exists_fn=lambda machine: machine.settings.service_interval_hours > 0,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each machine's buttons."""
    async_add_owner_entities(entry, async_add_entities, entry.runtime_data.owners, BUTTONS_BY_KIND)


class MachineButton(MakerspaceEntity[Machine], ButtonEntity):
    """A button of a machine."""

    entity_description: MachineButtonDescription

    async def async_press(self) -> None:
        """Act, once the caller may (Clear is for admins and automations)."""
        if self.entity_description.admins_only:
            await async_require_machine_admin(self.hass, self._context, self.source)
        elif self.entity_description.makes_usable:
            await async_require_machine_usable(self.hass, self._context, self.source)
        self.entity_description.press_fn(self.source)


BUTTONS_BY_KIND: dict[str, EntityMaker] = {
    SUBENTRY_MACHINE: lambda entry, sid, machine: [
        MachineButton(entry, sid, description, machine)
        for description in BUTTONS
        if description.exists_fn(machine)
    ],
}
