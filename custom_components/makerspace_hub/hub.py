"""The running hub: the validated configuration of one hub entry and its subentries.

`MakerspaceHub` is the entry's typed `runtime_data`. It is built from the stored
entry at setup; a subentry that fails validation (hand-edited storage, a downgrade)
is skipped with a repair issue instead of taking every other machine down with it.
"""

from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import issue_registry as ir

from .const import (
    DOMAIN,
    LOGGER,
    SUBENTRY_MACHINE,
    SUBENTRY_PRINTER,
    SUBENTRY_RECORDING_SENSOR,
)
from .settings import (
    HubSettings,
    InvalidConfigError,
    MachineSettings,
    PrinterSettings,
    RecordingSensorSettings,
)

type MakerspaceConfigEntry = ConfigEntry[MakerspaceHub]


def invalid_subentry_issue_id(subentry_id: str) -> str:
    """Return the repair issue id for a subentry that cannot be read."""
    return f"invalid_subentry_{subentry_id}"


@dataclass
class MakerspaceHub:
    """One makerspace: its options and the devices configured in it."""

    settings: HubSettings
    machines: dict[str, MachineSettings] = field(default_factory=dict)
    recording_sensors: dict[str, RecordingSensorSettings] = field(default_factory=dict)
    printers: dict[str, PrinterSettings] = field(default_factory=dict)
    reload_scheduled: bool = False

    @classmethod
    def from_entry(cls, hass: HomeAssistant, entry: ConfigEntry) -> "MakerspaceHub":
        """Validate the entry's options and subentries."""
        try:
            hub = cls(settings=HubSettings.from_options(entry.options))
        except InvalidConfigError as problem:
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="invalid_options",
                translation_placeholders={"option": problem.field},
            ) from problem
        for subentry in entry.subentries.values():
            hub._add_subentry(hass, subentry)
        return hub

    def _add_subentry(self, hass: HomeAssistant, subentry: ConfigSubentry) -> None:
        issue_id = invalid_subentry_issue_id(subentry.subentry_id)
        subentry_id, data = subentry.subentry_id, subentry.data
        try:
            if subentry.subentry_type == SUBENTRY_MACHINE:
                self.machines[subentry_id] = MachineSettings.from_data(data)
            elif subentry.subentry_type == SUBENTRY_RECORDING_SENSOR:
                self.recording_sensors[subentry_id] = RecordingSensorSettings.from_data(data)
            elif subentry.subentry_type == SUBENTRY_PRINTER:
                self.printers[subentry_id] = PrinterSettings.from_data(data)
            else:
                LOGGER.warning("Ignoring %s: unknown subentry type", subentry.title)
        except InvalidConfigError as problem:
            LOGGER.error("Cannot use %s: invalid %s", subentry.title, problem.field)
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="invalid_subentry",
                translation_placeholders={"title": subentry.title, "field": problem.field},
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
