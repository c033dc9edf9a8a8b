"""Client of a self-hosted Obico ML API (the print-failure detector).

No Home Assistant imports: it needs only an aiohttp session. The contract (see the
print-failure-detection spec): `GET /hc/` answers `ok`; `GET /p/?img=<url>` answers
detections; with a token configured on the server, `/p/` answers a bare 401 unless
`Authorization: Bearer <token>` is sent, and `GET /p/` without `img` is a cheap token
check (401 = rejected, 422 = accepted).
"""

import aiohttp

HEALTH_PATH = "/hc/"
PREDICT_PATH = "/p/"
CHECK_TIMEOUT_SEC = 10.0


class MlApiError(Exception):
    """The ML API cannot be used."""


class MlApiUnreachableError(MlApiError):
    """No HTTP answer: wrong address, server down or too slow."""


class MlApiNotObicoError(MlApiError):
    """Something answered, but not like an Obico ML API."""


class MlApiTokenRejectedError(MlApiError):
    """The ML API refused the token (or requires one and none was given)."""


class MlApiClient:
    """Talks to one ML API."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str | None = None,
        timeout_sec: float = CHECK_TIMEOUT_SEC,
    ) -> None:
        """Use `session` for requests to `base_url`, sending `token` when set."""
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_sec)
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def _get(self, path: str) -> tuple[int, str]:
        try:
            async with self._session.get(
                self._base_url + path,
                headers=self._headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                return response.status, await response.text(errors="replace")
        except TimeoutError as err:
            raise MlApiUnreachableError("timed out") from err
        except (aiohttp.ClientError, ValueError) as err:
            # ValueError: a URL aiohttp cannot even parse.
            raise MlApiUnreachableError(str(err)) from err

    async def async_health(self) -> None:
        """Check `/hc/`; raise unless it answers `ok`."""
        status, body = await self._get(HEALTH_PATH)
        if status != 200 or body.strip() != "ok":
            raise MlApiNotObicoError(f"/hc/ answered {status}")

    async def async_validate(self) -> None:
        """Check the server and the token before they are saved."""
        await self.async_health()
        status, _ = await self._get(PREDICT_PATH)
        if status == 401:
            raise MlApiTokenRejectedError
        if status != 422:
            raise MlApiNotObicoError(f"/p/ without an image answered {status}")
