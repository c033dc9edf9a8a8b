"""Switches: Relay per machine, Recording per recording sensor, Failure detection per printer.

Relay: on = the machine is powered.

Turning it off ends the session (the card must be presented again) and is open to
every user; turning it on is a remote enable by a Home Assistant admin or an
automation (see `authority`), recorded as an override session, and refused while the
machine is oopsed or locked out.
"""

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, SUBENTRY_MACHINE, SUBENTRY_PRINTER, SUBENTRY_RECORDING_SENSOR
from .entity import EntityMaker, MakerspaceEntity, async_add_owner_entities
from .hub import MakerspaceConfigEntry
from .machines.authority import CallerKind, async_identify, async_require_machine_usable
from .machines.machine import Machine
from .printers.printer import Printer
from .recording.recording_sensor import RecordingSensor

PARALLEL_UPDATES = 0

RELAY = SwitchEntityDescription(key="relay", translation_key="relay")
REMOTE_NAME = "Home Assistant"


RECORDING = SwitchEntityDescription(key="recording", translation_key="recording")
FAILURE_DETECTION = SwitchEntityDescription(
    key="failure_detection", translation_key="failure_detection"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the machines' Relay, recording sensors' Recording, printers' Failure detection."""
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


class FailureDetectionSwitch(MakerspaceEntity[Printer], SwitchEntity):
    """On: the printer's prints are watched. Off: no snapshots, no ML requests.

    Like stopping a machine, more watching is for everyone: any user may switch it on.
    Switching it off lets a print fail unwatched: admins and automations only.
    """

    @property
    def is_on(self) -> bool:
        """Return True while the printer's prints are watched."""
        return self.source.watch.detecting

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Watch the printer's prints again (a print in progress warms up anew)."""
        self.source.async_set_detecting(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop watching the printer (admins and automations only)."""
        caller = await async_identify(self.hass, self._context)
        if caller.kind not in (CallerKind.ADMIN, CallerKind.AUTOMATION):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="detection_admin_required",
                translation_placeholders={"printer": self.source.name},
            )
        self.source.async_set_detecting(False)


SWITCHES: dict[str, EntityMaker] = {
    SUBENTRY_MACHINE: lambda entry, sid, machine: [RelaySwitch(entry, sid, RELAY, machine)],
    SUBENTRY_RECORDING_SENSOR: lambda entry, sid, sensor: [
        RecordingSwitch(entry, sid, RECORDING, sensor)
    ],
    SUBENTRY_PRINTER: lambda entry, sid, printer: [
        FailureDetectionSwitch(entry, sid, FAILURE_DETECTION, printer)
    ],
}
