"""What a printer's detector saw, as pictures: glue around the pure `boxes`.

- The detection picture: the last scored snapshot with the ML API's boxes. The
  snapshot and its detections stay in memory; the boxes are drawn only when the
  picture is asked for (its image entity), in the executor, once per frame. A frame
  nobody looks at costs no drawing at all.
- The failure picture: the frame whose verdict made the print's failure action run
  (the last scored one), drawn once, shown until the next print starts and kept in
  `failure.jpg`, so that it survives a restart.
- The failure alert's picture: the same picture, saved as an alert frame whose signed
  link the alert carries (see `picture_files`).

The files are written by the state files' writer, one job at a time per printer,
each job in a thread of its own (`run_in_thread`): a hung disk holds one thread per
printer and makes nothing wait but the alert, for at most ALERT_PICTURE_TIMEOUT_SEC;
it goes without its picture then.
"""

import asyncio
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
import time
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, LOGGER
from ..storage.hub_storage import DATA_STORAGE
from ..storage.owner_store import run_in_thread
from .boxes import draw_boxes
from .ml_api import Detection
from .picture_files import (
    alert_frame_link,
    alert_frame_name,
    delete_failure,
    printers_folder,
    read_failure,
    save_failure,
)

# From the failure's verdict to the alert: drawing and saving its picture (the pause
# runs meanwhile). Past it the alert goes without a picture.
ALERT_PICTURE_TIMEOUT_SEC = 5.0
# Jobs waiting behind a hung write; more are refused (and logged).
MAX_QUEUED_JOBS = 8


@dataclass(frozen=True, slots=True, eq=False)
class ScoredFrame:
    """A snapshot the ML API scored, and what it saw on it."""

    image: bytes
    detections: tuple[Detection, ...]
    at: datetime


def _settle[T](future: asyncio.Future[T], result: T) -> None:
    if not future.done():
        future.set_result(result)


async def _async_follow(thread: asyncio.Future[Any]) -> None:
    with suppress(Exception):  # the job's own future reports it
        await asyncio.shield(thread)


class PictureJobs:
    """A printer's picture files: one job at a time, each in a thread of its own."""

    def __init__(self, hass: HomeAssistant, name: str) -> None:
        """Work for the printer called `name` (for the logs)."""
        self.hass = hass
        self.name = name
        self._queue: deque[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]] = (
            deque()
        )
        self._running = False

    @callback
    def run[T](self, what: str, func: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run blocking `func(*args)` after the jobs before it; a failure is logged."""
        future: asyncio.Future[T] = self.hass.loop.create_future()
        future.add_done_callback(lambda done: self._log(what, done))
        if len(self._queue) >= MAX_QUEUED_JOBS:
            future.set_exception(OSError("the disk does not keep up"))
        else:
            self._queue.append((func, args, future))
            self._next()
        return future

    def _log(self, what: str, done: asyncio.Future[Any]) -> None:
        if not done.cancelled() and (error := done.exception()) is not None:
            LOGGER.warning("%s: cannot %s: %s", self.name, what, error)

    @callback
    def _next(self) -> None:
        if self._running or not self._queue:
            return
        func, args, future = self._queue.popleft()
        self._running = True

        def finished(thread: asyncio.Future[Any]) -> None:
            self._running = False
            if not future.done():  # nobody cancelled it meanwhile
                if (error := thread.exception()) is not None:
                    future.set_exception(error)
                else:
                    future.set_result(thread.result())
            self._next()

        thread = run_in_thread(self.hass, func, *args)
        thread.add_done_callback(finished)
        # A background task follows the thread: Home Assistant counts the work as its
        # own (a test waits for it), and cancels only the task at shutdown.
        self.hass.async_create_background_task(
            _async_follow(thread), f"{DOMAIN} {self.name} pictures"
        )


class PrinterPictures:
    """The detection and failure pictures of one printer, and its alerts' pictures."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        subentry_id: str,
        name: str,
        changed: CALLBACK_TYPE,
    ) -> None:
        """Keep the printer's files in its folder; call `changed` when a picture changes."""
        self.hass = hass
        self.entry_id = entry_id
        self.subentry_id = subentry_id
        self.name = name
        self.folder = printers_folder(hass, entry_id) / subentry_id
        self.failure_jpeg: bytes | None = None
        self.failure_at: datetime | None = None
        self._changed = changed
        self._frame: ScoredFrame | None = None
        self._drawn: tuple[ScoredFrame, bytes] | None = None
        self._drawing: tuple[ScoredFrame, asyncio.Future[bytes | None]] | None = None
        self._print = 0  # counts the prints begun: a late picture of an earlier one is dropped
        self._jobs = PictureJobs(hass, name)

    @property
    def frame_at(self) -> datetime | None:
        """Return when the last scored frame was scored (None: none since the start)."""
        return None if self._frame is None else self._frame.at

    @callback
    def async_start(self) -> None:
        """Take up the failure picture saved before a restart (read in the background)."""
        begun = self._print

        def take(reading: asyncio.Future[tuple[bytes, float] | None]) -> None:
            if reading.cancelled() or reading.exception() is not None:
                return  # logged
            if (found := reading.result()) is None or self._print != begun:
                return
            if self.failure_jpeg is None:
                self.failure_jpeg = found[0]
                self.failure_at = datetime.fromtimestamp(found[1], UTC)
                self._changed()

        self._jobs.run("read the failure picture", read_failure, self.folder).add_done_callback(
            take
        )

    @callback
    def scored(self, image: bytes, detections: tuple[Detection, ...]) -> None:
        """Keep a frame the ML API scored (drawn only when asked for)."""
        self._frame = ScoredFrame(image, detections, dt_util.utcnow())

    async def async_detection_jpeg(self) -> bytes | None:
        """Return the last scored frame with its boxes (drawn once per frame)."""
        if (frame := self._frame) is None:
            return None
        return await self._async_draw(frame)

    async def _async_draw(self, frame: ScoredFrame) -> bytes:
        if self._drawn is not None and self._drawn[0] is frame:
            return self._drawn[1]
        if self._drawing is None or self._drawing[0] is not frame:
            drawing = self.hass.async_add_executor_job(draw_boxes, frame.image, frame.detections)
            self._drawing = (frame, drawing)
        # Shielded: a viewer that goes away does not cancel the drawing for the others.
        drawn = await asyncio.shield(self._drawing[1])
        if self._drawing is not None and self._drawing[0] is frame:
            self._drawing = None
        jpeg = frame.image if drawn is None else drawn  # not a picture Pillow reads: as it is
        if self._frame is frame:
            self._drawn = (frame, jpeg)
        return jpeg

    @callback
    def new_print(self) -> None:
        """Forget the last print's failure picture, here and on disk."""
        self._print += 1
        had = self.failure_jpeg is not None
        self.failure_jpeg = self.failure_at = None
        self._jobs.run("delete the failure picture", delete_failure, self.folder)
        if had:
            self._changed()

    @callback
    def failure(self) -> asyncio.Future[str | None]:
        """Make the last scored frame the print's failure picture and save it.

        The future gives the signed link of the alert's picture once it is saved
        (None: it was not). Nothing Home Assistant waits for (a task, the shutdown)
        waits on the disk: only the alert, bounded (`async_alert_link`).
        """
        link: asyncio.Future[str | None] = self.hass.loop.create_future()
        self.hass.async_create_background_task(
            self._async_failure(self._frame, self._print, link),
            f"{DOMAIN} {self.name} failure picture",
        )
        return link

    async def _async_failure(
        self, frame: ScoredFrame | None, begun: int, link: asyncio.Future[str | None]
    ) -> None:
        try:
            jpeg = None if frame is None else await self._async_draw(frame)
        except BaseException:
            _settle(link, None)
            raise
        if jpeg is None or self._print != begun:  # no frame, or the print is over already
            _settle(link, None)
            return
        self.failure_jpeg, self.failure_at = jpeg, dt_util.utcnow()
        self._changed()
        name = alert_frame_name(time.time())
        writer = self.hass.data[DATA_STORAGE].writer
        saving = self._jobs.run(
            "save the failure picture", save_failure, writer, self.folder, jpeg, name
        )

        def saved(done: asyncio.Future[None]) -> None:
            ok = not done.cancelled() and done.exception() is None  # else logged
            _settle(
                link,
                alert_frame_link(self.hass, self.entry_id, self.subentry_id, name) if ok else None,
            )

        saving.add_done_callback(saved)

    async def async_alert_link(
        self, failure: asyncio.Future[str | None], deadline: float
    ) -> str | None:
        """Return the link to the failure alert's picture, if it is saved by `deadline`."""
        try:
            async with asyncio.timeout_at(deadline):
                return await asyncio.shield(failure)
        except TimeoutError:
            LOGGER.warning(
                "%s: the failure alert goes without its picture: saving it takes longer "
                "than %.0f s",
                self.name,
                ALERT_PICTURE_TIMEOUT_SEC,
            )
        except Exception:  # noqa: BLE001 - a picture never stops the alert
            LOGGER.exception("%s: the failure alert goes without its picture", self.name)
        return None
