"""A restart in a test: a NEW Home Assistant on the same configuration folder.

An entry reload keeps the integration's stores in `hass.data` and proves nothing
about the disk; a restart here stops the first Home Assistant (unloading its hubs
and firing the stop events, as a real shutdown does) and starts another one that
knows only the configuration folder and Home Assistant's own storage.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp.test_utils import TestClient
from homeassistant import loader
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import DOMAIN


def copy_entry(entry: ConfigEntry) -> MockConfigEntry:
    """Return the same hub entry (id, data, options, subentries) for another Home Assistant."""
    return MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options=dict(entry.options),
        entry_id=entry.entry_id,
        subentries_data=[
            {
                "data": dict(sub.data),
                "subentry_id": sub.subentry_id,
                "subentry_type": sub.subentry_type,
                "title": sub.title,
                "unique_id": sub.unique_id,
            }
            for sub in entry.subentries.values()
        ],
    )


async def stop(hass: HomeAssistant) -> None:
    """Shut a Home Assistant down as a restart would: unload, stop, final write."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_stop(force=True)


@asynccontextmanager
async def restarted(
    hass: HomeAssistant, config_dir: Path, aiohttp_client: ClientSessionGenerator | None = None
) -> AsyncIterator[tuple[HomeAssistant, TestClient | None]]:
    """Stop `hass`, then run a new Home Assistant on `config_dir` with the same hubs."""
    entries = hass.config_entries.async_entries(DOMAIN)
    await stop(hass)
    async with async_test_home_assistant(config_dir=str(config_dir)) as new:
        new.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # find this checkout's integration
        new.config.media_dirs = {"local": str(config_dir / "media")}
        new.config.allowlist_external_dirs = {str(config_dir / "www"), str(config_dir / "media")}
        for entry in entries:
            if new.config_entries.async_get_entry(entry.entry_id) is None:
                copy_entry(entry).add_to_hass(new)
        for entry in entries:
            assert await new.config_entries.async_setup(entry.entry_id)
        await new.async_block_till_done()
        client = None if aiohttp_client is None else await aiohttp_client(new.http.app)
        yield new, client
        await stop(new)
