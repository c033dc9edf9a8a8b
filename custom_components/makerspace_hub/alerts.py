"""Alerts to the makerspace's admins through the hub's notify services.

Every configured notify service is called; one that is missing or fails is logged
and does not stop the others. Without any configured service, or when all of them
fail, the alert becomes a persistent notification, so it is never silently dropped.
"""

import asyncio
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant

from .const import LOGGER
from .settings import HubSettings

NOTIFY_TIMEOUT_SEC = 30.0


async def _async_notify(hass: HomeAssistant, service: str, data: dict[str, Any]) -> bool:
    domain, _, name = service.partition(".")
    try:
        async with asyncio.timeout(NOTIFY_TIMEOUT_SEC):
            await hass.services.async_call(domain, name, data, blocking=True)
    except Exception as err:  # noqa: BLE001 - any notify platform may raise anything
        LOGGER.warning("Could not send an alert through %s: %s", service, err)
        return False
    return True


async def async_send_alert(
    hass: HomeAssistant,
    settings: HubSettings,
    *,
    title: str,
    message: str,
    notification_id: str,
    data: dict[str, Any] | None = None,
) -> int:
    """Send an alert; return through how many notify services it went out.

    `data` is passed to the notify services as their `data` (e.g. mobile_app
    actions); `notification_id` names the persistent notification used without them.
    """
    payload: dict[str, Any] = {"title": title, "message": message}
    if data:
        payload["data"] = data
    results = await asyncio.gather(
        *(_async_notify(hass, service, payload) for service in settings.notify_services)
    )
    if not any(results):
        persistent_notification.async_create(
            hass, message, title=title, notification_id=notification_id
        )
    return sum(results)
