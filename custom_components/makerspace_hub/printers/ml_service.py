"""A hub's self-hosted Obico ML API: one request at a time, its health, its issues.

The ML API has one worker, so every request to it - predictions and the `/hc/`
check every HEALTH_CHECK_INTERVAL - goes through one lock (FIFO): never two in
flight. Cameras are read outside the lock, so a slow camera never holds up the
other printers. Four things can go wrong, each logged once when it starts and once
when it ends, and each making the printers' detection unavailable (never a false
failure) until it ends:

- `unreachable`: no answer (connection refused, timeout) - `/hc/` or a prediction;
- `predictions`: `/p/` answers something that is not a prediction (5xx, garbage) -
  only a good prediction ends it, a healthy `/hc/` does not;
- `token`: the ML API rejects the token (a repair issue whose fix flow, in
  `repairs`, asks for the new token);
- `snapshots`: the ML API cannot fetch the snapshots offered (a repair issue).
"""

import asyncio
from datetime import datetime, timedelta

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.network import NoURLAvailableError, get_url

from ..const import DOMAIN, LOGGER
from ..hub_options import HubOptions
from ..issues import async_set_issue
from ..listeners import Listeners
from .frames import FRAME_PATH, FrameStore
from .ml_api import (
    MlApiClient,
    MlApiError,
    MlApiImageError,
    MlApiTokenRejectedError,
    MlApiUnreachableError,
    Prediction,
)

HEALTH_CHECK_INTERVAL = timedelta(seconds=60)
TOKEN_ISSUE = "ml_api_token_rejected"  # noqa: S105 - an issue name
SNAPSHOT_ISSUE = "ml_api_cannot_fetch_snapshots"

_ISSUES = {"token": TOKEN_ISSUE, "snapshots": SNAPSHOT_ISSUE}
_WHAT = {
    "unreachable": "the ML API does not answer",
    "predictions": "the ML API's answers are not predictions",
    "token": "the ML API rejects the token",
    "snapshots": "the ML API cannot fetch camera snapshots",
}


class MLService:
    """One hub's ML API."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, options: HubOptions, frames: FrameStore
    ) -> None:
        """Use the hub's ML API options."""
        self.hass = hass
        self.entry_id = entry_id
        self.configured = options.ml_api_url is not None
        self._client = (
            MlApiClient(async_get_clientsession(hass), options.ml_api_url, options.ml_api_token)
            if options.ml_api_url
            else None
        )
        self._snapshot_base_url = options.snapshot_base_url
        self._frames = frames
        self._lock = asyncio.Lock()
        self.problems: dict[str, str] = {}  # what is wrong -> the last error
        self.last_error: str | None = None
        self.requests = 0
        self._listeners: Listeners[()] = Listeners()

    @property
    def reachable(self) -> bool:
        """Return True unless the ML API does not answer."""
        return "unreachable" not in self.problems

    @property
    def token_rejected(self) -> bool:
        """Return True while the ML API rejects the token."""
        return "token" in self.problems

    @property
    def available(self) -> bool:
        """Return True when predictions can be trusted to arrive."""
        return self.configured and not self.problems

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` when the health changes; return the remover."""
        return self._listeners.add(listener)

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
            return  # a request in flight tells as much
        async with self._lock:
            try:
                await self._client.async_health()
            except MlApiError as err:
                self._set("unreachable", str(err))
            else:
                self._set("unreachable", None)

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

    async def async_predict(self, image: bytes, content_type: str) -> Prediction:
        """Score a snapshot (its score and boxes); raise MlApiError (accounted for) on failure."""
        if self._client is None:
            raise MlApiUnreachableError("no ML API configured")
        async with self._lock:
            # The frame's 30 s start only now: queued frames do not expire unseen.
            nonce = self._frames.add(image, content_type)
            try:
                self.requests += 1
                prediction = await self._client.async_predict(
                    f"{self._base_url()}{FRAME_PATH}/{nonce}"
                )
            except MlApiTokenRejectedError:
                self._set("token", "the token was rejected")
                raise
            except MlApiImageError as err:
                self._set("snapshots", str(err))
                raise
            except MlApiUnreachableError as err:
                self._set("unreachable", str(err))
                raise
            except MlApiError as err:
                self._set("predictions", str(err))
                raise
            finally:
                self._frames.discard(nonce)
        for problem in list(self.problems):
            self._set(problem, None)
        return prediction

    @callback
    def _set(self, problem: str, error: str | None) -> None:
        """Mark `problem` as happening (with its error) or over (None)."""
        was = problem in self.problems
        if error is not None:
            self.problems[problem] = self.last_error = error
            if not was:
                LOGGER.warning("Print failure detection pauses: %s (%s)", _WHAT[problem], error)
        elif was:
            del self.problems[problem]
            LOGGER.info("Print failure detection: %s no more", _WHAT[problem])
        if (error is not None) == was:
            return
        if (key := _ISSUES.get(problem)) is not None:
            async_set_issue(
                self.hass,
                f"{key}_{self.entry_id}",
                key,
                {"error": error} if error is not None else None,
                fix_data={"entry_id": self.entry_id} if key == TOKEN_ISSUE else None,
            )
        self._listeners.call()

    @callback
    def async_shutdown(self) -> None:
        """Forget the service's issues (the hub unloads)."""
        for key in _ISSUES.values():
            async_set_issue(self.hass, f"{key}_{self.entry_id}", key, None)
