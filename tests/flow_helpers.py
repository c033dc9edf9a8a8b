"""What the subentry flow tests of the three wings share: a hub to add to, and the steps."""

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from custom_components.makerspace_hub.const import (
    CONF_ALWAYS_ENABLED,
    CONF_AUTHORIZATIONS_OR,
    CONF_NAME,
    CONF_UNAUTHORIZED_WARN_ONLY,
    CONF_WEBHOOK_ID,
)

from .conftest import make_hub_entry, make_subentry, setup_hub, subentry_by_title

MILL = {
    CONF_NAME: "metal-mill",
    CONF_AUTHORIZATIONS_OR: ["Metal Mill"],
    CONF_UNAUTHORIZED_WARN_ONLY: False,
    CONF_ALWAYS_ENABLED: False,
    CONF_WEBHOOK_ID: "b" * 64,
}


async def setup_mill_hub(hass: HomeAssistant) -> ConfigEntry:
    """Set up a hub with one machine (metal-mill)."""
    return await setup_hub(
        hass, make_hub_entry(subentries=[make_subentry("machine", "metal-mill", MILL)])
    )


async def start_flow(hass: HomeAssistant, entry: ConfigEntry, kind: str) -> dict[str, Any]:
    return dict(
        await hass.config_entries.subentries.async_init(
            (entry.entry_id, kind), context={"source": "user"}
        )
    )


async def reconfigure_flow(
    hass: HomeAssistant, entry: ConfigEntry, kind: str, title: str
) -> dict[str, Any]:
    return dict(
        await hass.config_entries.subentries.async_init(
            (entry.entry_id, kind),
            context={
                "source": "reconfigure",
                "subentry_id": subentry_by_title(entry, title).subentry_id,
            },
        )
    )


async def configure_flow(
    hass: HomeAssistant, result: dict[str, Any], user_input: dict[str, Any]
) -> dict[str, Any]:
    result = dict(
        await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)
    )
    await hass.async_block_till_done()  # a new or changed subentry reloads the hub
    return result
