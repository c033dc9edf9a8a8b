"""The per-installation secret behind card digests and fob tags (`fob_keys`).

Kept in Home Assistant's `.storage` (private, read and written through Home
Assistant's storage helper, off the event loop) and created on first use. Losing it
is safe: every saved card digest stops matching, so every running card session ends
and the members present their cards again.
"""

import asyncio
import secrets

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN, LOGGER
from .fob_keys import SECRET_BYTES, FobKeys

STORAGE_KEY = f"{DOMAIN}.secret"
STORAGE_VERSION = 1
DATA_FOB_KEYS: HassKey[asyncio.Future[FobKeys]] = HassKey(f"{DOMAIN}_fob_keys")


async def _async_load(hass: HomeAssistant) -> FobKeys:
    store: Store[dict[str, str]] = Store(hass, STORAGE_VERSION, STORAGE_KEY, private=True)
    data = await store.async_load()
    secret = data.get("secret") if isinstance(data, dict) else None
    if secret is not None:
        try:
            return FobKeys(bytes.fromhex(secret))
        except (TypeError, ValueError):
            LOGGER.warning(
                "The fob secret in .storage/%s is not usable: a new one is made, and "
                "cards in readers must be presented again",
                STORAGE_KEY,
            )
    keys = FobKeys(secrets.token_bytes(SECRET_BYTES))
    await store.async_save({"secret": keys.secret.hex()})
    return keys


async def async_get_fob_keys(hass: HomeAssistant) -> FobKeys:
    """Return the installation's fob keys, loading or creating the secret once."""
    if (future := hass.data.get(DATA_FOB_KEYS)) is None or (
        future.done() and future.exception() is not None
    ):
        future = hass.data[DATA_FOB_KEYS] = hass.loop.create_task(_async_load(hass))
    return await asyncio.shield(future)
