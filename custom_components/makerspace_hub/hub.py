"""The running hub: the validated configuration of one hub entry and its owners' stores.

`MakerspaceHub` is the entry's typed `runtime_data`. It is built from the stored
entry at setup; a subentry that fails validation (hand-edited storage, a downgrade)
is skipped with a repair issue instead of taking every other machine down with it.
Every valid subentry is an owner with a state store (see `state_store`).
"""

from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError, HomeAssistantError
from homeassistant.util import slugify

from .const import (
    CONF_NAME,
    DOMAIN,
    LOGGER,
    SUBENTRY_MACHINE,
    SUBENTRY_PRINTER,
    SUBENTRY_RECORDING_SENSOR,
)
from .hub_options import HubOptions
from .issues import async_set_issue
from .machines.board_gate import DATA_GATE
from .machines.installation import async_get_fob_keys
from .machines.machine import Machine
from .machines.members_file import MembersFile
from .machines.settings import MachineSettings
from .printers.frames import FrameStore
from .printers.ml_service import MLService
from .printers.printer import Printer
from .printers.settings import PrinterSettings
from .recording.recording_sensor import RecordingSensor
from .recording.settings import RecordingSensorSettings
from .storage.hub_storage import HubStorage
from .storage.owner_store import OwnerStore
from .validation import InvalidConfigError, resolve_config_path

type MakerspaceConfigEntry = ConfigEntry[MakerspaceHub]
type OwnerSettings = MachineSettings | RecordingSensorSettings | PrinterSettings


def invalid_subentry_issue_id(subentry_id: str) -> str:
    """Return the repair issue id for a subentry that cannot be read."""
    return f"invalid_subentry_{subentry_id}"


def parse_subentry(subentry: ConfigSubentry) -> OwnerSettings | None:
    """Return the settings of a subentry (None for an unknown type).

    Raises InvalidConfigError when the stored data is invalid.
    """
    if subentry.subentry_type == SUBENTRY_MACHINE:
        return MachineSettings.from_data(subentry.data)
    if subentry.subentry_type == SUBENTRY_RECORDING_SENSOR:
        return RecordingSensorSettings.from_data(subentry.data)
    if subentry.subentry_type == SUBENTRY_PRINTER:
        return PrinterSettings.from_data(subentry.data)
    return None


def storage_name(settings: OwnerSettings) -> str:
    """Return the file name (without .json) of an owner's state.

    Machine and recording sensor names are already file-safe; a printer's free-form
    name is slugified (printer names are unique by slug).
    """
    if isinstance(settings, PrinterSettings):
        return slugify(settings.name)
    return settings.name


@dataclass
class MakerspaceHub:
    """One makerspace: its options, the devices configured in it and their stores."""

    name: str
    options: HubOptions
    storage: HubStorage
    members_file: MembersFile
    ml_service: MLService
    machine_settings: dict[str, MachineSettings] = field(default_factory=dict)
    recording_sensor_settings: dict[str, RecordingSensorSettings] = field(default_factory=dict)
    printer_settings: dict[str, PrinterSettings] = field(default_factory=dict)
    stores: dict[str, OwnerStore] = field(default_factory=dict)
    machines: dict[str, Machine] = field(default_factory=dict)
    printers: dict[str, Printer] = field(default_factory=dict)
    recording_sensors: dict[str, RecordingSensor] = field(default_factory=dict)
    reload_scheduled: bool = False
    built_from: Any = None  # the entry's options and subentries the hub was built from

    async def async_start_machines(self, hass: HomeAssistant) -> None:
        """Load the members, then each machine's saved state.

        A machine whose board was told relay off while it was not running (the hub
        starting, reloading, retrying) ends its session as it starts.
        """
        with suppress(HomeAssistantError):  # reported as a repair issue; no members then
            await self.members_file.async_load()
        gate = hass.data[DATA_GATE]
        keys = await async_get_fob_keys(hass)
        for subentry_id, settings in self.machine_settings.items():
            machine = Machine(
                hass,
                subentry_id,
                settings,
                self.stores[subentry_id],
                keys=keys,
                options=self.options,
                members=lambda: self.members_file.members,
                entry_id=self.storage.entry_id,
            )
            await machine.async_load()
            self.machines[subentry_id] = machine
            gate.async_machine_started(machine)

    async def async_start_printers(self, hass: HomeAssistant) -> None:
        """Load each printer's baseline and spread their polls over their intervals."""
        count = len(self.printer_settings)
        for index, (subentry_id, settings) in enumerate(self.printer_settings.items()):
            printer = Printer(
                hass,
                subentry_id,
                settings,
                self.stores[subentry_id],
                options=self.options,
                ml_service=self.ml_service,
            )
            await printer.async_load()
            printer.stagger_sec = index * settings.poll_interval / count
            self.printers[subentry_id] = printer

    async def async_start_recording_sensors(self, hass: HomeAssistant) -> None:
        """Load each recording sensor's switch state and counts."""
        for subentry_id, settings in self.recording_sensor_settings.items():
            sensor = RecordingSensor(
                hass,
                subentry_id,
                settings,
                self.stores[subentry_id],
                hub_name=self.name,
                recordings_dir=self.options.recordings_dir,
            )
            await sensor.async_load()
            self.recording_sensors[subentry_id] = sensor

    @callback
    def async_recheck_machines(self, *_: Any) -> None:
        """Re-judge every running session (members changed, a new day began)."""
        for machine in self.machines.values():
            machine.async_recheck()

    def machine_named(self, name_or_alias: str) -> Machine | None:
        """Return the machine with this name or alias (case-insensitive)."""
        return next((m for m in self.machines.values() if m.matches(name_or_alias)), None)

    @classmethod
    def from_entry(
        cls, hass: HomeAssistant, entry: ConfigEntry, storage: HubStorage, frames: FrameStore
    ) -> "MakerspaceHub":
        """Validate the entry's options and subentries and pick their stores."""
        try:
            settings = HubOptions.from_options(entry.options)
        except InvalidConfigError as problem:
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="invalid_options",
                translation_placeholders={"option": problem.field},
            ) from problem
        hub = cls(
            name=entry.data[CONF_NAME],
            options=settings,
            storage=storage,
            members_file=MembersFile(
                hass,
                entry.entry_id,
                Path(resolve_config_path(settings.users_file, hass.config.config_dir)),
                lambda _members: hub.async_recheck_machines(),
            ),
            ml_service=MLService(hass, entry.entry_id, settings, frames),
        )
        storage.settings = settings
        hub.built_from = entry_contents(entry)
        for subentry in entry.subentries.values():
            hub._add_subentry(hass, subentry)
        return hub

    def _add_subentry(self, hass: HomeAssistant, subentry: ConfigSubentry) -> None:
        issue_id = invalid_subentry_issue_id(subentry.subentry_id)
        try:
            settings = parse_subentry(subentry)
        except InvalidConfigError as problem:
            LOGGER.error("Cannot use %s: invalid %s", subentry.title, problem.field)
            async_set_issue(
                hass,
                issue_id,
                "invalid_subentry",
                {"title": subentry.title, "field": problem.field},
            )
            return
        async_set_issue(hass, issue_id, "invalid_subentry", None)
        if settings is None:
            LOGGER.warning("Ignoring %s: unknown subentry type", subentry.title)
            return
        subentry_id = subentry.subentry_id
        if isinstance(settings, MachineSettings):
            self.machine_settings[subentry_id] = settings
        elif isinstance(settings, RecordingSensorSettings):
            self.recording_sensor_settings[subentry_id] = settings
        else:
            self.printer_settings[subentry_id] = settings
        self.stores[subentry_id] = self.storage.store(
            subentry.subentry_type, storage_name(settings)
        )

    @callback
    def async_follow_subentries(self, entry: ConfigEntry) -> None:
        """Before a reload: move the state of renamed owners, drop removed ones."""
        for subentry_id, store in self.stores.items():
            subentry = entry.subentries.get(subentry_id)
            if subentry is None:
                self.storage.async_retire(store.kind, store.name)
                continue
            try:
                settings = parse_subentry(subentry)
            except InvalidConfigError:
                continue  # the reload reports it; keep its state for when it is fixed
            if settings is not None and (new := storage_name(settings)) != store.name:
                self.storage.async_rename(store.kind, store.name, new)


def entry_contents(entry: ConfigEntry) -> Any:
    """Return what a hub is built from, to tell whether it changed since."""
    return (
        dict(entry.options),
        {sid: (s.title, dict(s.data)) for sid, s in entry.subentries.items()},
    )
