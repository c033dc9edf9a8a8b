"""makerspace_hub: run a makerspace from Home Assistant.

Setting up a hub entry validates its configuration (`hub.MakerspaceHub`), keeps its
devices in step with its subentries and sets up the platforms. Any change of the
options or subentries reloads the entry once.
"""

import asyncio

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir

from .const import DOMAIN
from .entity import async_sync_devices
from .hub import MakerspaceConfigEntry, MakerspaceHub, invalid_subentry_issue_id

PLATFORMS: list[Platform] = []


async def async_setup_entry(hass: HomeAssistant, entry: MakerspaceConfigEntry) -> bool:
    """Set up a makerspace hub."""
    entry.runtime_data = MakerspaceHub.from_entry(hass, entry)
    async_sync_devices(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_entry_changed))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: MakerspaceConfigEntry) -> bool:
    """Unload a makerspace hub."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: MakerspaceConfigEntry) -> None:
    """Forget the repair issues of a deleted hub."""
    for subentry_id in entry.subentries:
        ir.async_delete_issue(hass, DOMAIN, invalid_subentry_issue_id(subentry_id))


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
    hass.config_entries.async_schedule_reload(entry.entry_id)
