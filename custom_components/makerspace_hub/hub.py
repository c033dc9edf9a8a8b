"""The running hub: builds a hub entry's owners from its subentries, and nothing of theirs.

`MakerspaceHub` is the entry's typed `runtime_data`. It is built from the stored
entry at setup; a subentry that fails validation (hand-edited storage, a downgrade)
is skipped with a repair issue instead of taking every other device down with it.
Each valid subentry becomes an owner (see `owner.Owner`) with a state store; what
an owner needs (the hub's options, the members, the ML service, the hub's name) is
handed to it here, so no wing ever reaches back into the hub.

The kinds of device are listed once, in `OWNER_KINDS`.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry, ConfigSubentryFlow
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError, HomeAssistantError
from homeassistant.util import slugify

from .alerts import AlertSender
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
from .machines.flow import MachineSubentryFlow
from .machines.fob_keys import FobKeys
from .machines.installation import async_get_fob_keys
from .machines.machine import Machine
from .machines.members_file import MembersFile
from .machines.settings import MachineSettings
from .machines.usage_log import UsageLog, usage_log_of
from .owner import Owner
from .printers.flow import PrinterSubentryFlow
from .printers.frames import FrameStore
from .printers.ml_service import MLService
from .printers.printer import Printer
from .printers.settings import PrinterSettings
from .recording.flow import RecordingSensorSubentryFlow
from .recording.recording_sensor import RecordingSensor
from .recording.recordings_disk import recordings_disk
from .recording.settings import RecordingSensorSettings
from .storage.hub_storage import HubStorage
from .storage.owner_store import OwnerStore
from .validation import InvalidConfigError, resolve_config_path

type MakerspaceConfigEntry = ConfigEntry[MakerspaceHub]
type OwnerSettings = MachineSettings | RecordingSensorSettings | PrinterSettings


@dataclass(frozen=True, kw_only=True)
class OwnerKind[S: OwnerSettings]:
    """How the hub makes one kind of device from its subentry."""

    subentry_type: str
    model: str  # the model of its devices, as the device registry shows it
    flow: type[ConfigSubentryFlow]  # adds and reconfigures its subentries
    parse: Callable[[Mapping[str, Any]], S]  # raises InvalidConfigError
    storage_name: Callable[[S], str]  # the state file's name, without .json
    build: Callable[["MakerspaceHub", str, S, OwnerStore], Owner]


def _build_machine(
    hub: "MakerspaceHub", subentry_id: str, settings: MachineSettings, store: OwnerStore
) -> Machine:
    machine = Machine(
        hub.hass,
        subentry_id,
        settings,
        store,
        keys=hub.fob_keys,
        options=hub.options,
        members=lambda: hub.members_file.members,
        entry_id=hub.entry_id,
    )
    if hub.options.record_usage:
        hub.usage.follow(machine, subentry_id, settings.name)
    return machine


def _build_printer(
    hub: "MakerspaceHub", subentry_id: str, settings: PrinterSettings, store: OwnerStore
) -> Printer:
    printer = Printer(
        hub.hass, subentry_id, settings, store, options=hub.options, ml_service=hub.ml_service
    )
    # Spread the printers' polls over their intervals.
    printers = [sid for sid, (kind, _) in hub.subentries.items() if kind is PRINTERS]
    printer.stagger_sec = printers.index(subentry_id) * settings.poll_interval / len(printers)
    return printer


def _build_recording_sensor(
    hub: "MakerspaceHub", subentry_id: str, settings: RecordingSensorSettings, store: OwnerStore
) -> RecordingSensor:
    return RecordingSensor(
        hub.hass,
        subentry_id,
        settings,
        store,
        hub_name=hub.name,
        recordings_dir=hub.options.recordings_dir,
        disk=recordings_disk(hub.hass, hub.entry_id),
    )


MACHINES = OwnerKind[MachineSettings](
    subentry_type=SUBENTRY_MACHINE,
    model="RFID machine access",
    flow=MachineSubentryFlow,
    parse=MachineSettings.from_data,
    storage_name=lambda settings: settings.name,  # already file-safe
    build=_build_machine,
)
PRINTERS = OwnerKind[PrinterSettings](
    subentry_type=SUBENTRY_PRINTER,
    model="3D printer failure detection",
    flow=PrinterSubentryFlow,
    parse=PrinterSettings.from_data,
    # A printer's name is free-form; printer names are unique by slug.
    storage_name=lambda settings: slugify(settings.name),
    build=_build_printer,
)
RECORDING_SENSORS = OwnerKind[RecordingSensorSettings](
    subentry_type=SUBENTRY_RECORDING_SENSOR,
    model="Scheduled recording sensor",
    flow=RecordingSensorSubentryFlow,
    parse=RecordingSensorSettings.from_data,
    storage_name=lambda settings: settings.name,  # already file-safe
    build=_build_recording_sensor,
)
# Machines first: they load first, so that boards are answered by their machines as
# soon as possible. The order is also the order of the hub's "Add" buttons.
OWNER_KINDS: tuple[OwnerKind[Any], ...] = (MACHINES, RECORDING_SENSORS, PRINTERS)
_KIND_OF_TYPE = {kind.subentry_type: kind for kind in OWNER_KINDS}


def device_model(subentry_type: str) -> str | None:
    """Return the model of a kind's devices (None for an unknown kind)."""
    return kind.model if (kind := _KIND_OF_TYPE.get(subentry_type)) else None


def invalid_subentry_issue_id(subentry_id: str) -> str:
    """Return the repair issue id for a subentry that cannot be read."""
    return f"invalid_subentry_{subentry_id}"


def parse_subentry(subentry: ConfigSubentry) -> tuple[OwnerKind[Any], OwnerSettings] | None:
    """Return the kind and settings of a subentry (None for an unknown type).

    Raises InvalidConfigError when the stored data is invalid.
    """
    if (kind := _KIND_OF_TYPE.get(subentry.subentry_type)) is None:
        return None
    return kind, kind.parse(subentry.data)


@dataclass
class MakerspaceHub:
    """One makerspace: its options, the devices configured in it and their stores."""

    hass: HomeAssistant
    entry_id: str
    name: str
    options: HubOptions
    storage: HubStorage
    members_file: MembersFile
    ml_service: MLService
    fob_keys: FobKeys
    usage: UsageLog  # the machines' usage records
    # The valid subentries: subentry id -> (kind, settings), in the entry's order.
    subentries: dict[str, tuple[OwnerKind[Any], OwnerSettings]] = field(default_factory=dict)
    stores: dict[str, OwnerStore] = field(default_factory=dict)
    owners: dict[str, Owner] = field(default_factory=dict)
    reload_scheduled: bool = False
    built_from: Any = None  # the entry's options and subentries the hub was built from

    @property
    def machines(self) -> dict[str, Machine]:
        """Return the running machines by subentry id."""
        return _of_type(self.owners, Machine)

    @property
    def printers(self) -> dict[str, Printer]:
        """Return the running printers by subentry id."""
        return _of_type(self.owners, Printer)

    @property
    def recording_sensors(self) -> dict[str, RecordingSensor]:
        """Return the running recording sensors by subentry id."""
        return _of_type(self.owners, RecordingSensor)

    async def async_load(self) -> None:
        """Load the members, then each owner's saved state, kind by kind.

        A machine whose board was told relay off while it was not running (the hub
        starting, reloading, retrying) ends its session as it loads.
        """
        with suppress(HomeAssistantError):  # reported as a repair issue; no members then
            await self.members_file.async_load()
        for kind in OWNER_KINDS:
            for subentry_id, settings in self._settings_of(kind):
                owner = kind.build(self, subentry_id, settings, self.stores[subentry_id])
                await owner.async_load()
                self.owners[subentry_id] = owner
        gate = self.hass.data[DATA_GATE]
        for machine in self.machines.values():
            gate.async_machine_started(machine)

    def _settings_of(self, kind: OwnerKind[Any]) -> Iterator[tuple[str, OwnerSettings]]:
        for subentry_id, (of_kind, settings) in self.subentries.items():
            if of_kind is kind:
                yield subentry_id, settings

    @callback
    def async_purge_usage(self, *_: Any) -> None:
        """Delete the usage records past the hub's retention (nightly)."""
        self.usage.async_purge(self.options.usage_retention_days)

    @callback
    def async_recheck_machines(self, *_: Any) -> None:
        """Re-judge every running session (members changed, a new day began)."""
        for machine in self.machines.values():
            machine.async_recheck()

    @classmethod
    async def async_from_entry(
        cls, hass: HomeAssistant, entry: ConfigEntry, storage: HubStorage, frames: FrameStore
    ) -> "MakerspaceHub":
        """Validate the entry's options and subentries and pick their stores."""
        try:
            options = HubOptions.from_options(entry.options)
        except InvalidConfigError as problem:
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="invalid_options",
                translation_placeholders={"option": problem.field},
            ) from problem
        hub = cls(
            hass=hass,
            entry_id=entry.entry_id,
            name=entry.data[CONF_NAME],
            options=options,
            storage=storage,
            members_file=MembersFile(
                hass,
                entry.entry_id,
                Path(resolve_config_path(options.users_file, hass.config.config_dir)),
                lambda _members: hub.async_recheck_machines(),
            ),
            ml_service=MLService(hass, entry.entry_id, options, frames),
            fob_keys=await async_get_fob_keys(hass),
            usage=usage_log_of(hass, storage),
        )
        storage.alerts = AlertSender(hass, options, entry.entry_id)
        hub.built_from = entry_contents(entry)
        for subentry in entry.subentries.values():
            hub._add_subentry(subentry)
        return hub

    def _add_subentry(self, subentry: ConfigSubentry) -> None:
        issue_id = invalid_subentry_issue_id(subentry.subentry_id)
        try:
            parsed = parse_subentry(subentry)
        except InvalidConfigError as problem:
            LOGGER.error("Cannot use %s: invalid %s", subentry.title, problem.field)
            async_set_issue(
                self.hass,
                issue_id,
                "invalid_subentry",
                {"title": subentry.title, "field": problem.field},
            )
            return
        async_set_issue(self.hass, issue_id, "invalid_subentry", None)
        if parsed is None:
            LOGGER.warning("Ignoring %s: unknown subentry type", subentry.title)
            return
        kind, settings = parsed
        self.subentries[subentry.subentry_id] = parsed
        self.stores[subentry.subentry_id] = self.storage.store(
            subentry.subentry_type, kind.storage_name(settings)
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
                parsed = parse_subentry(subentry)
            except InvalidConfigError:
                continue  # the reload reports it; keep its state for when it is fixed
            if parsed is not None and (new := parsed[0].storage_name(parsed[1])) != store.name:
                self.storage.async_rename(store.kind, store.name, new)


def _of_type[O](owners: Mapping[str, Owner], owner_type: type[O]) -> dict[str, O]:
    return {sid: owner for sid, owner in owners.items() if isinstance(owner, owner_type)}


def entry_contents(entry: ConfigEntry) -> Any:
    """Return what a hub is built from, to tell whether it changed since."""
    return (
        dict(entry.options),
        {sid: (s.title, dict(s.data)) for sid, s in entry.subentries.items()},
    )
