"""One owner's persisted state: newest in memory, a write-behind copy on disk (persistence spec).

Owners (machines, printers, recording sensors) keep their state in memory and hand
each new state to `OwnerStore.save`; a worker thread writes it. The event loop never
waits on the disk, and nothing that answers a board ever awaits a save.

- Single flight per owner: at most one save thread; states saved meanwhile
  coalesce, and the newest is written once when the thread ends.
- Each attempt is bounded by STATE_SAVE_TIMEOUT_SEC: past it the attempt counts as a
  timeout of the owner (a lifetime count kept in the state file) and its thread is
  left to finish; its outcome is consumed, never raised. An attempt that stays stuck
  counts again every STATE_SAVE_RECOUNT_SEC, still on its one thread.
- Stores live in `hass.data` across reloads of a hub, so a reload during a hung disk
  neither loses the newest state nor starts a second thread for the same file.

A store knows nothing of the hub it belongs to: it reports timeouts, finished saves
and unusable files through `StoreReports` (the hub's `HubStorage`, which keeps the
counts, alerts and repair issues) and lets entities follow those through the
`Listeners` it is given.
"""

import _thread
import asyncio
from collections.abc import Callable
from contextlib import suppress
import copy
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
import time
from typing import Any, Protocol

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_call_at, async_call_later

from ..const import LOGGER
from ..listeners import Listeners
from .state_files import (
    STATE_SAVE_TIMEOUT_SEC,
    LoadedState,
    delete_state_file,
    encode_state,
    set_aside_invalid,
)

# After a failed write (e.g. a read-only folder) the newest state is retried this
# often even when nothing changes.
SAVE_RETRY_SEC = 30.0
# A save that stays stuck past its first timeout counts another one this often (at
# 2 s, 10 s, 18 s... after it started). The per-owner alert needs an owner's 2nd
# timeout and the fleet alert two owners, so counting a hang once would never alert
# a hub with one machine. dm_mac's boards sent a request every 10 s, each with its
# own 2 s save timeout, so a hung disk cost a machine one timeout per ~10 s there
# too: 2 + 8 s puts the 2nd timeout, and the alert, 10 s into a hang.
STATE_SAVE_RECOUNT_SEC = 8.0


def run_in_thread[T](hass: HomeAssistant, func: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """Run blocking `func` in a new thread; its outcome arrives as a future.

    A hung disk must not occupy Home Assistant's executor, whose threads every
    integration shares: each blocking disk job of this integration gets its own
    thread, and single flight keeps their number at one per owner. The thread is
    started with `_thread`: `threading.Thread.start` would make the event loop wait
    until the new thread gets the GIL, which on a busy machine took over 100 ms
    (measured by `scripts/bench`). Like a daemon thread, it never delays exit.
    """
    loop = hass.loop
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def run() -> None:
        try:
            result = func(*args)
        except Exception as err:  # noqa: BLE001 - handed to the loop, never leaked
            outcome = partial(future.set_exception, err)
        else:
            outcome = partial(future.set_result, result)
        # RuntimeError: the loop is closed because Home Assistant has stopped.
        with suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, outcome)

    _thread.start_new_thread(run, ())
    return future


@dataclass(eq=False, slots=True)
class SaveAttempt:
    """One write of one owner's state, running in its own thread."""

    started: float
    future: asyncio.Future[None]  # the thread's outcome
    settled: asyncio.Future[None]  # resolved once the store has taken the outcome in
    deadline: float  # loop time at which the attempt counts its next timeout
    timed_out: bool = False
    cancel_deadline: CALLBACK_TYPE | None = field(default=None, repr=False)


class StateWriter(Protocol):
    """Writes a state file atomically (`state_files.AtomicFileWriter`). Blocking."""

    def write(self, path: Path, data: bytes) -> None:
        """Replace the content of `path` with `data`."""


class StoreReports(Protocol):
    """Where a store reports what happens to its saves and its file.

    The hub's `HubStorage`: it counts the timeouts, sends the alerts, raises the
    repair issues and tells the entities.
    """

    def async_save_timed_out(self, store: "OwnerStore") -> None:
        """Count a timeout of `store` (a save past its deadline, or still stuck)."""

    def async_save_finished(self, store: "OwnerStore") -> None:
        """Take note that an attempt of `store` ended that changes its health.

        An attempt that timed out, failed, or succeeded after a failure: a save that
        ends in time like the one before it changes nothing a report shows, and is
        not reported (a hundred boards' card changes would each re-judge the health
        of every store and re-check every entity that shows it).
        """

    def async_file_unusable(
        self, store: "OwnerStore", problem: str, set_aside: Path | None
    ) -> None:
        """Report the unusable state file of `store`, moved to `set_aside` (None: still there)."""


class OwnerStore:
    """The persisted state of one owner: newest in memory, a copy on disk.

    A subclass may write something else in the same bounded way (`_write`,
    `_write_ended`): the usage records (`machines.usage_log`) append rows.
    """

    # Whether the lifetime timeout count is saved with the state (a new count makes
    # the state pending).
    COUNTS_SAVED = True

    def __init__(
        self,
        hass: HomeAssistant,
        kind: str,
        name: str,
        path: Path,
        *,
        writer: Callable[[], StateWriter],
        reports: StoreReports,
        health_listeners: Listeners[()],
    ) -> None:
        """Keep `kind`/`name`'s state in `path`.

        `writer` is asked for the writer at each save (a test may swap in a slow
        disk while the store runs); `health_listeners` are called when the counts or
        the health of the hub's storage change.
        """
        self.hass = hass
        self.kind = kind
        self.name = name
        self.path = path
        self.save_timeouts = 0
        self.loaded = False
        # Why the state file could not be used when it was read (None: it could).
        self.load_problem: str | None = None
        self.last_error: str | None = None
        self.writable = True
        self._writer = writer
        self._reports = reports
        self._health_listeners = health_listeners
        self._data: dict[str, Any] | None = None
        self._dirty = False
        self._attempt: SaveAttempt | None = None
        self._retry: CALLBACK_TYPE | None = None
        self._retired = False

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` when the hub's storage changes (counts, health)."""
        return self._health_listeners.add(listener)

    @property
    def label(self) -> str:
        """Return how alerts and logs name the owner, e.g. `machine laser`."""
        return f"{self.kind.replace('_', ' ')} {self.name}"  # e.g. recording sensor hive

    @property
    def data(self) -> dict[str, Any] | None:
        """Return the newest state (None: start from defaults)."""
        return copy.deepcopy(self._data)

    @property
    def pending(self) -> bool:
        """Return True while the newest state has not reached the disk."""
        return self._dirty or self._attempt is not None

    @property
    def hung(self) -> bool:
        """Return True while a save that timed out is still running."""
        return self._attempt is not None and self._attempt.timed_out

    @callback
    def apply_loaded(self, loaded: LoadedState) -> None:
        """Take what reading the state file found (once, at the first setup); report a problem."""
        self._data = loaded.data
        self.save_timeouts = loaded.save_timeouts
        self.writable = loaded.writable
        self.load_problem = loaded.problem
        self.loaded = True
        if loaded.problem is not None:
            self._reports.async_file_unusable(self, loaded.problem, loaded.set_aside)

    @callback
    def adopt(self, previous: "OwnerStore") -> None:
        """Take over the state of a renamed owner's store and save it here."""
        self._data = previous.data
        self.save_timeouts = previous.save_timeouts
        self.loaded = True
        self._mark_dirty()

    async def async_set_aside(self, problem: str) -> None:
        """Move aside a file whose data the owner cannot use, start over and report it."""
        target = await self.hass.async_add_executor_job(set_aside_invalid, self.path)
        self._data = None
        # A file that could not be moved stays in place: never overwrite it.
        self.writable = target is not None
        self._reports.async_file_unusable(self, problem, target)

    @callback
    def save(self, data: dict[str, Any]) -> None:
        """Take the owner's newest state; it reaches the disk in the background."""
        self._data = copy.deepcopy(data)
        self._mark_dirty()

    @callback
    def _mark_dirty(self) -> None:
        self._dirty = True
        if self._attempt is None and self.writable and not self._retired:
            self._start_attempt()

    @callback
    def _start_attempt(self) -> None:
        if self._retry is not None:
            self._retry()
            self._retry = None
        self._dirty = False
        hass = self.hass
        future = self._write()
        attempt = SaveAttempt(
            started=time.monotonic(),
            future=future,
            settled=hass.loop.create_future(),
            deadline=hass.loop.time() + STATE_SAVE_TIMEOUT_SEC,
        )
        self._attempt = attempt
        self._schedule_deadline(attempt)
        future.add_done_callback(partial(self._on_attempt_done, attempt))

    def _write(self) -> asyncio.Future[None]:
        """Start writing what is pending in its thread (here: the newest state)."""
        payload = encode_state(self.kind, self.name, self._data or {}, self.save_timeouts)
        return run_in_thread(self.hass, self._writer().write, self.path, payload)

    def _write_ended(self, error: BaseException | None) -> None:
        """Take in how a write ended (here nothing: a failed state is written again)."""

    @callback
    def _schedule_deadline(self, attempt: SaveAttempt) -> None:
        # At fixed points after the start, not "8 s after the last count", so a
        # late timer does not push every later count back.
        attempt.cancel_deadline = async_call_at(
            self.hass,
            HassJob(partial(self._on_deadline, attempt)),
            attempt.deadline,
        )

    @callback
    def _on_deadline(self, attempt: SaveAttempt, _now: Any) -> None:
        attempt.cancel_deadline = None
        if attempt.future.done() or self._retired:
            return
        self.save_timeouts += 1
        self._dirty = self._dirty or self.COUNTS_SAVED  # the new count must reach the disk
        if not attempt.timed_out:
            attempt.timed_out = True
            LOGGER.warning(
                "Saving the state of %s takes longer than %.0f s; the disk may be slow or hung",
                self.label,
                STATE_SAVE_TIMEOUT_SEC,
            )
        else:  # warned once; the counts and the repair issue show the rest
            LOGGER.debug(
                "Saving the state of %s is still stuck after %.0f s",
                self.label,
                time.monotonic() - attempt.started,
            )
        # The same thread goes on: counting again never starts another write. A
        # timer that fired late counts once, not once per point it slept through.
        now = self.hass.loop.time()
        while attempt.deadline <= now:
            attempt.deadline += STATE_SAVE_RECOUNT_SEC
        self._schedule_deadline(attempt)
        self._reports.async_save_timed_out(self)

    @callback
    def _on_attempt_done(self, attempt: SaveAttempt, future: asyncio.Future[None]) -> None:
        if attempt.cancel_deadline is not None:
            attempt.cancel_deadline()
        self._attempt = None
        error = future.exception()
        health_changed = attempt.timed_out or error is not None or self.last_error is not None
        self._write_ended(error)
        if attempt.timed_out:
            LOGGER.info(
                "The late save of %s ended after %.1f s",
                self.label,
                time.monotonic() - attempt.started,
            )
        if error is None:
            if self.last_error is not None:
                LOGGER.info("Saving the state of %s works again", self.label)
            self.last_error = None
        else:
            if self.last_error is None:
                LOGGER.error("Cannot save the state of %s to %s: %s", self.label, self.path, error)
            self.last_error = str(error) or type(error).__name__
            self._dirty = True
        attempt.settled.set_result(None)
        if health_changed:
            self._reports.async_save_finished(self)
        if self._retired:
            self._async_delete_file()
        elif self._dirty and error is None:
            self._start_attempt()
        elif self._dirty:
            self._retry = async_call_later(
                self.hass, SAVE_RETRY_SEC, HassJob(self._on_retry, cancel_on_shutdown=True)
            )

    @callback
    def _on_retry(self, _now: Any) -> None:
        self._retry = None
        if self._attempt is None and self._dirty:
            self._start_attempt()

    async def async_flush(self) -> bool:
        """Write pending state, bounded by STATE_SAVE_TIMEOUT_SEC; True when on disk."""
        try:
            async with asyncio.timeout(STATE_SAVE_TIMEOUT_SEC):
                while self._dirty or self._attempt is not None:
                    if self._attempt is None:
                        if not self.writable or self._retired:
                            return False
                        self._start_attempt()
                    attempt = self._attempt
                    if attempt is not None:
                        await asyncio.shield(attempt.settled)
                    if self.last_error is not None:
                        return False  # logged already; retried later
        except TimeoutError:
            LOGGER.warning("The newest state of %s may not have reached the disk", self.label)
            return False
        return True

    @callback
    def retire(self) -> None:
        """Stop saving for good and delete the file (after a running save ends)."""
        self._retired = True
        if self._retry is not None:
            self._retry()
            self._retry = None
        if self._attempt is not None and self._attempt.cancel_deadline is not None:
            # A retired owner has nobody to alert about: stop counting its hang.
            self._attempt.cancel_deadline()
            self._attempt.cancel_deadline = None
        if self._attempt is None:
            self._async_delete_file()

    @callback
    def _async_delete_file(self) -> None:
        self.hass.async_add_executor_job(delete_state_file, self.path)
