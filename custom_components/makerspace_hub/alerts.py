"""Alerts to the makerspace's admins through the hub's notify services.

Every configured notify service is called; one that is missing or fails is logged
and does not stop the others. Without any configured service, or when all of them
fail, the alert becomes a persistent notification, so it is never silently dropped.
An alert's picture (a link, e.g. a printer's failure) goes to the companion app as
its notification's image, and into a persistent notification as a markdown image.
Owners get an `AlertSender` (the hub's options and the owner's id) and never read the
hub's options themselves.

An owner says what to send in `Phrase`s (`alert_words`); the sender renders them
from the `exceptions` translations in Home Assistant's language at the moment it
sends (English where that language has no text: Home Assistant's translation cache
lays the language over English), so a change of language applies to the next alert.
"""

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import translation

from .alert_words import Button, Message, Phrase, fill, sentences
from .const import DOMAIN, LOGGER
from .hub_options import HubOptions

NOTIFY_TIMEOUT_SEC = 30.0
MOBILE_APP_PREFIX = "mobile_app_"
# The translation category of the alerts' texts: one Home Assistant loads for custom
# integrations, whose entries are {"message": "..."} with {placeholders}.
TEXTS_CATEGORY = "exceptions"
ENGLISH = "en"
# Home Assistant reads an integration's translations when it sets it up; a language
# changed since is read on the first alert. The storage alerts go out while the disk
# hangs: past this, an alert uses the texts already read instead of waiting.
TEXTS_TIMEOUT_SEC = 10.0


async def _async_texts(hass: HomeAssistant) -> Mapping[str, str]:
    """Return the alerts' texts in Home Assistant's language, English where it has none."""
    language = hass.config.language
    try:
        async with asyncio.timeout(TEXTS_TIMEOUT_SEC):
            return await translation.async_get_translations(
                hass, language, TEXTS_CATEGORY, {DOMAIN}
            )
    except TimeoutError:
        LOGGER.warning(
            "Reading the %s texts of the alerts took over %.0f s; using those already read",
            language,
            TEXTS_TIMEOUT_SEC,
        )
    return translation.async_get_cached_translations(
        hass, language, TEXTS_CATEGORY, DOMAIN
    ) or translation.async_get_cached_translations(hass, ENGLISH, TEXTS_CATEGORY, DOMAIN)


async def async_render(hass: HomeAssistant, phrases: Sequence[Phrase]) -> list[str]:
    """Return `phrases` in Home Assistant's language (English where it has no text).

    A phrase without any text (not even English: a bug) is sent as its key and
    placeholders rather than not at all.
    """
    texts = await _async_texts(hass)
    rendered: list[str] = []
    for phrase in phrases:
        template = texts.get(f"component.{DOMAIN}.{TEXTS_CATEGORY}.{phrase.key}.message")
        if template is None:
            LOGGER.error("The alert text %s is missing from translations/en.json", phrase.key)
            values = ", ".join(f"{name}={value}" for name, value in phrase.placeholders.items())
            rendered.append(f"{phrase.key} ({values})" if values else phrase.key)
        else:
            rendered.append(fill(template, phrase.placeholders))
    return rendered


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
        title: Phrase,
        message: Message,
        buttons: Sequence[Button] = (),
        *,
        image: str | None = None,
    ) -> int:
        """Send an alert now, in Home Assistant's language; return through how many services.

        `message` may be several sentences: each is translated, then they are joined.
        """
        body = sentences(message)
        words = await async_render(self.hass, [title, *body, *(b.title for b in buttons)])
        title_text, words = words[0], words[1:]
        message_text = " ".join(words[: len(body)])
        actions = [
            {"action": button.action, "title": text}
            for button, text in zip(buttons, words[len(body) :], strict=True)
        ]
        return await async_send_alert(
            self.hass,
            self.options,
            title=title_text,
            message=message_text,
            notification_id=self.notification_id(key),
            actions=actions or None,
            image=image,
        )

    @callback
    def async_send_soon(self, key: str, title: Phrase, message: Message) -> None:
        """Send an alert in the background: whoever raises it never waits on a notifier."""
        self.hass.async_create_background_task(
            self.async_send(key, title, message), f"{DOMAIN} {key} alert"
        )
