"""Camera snapshots served to the ML API under single-use nonce URLs.

The ML API downloads the image itself within a few seconds, but a camera can take
longer to produce one, so a snapshot is taken first and kept in memory under a
random nonce; the ML API gets `<snapshot base URL>/api/makerspace_hub/frame/<nonce>`.
A frame is served once, for at most FRAME_TTL_SEC, with `Cache-Control: no-store`;
anything else is a 404. No login: the nonce is the credential.
"""

import secrets
import time

from aiohttp import web
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN

DATA_FRAMES: HassKey["FrameStore"] = HassKey(f"{DOMAIN}_frames")
FRAME_PATH = "/api/makerspace_hub/frame"
FRAME_TTL_SEC = 30.0
MAX_FRAMES = 64  # at most this many snapshots wait in memory at once


class FrameStore:
    """Snapshots waiting for the ML API."""

    def __init__(self) -> None:
        """Hold no frames yet."""
        self._frames: dict[str, tuple[bytes, str, float]] = {}

    def add(self, image: bytes, content_type: str) -> str:
        """Keep a snapshot; return its nonce."""
        now = time.monotonic()
        for nonce, (_, _, expires) in list(self._frames.items()):
            if expires <= now:
                del self._frames[nonce]
        while len(self._frames) >= MAX_FRAMES:
            del self._frames[next(iter(self._frames))]
        nonce = secrets.token_urlsafe(32)
        self._frames[nonce] = (image, content_type, now + FRAME_TTL_SEC)
        return nonce

    def take(self, nonce: str) -> tuple[bytes, str] | None:
        """Return a snapshot once, if it has not expired."""
        frame = self._frames.pop(nonce, None)
        if frame is None or frame[2] <= time.monotonic():
            return None
        return frame[0], frame[1]

    def discard(self, nonce: str) -> None:
        """Forget a snapshot the ML API did not fetch."""
        self._frames.pop(nonce, None)

    def __len__(self) -> int:
        """Return the number of waiting snapshots."""
        return len(self._frames)


class FrameView(HomeAssistantView):
    """Serves each waiting snapshot exactly once."""

    url = FRAME_PATH + "/{nonce}"
    name = "api:makerspace_hub:frame"
    requires_auth = False

    def __init__(self, frames: FrameStore) -> None:
        """Serve `frames`."""
        self._frames = frames

    async def get(self, request: web.Request, nonce: str) -> web.Response:
        """Answer the snapshot, or 404."""
        frame = self._frames.take(nonce)
        if frame is None:
            return web.Response(status=404, headers={"Cache-Control": "no-store"})
        image, content_type = frame
        return web.Response(
            body=image, content_type=content_type, headers={"Cache-Control": "no-store"}
        )
