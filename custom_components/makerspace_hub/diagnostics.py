"""Diagnostics of a hub and of each device, with every secret redacted.

Secrets: webhook ids (whoever knows one can post as a board), the ML API token and
fob codes (only keyed tags ever leave the integration; the card digest is redacted
too). Members' names and account ids are personal data: redacted as well, since a
diagnostics download is meant to be shared.
"""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import CONF_ML_API_TOKEN, CONF_WEBHOOK_ID, DOMAIN
from .hub import OWNER_KINDS, MakerspaceConfigEntry, MakerspaceHub
from .machines.board_ids import CONF_RETIRED_WEBHOOK_IDS

TO_REDACT = {
    CONF_WEBHOOK_ID,
    CONF_RETIRED_WEBHOOK_IDS,
    CONF_ML_API_TOKEN,
    "fob_codes",
    "rfid_value",
    "card",
}


def _hub(hub: MakerspaceHub) -> dict[str, Any]:
    members_file = hub.members_file
    storage = hub.storage
    return {
        "members": {
            "path": str(members_file.path),
            "count": len(members_file.members),
            "fobs": members_file.members.fob_count,
            "authorizations": members_file.members.authorizations(),
            "loaded_at": members_file.loaded_at,
            "problem": members_file.problem,
        },
        "storage": {
            "folder": str(storage.folder),
            "slow": storage.slow,
            "save_timeouts": storage.save_timeouts,
            "failing": [store.label for store in storage.failing],
            "hung": [store.label for store in storage.stores if store.hung],
        },
        "usage_records": {
            "recording": hub.options.record_usage,
            "retention_days": hub.options.usage_retention_days,
            "database": str(hub.usage.path),
            "waiting_to_be_written": hub.usage.waiting,
            "save_timeouts": hub.usage.save_timeouts,
            "last_error": hub.usage.last_error,
        },
        "ml_api": {
            "configured": hub.ml_service.configured,
            "reachable": hub.ml_service.reachable,
            "problems": sorted(hub.ml_service.problems),
            "token_rejected": hub.ml_service.token_rejected,
            "last_error": hub.ml_service.last_error,
            "requests": hub.ml_service.requests,
        },
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MakerspaceConfigEntry
) -> dict[str, Any]:
    """Return the hub's configuration and what it runs."""
    hub = entry.runtime_data
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "hub": _hub(hub),
        # "machines", "printers", "recording_sensors"
        **{
            f"{kind.subentry_type}s": [
                owner.diagnostics()
                for owner in hub.owners.values()
                if owner.kind == kind.subentry_type
            ]
            for kind in OWNER_KINDS
        },
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: MakerspaceConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """Return what one device (the hub, a machine, a sensor, a printer) is doing."""
    hub = entry.runtime_data
    subentry_id = next(
        (identifier for domain, identifier in device.identifiers if domain == DOMAIN), None
    )
    if subentry_id is None or subentry_id == entry.entry_id:
        return {"hub": _hub(hub)}
    subentry = entry.subentries.get(subentry_id)
    result: dict[str, Any] = {
        "subentry": async_redact_data(dict(subentry.data), TO_REDACT) if subentry else None
    }
    if (owner := hub.owners.get(subentry_id)) is not None:
        result[owner.kind] = owner.diagnostics()
    return result
