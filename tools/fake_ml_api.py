"""A fake Obico ML API: a real aiohttp server on loopback that behaves like the real one.

`/hc/` answers `ok`; `/p/` checks the bearer token like the real server (bare 401),
answers 422 without `img`, downloads `img` itself (400 when it cannot) and answers
what `judge` says of the image: by default the next scripted `detections`. Tests
change `health_status`, `health_body`, `predict_status` or `delay` to simulate a
broken or slow server; the demo makerspace passes its own `judge`.

A detection is `[label, confidence, [x, y, w, h]]`, as Obico's model reports it.
"""

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

type Judge = Callable[[bytes], list[Any]]


class FakeMlApi:
    """Serve the ML API contract on 127.0.0.1."""

    def __init__(
        self, token: str | None = None, *, judge: Judge | None = None, history: bool = True
    ) -> None:
        """Require `token` on /p/ when set; keep what was asked unless `history` is off."""
        self.token = token
        self.judge = judge or self._scripted
        self.history = history
        self.health_status = 200
        self.health_body = "ok"
        self.predict_status: int | None = None  # force a status for /p/
        self.predict_body: str | None = None  # force a raw body for /p/
        self.delay = 0.0
        self.detections: deque[list[Any]] = deque()
        self.fetched_images: list[bytes] = []
        self.requests: list[str] = []
        self.image_urls: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, port: int = 0) -> None:
        """Listen on loopback, on `port` or a free one."""
        app = web.Application()
        app.router.add_get("/hc/", self._health)
        app.router.add_get("/p/", self._predict)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def _scripted(self, _image: bytes) -> list[Any]:
        return self.detections.popleft() if self.detections else []

    def _remember(self, what: list[Any], item: Any) -> None:
        if self.history:
            what.append(item)

    async def _health(self, request: web.Request) -> web.Response:
        self._remember(self.requests, "/hc/")
        return web.Response(status=self.health_status, text=self.health_body)

    async def _predict(self, request: web.Request) -> web.Response:
        self._remember(self.requests, request.raw_path)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
                return web.Response(status=401)
            if self.predict_status is not None:
                return web.Response(status=self.predict_status, text=self.predict_body or "")
            if self.predict_body is not None:  # a broken server: garbage, no fetch
                return web.Response(text=self.predict_body, content_type="application/json")
            img = request.query.get("img")
            if img:
                self._remember(self.image_urls, img)
            if not img:
                return web.json_response(
                    {"detections": [], "message": "img is required"}, status=422
                )
            try:
                async with (
                    ClientSession() as session,
                    session.get(img, timeout=ClientTimeout(connect=0.1, total=5)) as response,
                ):
                    response.raise_for_status()
                    image = await response.read()
            except Exception as err:  # noqa: BLE001 - the real server answers 400 for any fetch error
                return web.json_response(
                    {"detections": [], "message": f"cannot fetch image: {err}"}, status=400
                )
            self._remember(self.fetched_images, image)
            return web.json_response({"detections": self.judge(image)})
        finally:
            self.in_flight -= 1
