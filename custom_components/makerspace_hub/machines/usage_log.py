"""A hub's usage records in Home Assistant: written behind, bounded, like the state files.

`UsageLog` is the hub's store for the records (an `OwnerStore` of the hub's
storage, so it lives across reloads, has one write thread at most, counts its
timeouts, alerts and raises the storage repair issues like every owner's state).
A machine's logout hands it the ended session; the record waits in memory and a
worker thread appends it to the SQLite database (`usage_db`). A board's reply never
waits for it. A write that fails keeps its records and is retried.

Reports read the database in their own thread, bounded by REPORT_TIMEOUT_SEC, and
add the records not written yet. Retention deletes old rows through the same write
thread, nightly (`async_purge`).
"""

import asyncio
from functools import partial
from pathlib import Path
import time
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later

from ..const import DOMAIN, LOGGER
from ..listeners import EventSource
from ..storage.hub_storage import HubStorage
from ..storage.owner_store import OwnerStore, run_in_thread
from .sessions import AccessEvent
from .usage import UsageRecord, UsageReport, retention_cutoff
from .usage_db import delete_before, insert_records, select_records

USAGE_KIND = "usage"
USAGE_NAME = "records"
USAGE_DB_PATH = ("makerspace_hub", "usage.db")  # in the configuration folder
REPORT_TIMEOUT_SEC = 10.0
# Records wait this long before a write starts, so that the sessions ending meanwhile
# go in one write: a write thread competes with the board replies for Python's
# interpreter lock, and `scripts/bench` measured one write per logout in the replies'
# p99. Reports include the records still waiting; Home Assistant stopping writes them.
WRITE_DELAY_SEC = 5.0
# Records kept in memory while the database cannot be written; past it the oldest go
# (logged): a disk that fails for weeks must not eat Home Assistant's memory.
MAX_PENDING = 10_000


class UsageLog(OwnerStore):
    """The records of one hub: pending in memory, written behind to SQLite."""

    COUNTS_SAVED = False  # the database keeps records only; the count lives in memory

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Start with nothing pending; there is no state file to read."""
        super().__init__(*args, **kwargs)
        self.loaded = True
        self.hub_id = ""  # the hub entry's id, set by `usage_log_of`
        self._pending: list[UsageRecord] = []
        self._writing: list[UsageRecord] = []
        self._cutoff: float | None = None  # a purge asked for, not done yet
        self._purging: float | None = None
        self._delayed: CALLBACK_TYPE | None = None  # the write waiting for more records

    @property
    def label(self) -> str:
        """Return how alerts and logs name the records."""
        return "usage records"

    @property
    def waiting(self) -> int:
        """Return how many records are not in the database yet."""
        return len(self._pending) + len(self._writing)

    @callback
    def follow(self, source: EventSource[AccessEvent], machine_id: str, name: str) -> None:
        """Record every session of a machine that ends (its logout events)."""

        @callback
        def on_event(event: AccessEvent) -> None:
            if event.ended is not None and event.reason is not None:
                self.record(UsageRecord.of(machine_id, name, event.ended, event.reason))

        source.async_add_event_listener(on_event)

    @callback
    def record(self, record: UsageRecord) -> None:
        """Take a record; it reaches the database in the background."""
        self._pending.append(record)
        if (excess := len(self._pending) - MAX_PENDING) > 0:
            LOGGER.error("Usage records could not be written; dropping the %d oldest", excess)
            del self._pending[:excess]
        self._mark_dirty()

    @callback
    def async_purge(self, retention_days: int) -> None:
        """Delete records that ended more than `retention_days` ago (in the background)."""
        self._cutoff = retention_cutoff(time.time(), retention_days)
        self._mark_dirty()

    @callback
    def _mark_dirty(self) -> None:
        """Write within WRITE_DELAY_SEC, with whatever else ends meanwhile."""
        self._dirty = True
        if self._attempt is None and self._delayed is None:
            self._delayed = async_call_later(
                self.hass, WRITE_DELAY_SEC, HassJob(self._write_now, cancel_on_shutdown=True)
            )

    @callback
    def _write_now(self, _now: Any) -> None:
        self._delayed = None
        if self._dirty and self._attempt is None:
            self._start_attempt()

    def _write(self) -> asyncio.Future[None]:
        if self._delayed is not None:  # a flush, or the end of an earlier write
            self._delayed()
            self._delayed = None
        batch, self._writing, self._pending = self._pending, self._pending, []
        cutoff, self._purging, self._cutoff = self._cutoff, self._cutoff, None
        return run_in_thread(self.hass, _write, self.path, self.hub_id, batch, cutoff)

    def _write_ended(self, error: BaseException | None) -> None:
        if error is not None:  # all or none was written: keep them for the retry
            self._pending[:0] = self._writing
            self._cutoff = self._cutoff or self._purging
        self._writing, self._purging = [], None

    @callback
    def retire(self) -> None:
        """Never delete the database: a removed hub's records may still be billed."""

    async def async_report(
        self,
        start: float,
        end: float,
        *,
        machine_ids: list[str] | None = None,
        account_id: str | None = None,
    ) -> UsageReport:
        """Return the records of sessions that ended in [start, end); raise if unreadable."""
        # The records in memory are taken before the database is read: a write ending
        # while it is read takes them out of memory, and the read may predate it.
        unwritten = [*self._writing, *self._pending]
        select = partial(select_records, machine_ids=machine_ids, account_id=account_id)
        future = run_in_thread(self.hass, select, self.path, self.hub_id, start, end)
        try:
            async with asyncio.timeout(REPORT_TIMEOUT_SEC):
                stored = await future
        except TimeoutError as err:
            raise _error("usage_db_timeout", seconds=f"{REPORT_TIMEOUT_SEC:.0f}") from err
        except Exception as err:  # a database or disk error, said in the message
            raise _error("usage_db_error", error=str(err)) from err

        def wanted(record: UsageRecord) -> bool:
            return (
                start <= record.end < end
                and (machine_ids is None or record.machine_id in machine_ids)
                and (account_id is None or record.account_id == account_id)
            )

        records = {(r.machine_id, r.start): r for r in stored}
        for record in unwritten:
            if wanted(record):
                records.setdefault((record.machine_id, record.start), record)
        return UsageReport.of(start, end, records.values())


def _write(path: Path, hub_id: str, batch: list[UsageRecord], cutoff: float | None) -> None:
    if batch:
        insert_records(path, hub_id, batch)
    if cutoff is not None and (deleted := delete_before(path, hub_id, cutoff)):
        LOGGER.info("Deleted %d usage records past their retention", deleted)


def _error(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


@callback
def usage_log_of(hass: HomeAssistant, storage: HubStorage) -> UsageLog:
    """Return the usage log of a hub; it lives as long as the hub's storage."""
    path = Path(hass.config.path(*USAGE_DB_PATH))
    log = storage.store(USAGE_KIND, USAGE_NAME, path=path, factory=UsageLog)
    if not isinstance(log, UsageLog):  # the factory made it: never happens
        raise TypeError(f"{log.label} is not a usage log")
    log.hub_id = storage.entry_id
    return log
