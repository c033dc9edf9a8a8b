"""The URL a board posts to: Home Assistant's own address on the LAN, and its webhook."""

from homeassistant.components import webhook
from homeassistant.core import HomeAssistant
from homeassistant.helpers.network import NoURLAvailableError, get_url


def board_url(hass: HomeAssistant, webhook_id: str) -> str:
    """Return the URL a board posts to: Home Assistant's own address on the LAN."""
    path = webhook.async_generate_path(webhook_id)
    try:
        return get_url(hass, allow_external=False, allow_cloud=False) + path
    except NoURLAvailableError:
        return f"http://<home-assistant-address>:8123{path}"
