"""Alerts to the makerspace's admins through the hub's notify services.

Every configured notify service is called; one that is missing or fails is logged
and does not stop the others. Without any configured service, or when all of them
fail, the alert becomes a persistent notification, so it is never silently dropped.
An alert's picture (a link, e.g. a printer's failure) goes to the companion app as
its notification's image, and into a persistent notification as a markdown image.
Owners get an `AlertSender` (the hub's options and the owner's id) and never read the
hub's options themselves.
"""

import asyncio
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN, LOGGER
from .hub_options import HubOptions

NOTIFY_TIMEOUT_SEC = 30.0
MOBILE_APP_PREFIX = "mobile_app_"


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
    options: HubOptions,
    *,
    title: str,
    message: str,
    notification_id: str,
    actions: list[dict[str, str]] | None = None,
    image: str | None = None,
) -> int:
    """Send an alert; return through how many notify services it went out.

    `actions` become actionable buttons and `image` (a link to a picture, relative
    to Home Assistant) the picture of the companion app's notifications (mobile_app
    services only); `notification_id` names the persistent notification used
    without any notify service, which shows the picture too.
    """
    payload: dict[str, Any] = {"title": title, "message": message}
    app_data: dict[str, Any] = {}
    if actions:
        app_data |= {"actions": actions, "tag": notification_id}
    if image:
        app_data["image"] = image

    def payload_for(service: str) -> dict[str, Any]:
        if app_data and service.startswith(f"notify.{MOBILE_APP_PREFIX}"):
            return payload | {"data": app_data}
        return payload

    results = await asyncio.gather(
        *(_async_notify(hass, service, payload_for(service)) for service in options.notify_services)
    )
    if not any(results):
        if image:
            message += f"\n\n![{title}]({image})"
        persistent_notification.async_create(
            hass, message, title=title, notification_id=notification_id
        )
    return sum(results)


class AlertSender:
    """Sends one owner's alerts (a machine's, a printer's, a hub storage's)."""

    def __init__(self, hass: HomeAssistant, options: HubOptions, owner_id: str) -> None:
        """Send through `options`' notify services; notifications named after `owner_id`."""
        self.hass = hass
        self.options = options
        self.owner_id = owner_id

    def notification_id(self, key: str) -> str:
        """Return the id of the owner's notifications about `key` (one per kind of alert)."""
        return f"{DOMAIN}_{self.owner_id}_{key}"

    async def async_send(
        self,
        key: str,
        title: str,
        message: str,
        actions: list[dict[str, str]] | None = None,
        *,
        image: str | None = None,
    ) -> int:
        """Send an alert now; return through how many notify services it went out."""
        return await async_send_alert(
            self.hass,
            self.options,
            title=title,
            message=message,
            notification_id=self.notification_id(key),
            actions=actions,
            image=image,
        )

    @callback
    def async_send_soon(self, key: str, title: str, message: str) -> None:
        """Send an alert in the background: whoever raises it never waits on a notifier."""
        self.hass.async_create_background_task(
            self.async_send(key, title, message), f"{DOMAIN} {key} alert"
        )
