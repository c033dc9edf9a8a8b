"""Client of a self-hosted Obico ML API (the print-failure detector).

No Home Assistant imports: it needs only an aiohttp session. The contract (see the
print-failure-detection spec): `GET /hc/` answers `ok`; `GET /p/?img=<url>` answers
detections; with a token configured on the server, `/p/` answers a bare 401 unless
`Authorization: Bearer <token>` is sent, and `GET /p/` without `img` is a cheap token
check (401 = rejected, 422 = accepted).
"""

from dataclasses import dataclass
import json
import math
from typing import Any

import aiohttp
from yarl import URL

HEALTH_PATH = "/hc/"
PREDICT_PATH = "/p/"
CHECK_TIMEOUT_SEC = 10.0
# The server fetches the image itself (5 s read, up to 3 tries), then infers.
PREDICT_TIMEOUT_SEC = 30.0
MAX_RESPONSE_BYTES = 1024 * 1024
# A prediction keeps at most this many boxes (the most confident) for the pictures;
# its score sums every detection.
MAX_DETECTIONS = 50


class MlApiError(Exception):
    """The ML API cannot be used."""


class MlApiUnreachableError(MlApiError):
    """No HTTP answer: wrong address, server down or too slow."""


class MlApiNotObicoError(MlApiError):
    """Something answered, but not like an Obico ML API."""


class MlApiTokenRejectedError(MlApiError):
    """The ML API refused the token (or requires one and none was given)."""


class MlApiImageError(MlApiError):
    """The ML API could not fetch or decode the image it was given."""


class MlApiBadResponseError(MlApiError):
    """The ML API answered something that is not a prediction."""


@dataclass(frozen=True, slots=True)
class Detection:
    """One thing the ML API saw: its label, confidence (0..1) and box.

    The box is `(xc, yc, w, h)`: its centre and size in pixels of the image scored;
    None when the ML API gave no usable box (the confidence still counts).
    """

    label: str
    confidence: float
    box: tuple[float, float, float, float] | None


@dataclass(frozen=True, slots=True)
class Prediction:
    """The ML API's answer for one image: the frame's score and what it saw."""

    score: float  # the sum of every detection's confidence, not capped at 1
    detections: tuple[Detection, ...]  # the MAX_DETECTIONS most confident


def _box(value: Any) -> tuple[float, float, float, float] | None:
    """Return `[xc, yc, w, h]` as numbers, or None when it is not a usable box."""
    if not isinstance(value, list | tuple) or len(value) != 4:
        return None
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in value):
        return None
    xc, yc, w, h = (float(n) for n in value)
    if not all(math.isfinite(n) for n in (xc, yc, w, h)) or w < 0 or h < 0:
        return None
    return xc, yc, w, h


def read_prediction(document: Any) -> Prediction:
    """Return the prediction in an answer of `/p/`; raise on a malformed one.

    `{"detections": [[label, confidence, [xc, yc, w, h]], ...]}`; the score is the
    sum of the confidences (not capped at 1). A detection without a usable box
    counts all the same: the box only draws the pictures.
    """
    if not isinstance(document, dict) or not isinstance(document.get("detections"), list):
        raise MlApiBadResponseError("no detections list")
    total = 0.0
    detections: list[Detection] = []
    for detection in document["detections"]:
        if not isinstance(detection, list | tuple) or len(detection) < 2:
            raise MlApiBadResponseError("a detection is not [label, confidence, box]")
        confidence = detection[1]
        if (
            isinstance(confidence, bool)
            or not isinstance(confidence, int | float)
            or not 0 <= confidence <= 1
        ):
            raise MlApiBadResponseError("a confidence is not between 0 and 1")
        total += float(confidence)
        label = detection[0] if isinstance(detection[0], str) else "failure"
        box = _box(detection[2]) if len(detection) > 2 else None
        detections.append(Detection(label[:40], float(confidence), box))
    detections.sort(key=lambda found: found.confidence, reverse=True)
    return Prediction(total, tuple(detections[:MAX_DETECTIONS]))


def summed_confidence(document: Any) -> float:
    """Return the sum of the confidences of a prediction; raise on a malformed one."""
    return read_prediction(document).score


class MlApiClient:
    """Talks to one ML API."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str | None = None,
        timeout_sec: float = CHECK_TIMEOUT_SEC,
        predict_timeout_sec: float = PREDICT_TIMEOUT_SEC,
    ) -> None:
        """Use `session` for requests to `base_url`, sending `token` when set."""
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_sec)
        self._predict_timeout = aiohttp.ClientTimeout(total=predict_timeout_sec)
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

    async def async_predict(self, image_url: str) -> Prediction:
        """Have the ML API score the image at `image_url`; return its prediction."""
        try:
            async with self._session.get(
                URL(self._base_url + PREDICT_PATH).with_query(img=image_url),
                headers=self._headers,
                timeout=self._predict_timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                body = bytearray()
                # read() may return before the whole answer arrived: read to the end.
                async for chunk in response.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise MlApiBadResponseError("the answer is too large")
        except TimeoutError as err:
            raise MlApiUnreachableError("timed out") from err
        except (aiohttp.ClientError, ValueError) as err:
            raise MlApiUnreachableError(str(err)) from err
        if status == 401:
            raise MlApiTokenRejectedError
        if status == 400:
            # The ML API's message quotes the image URL; its nonce stays out of logs.
            message = bytes(body[:300]).decode(errors="replace").replace(image_url, "<snapshot>")
            raise MlApiImageError(message)
        if status != 200:
            raise MlApiBadResponseError(f"/p/ answered {status}")
        try:
            document = json.loads(body)
        except ValueError as err:
            raise MlApiBadResponseError("not JSON") from err
        return read_prediction(document)

    async def async_validate(self) -> None:
        """Check the server and the token before they are saved."""
        await self.async_health()
        status, _ = await self._get(PREDICT_PATH)
        if status == 401:
            raise MlApiTokenRejectedError
        if status != 422:
            raise MlApiNotObicoError(f"/p/ without an image answered {status}")
