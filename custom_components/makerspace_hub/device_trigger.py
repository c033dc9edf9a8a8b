"""Device triggers: each event of a machine, printer or recording sensor, per device.

A machine offers its Access events (login, card refused, Oops...), a printer its
Detection events (print started, failure...), a recording sensor its Recording
events (started, finished, failed); the hub's own device offers none. A trigger is an
event trigger on the bus event `makerspace_hub_event` (`bus_events`) of that device
and type, so it fires once per event, even for two events in one instant.
"""

from typing import Any

from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.const import (
    ATTR_DEVICE_ID,
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_EVENT_DATA,
    CONF_PLATFORM,
    CONF_TYPE,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType
import voluptuous as vol

from .const import ATTR_TYPE, DOMAIN, EVENT_MAKERSPACE_HUB
from .event import EVENT_TYPES

TRIGGER_TYPES = {event_type for types in EVENT_TYPES.values() for event_type in types}
TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {vol.Required(CONF_TYPE): vol.In(sorted(TRIGGER_TYPES))}
)


@callback
def device_kind(hass: HomeAssistant, device_id: str) -> str | None:
    """Return the subentry type of a machine's, printer's or sensor's device, else None."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return None
    ours = {identifier for domain, identifier in device.identifiers if domain == DOMAIN}
    for entry in hass.config_entries.async_entries(DOMAIN):
        for subentry_id in ours & entry.subentries.keys():
            return entry.subentries[subentry_id].subentry_type
    return None


async def async_validate_trigger_config(hass: HomeAssistant, config: ConfigType) -> ConfigType:
    """Validate a trigger: a known type, and one the device offers (if it still exists)."""
    config = TRIGGER_SCHEMA(config)
    kind = device_kind(hass, config[CONF_DEVICE_ID])
    if kind is not None and config[CONF_TYPE] not in EVENT_TYPES.get(kind, ()):
        raise vol.Invalid(f"a {kind} has no {config[CONF_TYPE]} trigger")
    return config


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """Return the triggers of a device: the event types of its kind."""
    kind = device_kind(hass, device_id)
    return [
        {
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: event_type,
        }
        for event_type in (EVENT_TYPES.get(kind, []) if kind else [])
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen for the device's bus events of the trigger's type."""
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: EVENT_MAKERSPACE_HUB,
            CONF_EVENT_DATA: {
                ATTR_DEVICE_ID: config[CONF_DEVICE_ID],
                ATTR_TYPE: config[CONF_TYPE],
            },
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )
