"""A hub's self-hosted Obico ML API: one request at a time, its health, its issues.

The ML API has one worker, so every printer's prediction goes through one lock
(FIFO): never two requests in flight. Cameras are read outside the lock, so a slow
camera never holds up the other printers. `/hc/` is checked every
HEALTH_CHECK_INTERVAL; an ML API that is down or rejects the token makes the
printers' detection unavailable (never a false failure) and is logged once when it
starts and once when it ends. A rejected token also raises a repair issue.
"""

import asyncio
from datetime import datetime, timedelta

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.network import NoURLAvailableError, get_url

from .const import DOMAIN, LOGGER
from .frames import FRAME_PATH, FrameStore
from .ml_api import (
    MlApiClient,
    MlApiError,
    MlApiImageError,
    MlApiTokenRejectedError,
    MlApiUnreachableError,
)
from .settings import HubSettings

HEALTH_CHECK_INTERVAL = timedelta(seconds=60)
TOKEN_ISSUE = "ml_api_token_rejected"  # noqa: S105 - an issue name
SNAPSHOT_ISSUE = "ml_api_cannot_fetch_snapshots"


class DetectionService:
    """One hub's ML API."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, settings: HubSettings, frames: FrameStore
    ) -> None:
        """Use the hub's ML API settings."""
        self.hass = hass
        self.entry_id = entry_id
        self.configured = settings.ml_api_url is not None
        self._client = (
            MlApiClient(async_get_clientsession(hass), settings.ml_api_url, settings.ml_api_token)
            if settings.ml_api_url
            else None
        )
        self._snapshot_base_url = settings.snapshot_base_url
        self._frames = frames
        self._lock = asyncio.Lock()
        self.reachable = True  # until shown otherwise
        self.token_rejected = False
        self.last_error: str | None = None
        self.requests = 0
        self._listeners: list[CALLBACK_TYPE] = []

    @property
    def available(self) -> bool:
        """Return True when predictions can be trusted to arrive."""
        return self.configured and self.reachable and not self.token_rejected

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` when the health changes; return the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def async_start(self) -> CALLBACK_TYPE | None:
        """Check `/hc/` periodically; return the stopper."""
        if self._client is None:
            return None
        self.hass.async_create_background_task(self._async_check(), f"{DOMAIN} ML API check")
        return async_track_time_interval(
            self.hass, self._async_check, HEALTH_CHECK_INTERVAL, cancel_on_shutdown=True
        )

    async def _async_check(self, _now: datetime | None = None) -> None:
        if self._client is None or self._lock.locked():
            return  # a prediction in flight tells as much
        try:
            await self._client.async_health()
        except MlApiError as err:
            self._set_reachable(False, str(err))
        else:
            self._set_reachable(True)

    def _base_url(self) -> str:
        """Return where the ML API reaches Home Assistant.

        The hub's snapshot base URL, else Home Assistant's internal URL.
        """
        if self._snapshot_base_url is not None:
            return self._snapshot_base_url
        try:
            return get_url(self.hass, allow_external=False, allow_cloud=False)
        except NoURLAvailableError as err:
            raise MlApiImageError(
                "Home Assistant has no internal URL; set the snapshot base URL"
            ) from err

    async def async_predict(self, image: bytes, content_type: str) -> float:
        """Score a snapshot; raise MlApiError (already accounted for) when it fails."""
        if self._client is None:
            raise MlApiUnreachableError("no ML API configured")
        nonce = self._frames.add(image, content_type)
        try:
            base = self._base_url()
            async with self._lock:
                self.requests += 1
                score = await self._client.async_predict(f"{base}{FRAME_PATH}/{nonce}")
        except MlApiTokenRejectedError:
            self._set_token_rejected(True)
            raise
        except MlApiImageError as err:
            if not self.last_error or "snapshots" not in self.last_error:
                LOGGER.warning("The ML API cannot fetch camera snapshots: %s", err)
            self.last_error = f"the ML API cannot fetch snapshots: {err}"
            self._set_issue(SNAPSHOT_ISSUE, True, {"error": str(err)})
            raise
        except MlApiError as err:
            self._set_reachable(False, str(err))
            raise
        finally:
            self._frames.discard(nonce)
        self._set_issue(SNAPSHOT_ISSUE, False, {})
        self._set_token_rejected(False)
        self._set_reachable(True)
        return score

    @callback
    def _set_reachable(self, reachable: bool, error: str | None = None) -> None:
        if reachable and not self.reachable:
            LOGGER.info("The ML API is back; print failure detection resumes")
        elif not reachable and self.reachable:
            LOGGER.warning("The ML API does not answer (%s); print failure detection pauses", error)
        if not reachable:
            self.last_error = error
        if reachable != self.reachable:
            self.reachable = reachable
            self._notify()

    @callback
    def _set_token_rejected(self, rejected: bool) -> None:
        if rejected == self.token_rejected:
            return
        self.token_rejected = rejected
        if rejected:
            LOGGER.error("The ML API rejected the token; print failure detection pauses")
            self.last_error = "the ML API rejected the token"
        else:
            LOGGER.info("The ML API accepts the token again")
        self._set_issue(TOKEN_ISSUE, rejected, {})
        self._notify()

    @callback
    def _set_issue(self, key: str, active: bool, placeholders: dict[str, str]) -> None:
        issue_id = f"{key}_{self.entry_id}"
        if active:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=key,
                translation_placeholders=placeholders,
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    @callback
    def async_shutdown(self) -> None:
        """Forget the service's issues (the hub unloads)."""
        for key in (TOKEN_ISSUE, SNAPSHOT_ISSUE):
            ir.async_delete_issue(self.hass, DOMAIN, f"{key}_{self.entry_id}")
