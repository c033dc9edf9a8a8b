"""Diagnostics of a hub: its configuration with every secret redacted."""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_ML_API_TOKEN, CONF_WEBHOOK_ID
from .hub import MakerspaceConfigEntry

# Webhook ids are credentials too: whoever knows one can post as a board.
TO_REDACT = {CONF_WEBHOOK_ID, CONF_ML_API_TOKEN, "fob_codes", "rfid_value"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MakerspaceConfigEntry
) -> dict[str, Any]:
    """Return the hub's configuration and what it runs."""
    hub = entry.runtime_data
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "running": {
            "machines": sorted(machine.name for machine in hub.machines.values()),
            "recording_sensors": sorted(sensor.name for sensor in hub.recording_sensors.values()),
            "printers": sorted(printer.name for printer in hub.printers.values()),
        },
    }
