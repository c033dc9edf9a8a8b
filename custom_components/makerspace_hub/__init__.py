"""makerspace_hub: run a makerspace from Home Assistant.

Setting up a hub entry validates its configuration (`hub.MakerspaceHub`), loads its
owners' state (`storage`), keeps its devices in step with its subentries and
sets up the platforms. Any change of the options or subentries reloads the entry
once; the owners' state survives in memory and on disk.

Boards get an answer from `async_setup` on, before and between a hub's setups: the
board gate (`machines.board_gate`) registers every hub's and machine's webhook and answers
relay off, with the reason on the display, until the machine runs.
"""

import asyncio

from homeassistant.const import (
    EVENT_HOMEASSISTANT_FINAL_WRITE,
    EVENT_HOMEASSISTANT_STOP,
    Platform,
)
from homeassistant.core import CALLBACK_TYPE, CoreState, Event, HomeAssistant, callback
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.typing import ConfigType

from .bus_events import async_fire_owner_events
from .const import DOMAIN
from .entity import async_sync_devices
from .hub import MakerspaceConfigEntry, MakerspaceHub, entry_contents, invalid_subentry_issue_id
from .machines.board_gate import DATA_GATE, BoardGate
from .machines.usage_report import UsageReportView
from .printers.frames import DATA_FRAMES, FrameStore, FrameView
from .printers.picture_files import AlertFrameView
from .services import async_setup_services
from .storage.hub_storage import DATA_STORAGE, StateStorage

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.LOCK,
    Platform.SENSOR,
    Platform.SWITCH,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Keep the state storage for as long as Home Assistant runs; answer the boards."""
    storage = hass.data[DATA_STORAGE] = StateStorage(hass)
    gate = hass.data[DATA_GATE] = BoardGate(hass)
    await gate.async_load()
    gate.async_start()
    frames = hass.data[DATA_FRAMES] = FrameStore()
    hass.http.register_view(FrameView(frames))
    hass.http.register_view(AlertFrameView())
    hass.http.register_view(UsageReportView())
    async_setup_services(hass)

    async def flush_on_stop(_event: Event) -> None:
        await storage.async_flush_all()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_FINAL_WRITE, flush_on_stop)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: MakerspaceConfigEntry) -> bool:
    """Set up a makerspace hub."""
    # An entry or machine added since the gate looked (e.g. added to a test's hass).
    hass.data[DATA_GATE].async_sync(entry)
    storage = hass.data[DATA_STORAGE].for_entry(entry.entry_id)
    hub = await MakerspaceHub.async_from_entry(hass, entry, storage, hass.data[DATA_FRAMES])
    await storage.async_load(hub.stores.values())
    await hub.async_load()
    entry.runtime_data = hub
    try:
        await _async_start_hub(hass, entry, hub)
    except BaseException:
        # The owners run since they loaded: a setup that fails now stops them as an
        # unload would, so that no timer outlives it and a relay-off said to a board
        # meanwhile waits for the machine's next start.
        _async_stop_owners(hass, hub)
        raise
    return True


async def _async_start_hub(
    hass: HomeAssistant, entry: MakerspaceConfigEntry, hub: MakerspaceHub
) -> None:
    """Set up the devices and platforms of a loaded hub, then start its owners."""
    async_sync_devices(hass, entry)
    entry.async_on_unload(async_fire_owner_events(hass, entry))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(hub.members_file.async_start())
    if (stop_checks := hub.ml_service.async_start()) is not None:
        entry.async_on_unload(stop_checks)
    for owner in hub.owners.values():
        owner.async_start()
    # Memberships expire at midnight: judge running sessions again each day.
    entry.async_on_unload(
        _until_stop(
            hass,
            async_track_time_change(hass, hub.async_recheck_machines, hour=0, minute=0, second=5),
        )
    )
    # Usage records past their retention go at night, when the machines rest.
    entry.async_on_unload(
        _until_stop(
            hass,
            async_track_time_change(hass, hub.async_purge_usage, hour=3, minute=15, second=0),
        )
    )
    entry.async_on_unload(entry.add_update_listener(_async_entry_changed))
    hub.storage.async_update_health()
    if hub.built_from != entry_contents(entry):
        # Changed while setting up (before the listener above): nobody told us.
        await _async_entry_changed(hass, entry)


@callback
def _until_stop(hass: HomeAssistant, cancel: CALLBACK_TYPE) -> CALLBACK_TYPE:
    """Run `cancel` when Home Assistant stops or when the returned remover is called.

    Home Assistant stops without unloading hubs: a daily timer must not outlive it.
    """
    cancelled = False

    @callback
    def run(_event: Event | None = None) -> None:
        nonlocal cancelled
        if not cancelled:
            cancelled = True
            cancel()

    if hass.is_stopping or hass.state is CoreState.stopped:
        # A setup that ended while Home Assistant stops (a reload under way): the stop
        # event has been and gone.
        run()
        return run
    remove_listener = hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, run)

    @callback
    def remove() -> None:
        if not cancelled:
            remove_listener()
        run()

    return remove


async def async_unload_entry(hass: HomeAssistant, entry: MakerspaceConfigEntry) -> bool:
    """Unload a makerspace hub; write its pending state first (bounded)."""
    hub = entry.runtime_data
    # From now on a post is answered relay off, and the next start of the machine
    # ends its session.
    hass.data[DATA_GATE].async_machines_stopping(list(hub.machines.values()))
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    _async_stop_owners(hass, hub)
    hub.ml_service.async_shutdown()
    await hub.storage.async_flush()
    return unloaded


@callback
def _async_stop_owners(hass: HomeAssistant, hub: MakerspaceHub) -> None:
    """Stop every owner; the board gate answers relay off for the machines from now on."""
    hass.data[DATA_GATE].async_machines_stopping(list(hub.machines.values()))
    for owner in hub.owners.values():
        owner.async_stop()


async def async_remove_entry(hass: HomeAssistant, entry: MakerspaceConfigEntry) -> None:
    """Forget a deleted hub: its board URLs, state files and repair issues."""
    hass.data[DATA_GATE].async_forget(entry.entry_id)
    for subentry_id in entry.subentries:
        ir.async_delete_issue(hass, DOMAIN, invalid_subentry_issue_id(subentry_id))
    await hass.data[DATA_STORAGE].async_remove_hub(entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: MakerspaceConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Allow deleting a device only when no part of the hub stands behind it.

    The hub device and subentry devices go away with the hub or the subentry.
    """
    live = {entry.entry_id, *entry.subentries}
    return not any(
        domain == DOMAIN and identifier in live for domain, identifier in device.identifiers
    )


async def _async_entry_changed(hass: HomeAssistant, entry: MakerspaceConfigEntry) -> None:
    """Reload once for a batch of changes (a dm_mac import adds many subentries)."""
    hub = entry.runtime_data
    if hub.reload_scheduled:
        return
    hub.reload_scheduled = True
    # Listeners start eagerly inside the change; let the rest of the batch land first.
    await asyncio.sleep(0)
    hub.async_follow_subentries(entry)
    hass.config_entries.async_schedule_reload(entry.entry_id)
