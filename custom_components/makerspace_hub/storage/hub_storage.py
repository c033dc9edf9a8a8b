"""A hub's state files: where they live, loading them, renames and removals, and their health.

`StateStorage` (one per Home Assistant, in `hass.data`) holds the writer and a
`HubStorage` per hub entry; both outlive reloads of the entry. A `HubStorage`

- keeps its owners' files under `.storage/makerspace_hub/<entry id>/<kind>/<name>.json`
  and makes one `OwnerStore` per owner;
- reads them at setup, in the executor and bounded (a hung disk retries the setup);
- moves the state of a renamed owner, deletes that of a removed one, flushes on
  unload and stop, and deletes the whole folder of a deleted hub;
- keeps the health its stores report: counts the save timeouts, sends the per-owner
  and fleet-wide alerts through the `AlertSender` the hub gives it, tells the
  entities (its `Listeners`) and keeps the repair issues:
  - `storage_slow`: a save timed out within the last STORAGE_ISSUE_WINDOW_SEC, or a
    timed-out save is still running;
  - `storage_failing`: the newest write of some owner failed (e.g. read-only folder);
  - `state_file_set_aside` / `state_file_unusable`: a state file could not be used.
"""

import asyncio
from collections.abc import Iterable
from functools import partial
from pathlib import Path
import shutil
import time
from typing import Any

from homeassistant.core import CALLBACK_TYPE, CoreState, HassJob, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.util.hass_dict import HassKey

from ..alert_words import phrase
from ..alerts import AlertSender
from ..const import DOMAIN, LOGGER
from ..hub_options import HubOptions
from ..issues import async_set_issue
from ..listeners import Listeners
from .owner_store import STATE_SAVE_RECOUNT_SEC, OwnerStore
from .state_files import (
    FLEET_TIMEOUT_WINDOW_SEC,
    STATE_SAVE_TIMEOUT_SEC,
    AtomicFileWriter,
    FleetTimeoutTracker,
    LoadedState,
    read_state_file,
)

DATA_STORAGE: HassKey["StateStorage"] = HassKey(f"{DOMAIN}_storage")

STORAGE_ISSUE_WINDOW_SEC = 600.0
STATE_LOAD_TIMEOUT_SEC = 30.0
# The per-owner alert fires on this lifetime timeout (one transient stall is tolerated;
# a save that stays stuck reaches it on its own, see STATE_SAVE_RECOUNT_SEC).
OWNER_ALERT_TIMEOUT = 2
# The fleet alert waits this long for more owners hit by the same hang.
FLEET_ALERT_GATHER_SEC = 5.0


def _read_all(paths: list[Path]) -> list[LoadedState]:
    return [read_state_file(path) for path in paths]


class HubStorage:
    """The stores of one hub's owners and their health."""

    def __init__(self, hass: HomeAssistant, storage: "StateStorage", entry_id: str) -> None:
        """Keep the hub's state files under `.storage/makerspace_hub/<entry id>/`."""
        self.hass = hass
        self.storage = storage
        self.entry_id = entry_id
        self.folder = Path(hass.config.path(".storage", DOMAIN, entry_id))
        # The running hub hands over its sender on each (re)build; until then (or
        # for a deleted hub) alerts become persistent notifications.
        self.alerts = AlertSender(hass, HubOptions(), entry_id)
        self.tracker = FleetTimeoutTracker()
        self.last_timeout: float | None = None
        self._stores: dict[tuple[str, str], OwnerStore] = {}
        self._listeners: Listeners[()] = Listeners()
        self._health_check: CALLBACK_TYPE | None = None
        self._reading: tuple[asyncio.Future[list[LoadedState]], list[OwnerStore]] | None = None
        self._slow = False

    # --- stores ---------------------------------------------------------------------

    @callback
    def store(
        self,
        kind: str,
        name: str,
        *,
        path: Path | None = None,
        factory: type[OwnerStore] = OwnerStore,
    ) -> OwnerStore:
        """Return the store of an owner, creating it on first use.

        Its file is `<kind>/<name>.json` in the hub's folder unless a `path` is given;
        a `factory` (an `OwnerStore` subclass) writes something else than a state.
        """
        key = (kind, name)
        if key not in self._stores:
            self._stores[key] = factory(
                self.hass,
                kind,
                name,
                path or self.folder / kind / f"{name}.json",
                writer=lambda: self.storage.writer,
                reports=self,
                health_listeners=self._listeners,
            )
        return self._stores[key]

    @property
    def stores(self) -> list[OwnerStore]:
        """Return every store of the hub."""
        return list(self._stores.values())

    async def async_load(self, stores: Iterable[OwnerStore]) -> None:
        """Read the state files not read yet, in the executor, bounded.

        A disk that does not answer within STATE_LOAD_TIMEOUT_SEC makes the setup
        retry later instead of starting machines from defaults; a retry waits for
        the same read instead of starting another one.
        """
        stores = list(stores)
        while any(not store.loaded for store in stores):
            if self._reading is None:
                # Home Assistant's executor: one job per hub at most, even when it hangs.
                covered = [store for store in stores if not store.loaded]
                future = self.hass.async_add_executor_job(
                    _read_all, [store.path for store in covered]
                )
                self._reading = (future, covered)
                # Applied even when nobody awaits it any more (the setup timed out).
                future.add_done_callback(partial(self._apply_read, covered))
            future, covered = self._reading
            try:
                await asyncio.wait_for(asyncio.shield(future), STATE_LOAD_TIMEOUT_SEC)
            except TimeoutError as err:
                raise ConfigEntryNotReady(
                    translation_domain=DOMAIN,
                    translation_key="state_load_timeout",
                    translation_placeholders={"folder": str(self.folder)},
                ) from err
            self._apply_read(covered, future)

    @callback
    def _apply_read(
        self, stores: list[OwnerStore], reading: asyncio.Future[list[LoadedState]]
    ) -> None:
        if self._reading is not None and self._reading[0] is reading:
            self._reading = None
        # The read itself catches every OSError; anything else is a bug to surface.
        for store, loaded in zip(stores, reading.result(), strict=True):
            if not store.loaded:
                store.apply_loaded(loaded)

    @callback
    def async_file_unusable(self, store: OwnerStore, problem: str, set_aside: Path | None) -> None:
        """Log and raise the repair issue of a state file that could not be used."""
        if set_aside is not None:
            LOGGER.error(
                "The state file of %s could not be used (%s); it was moved to %s and %s "
                "starts from safe defaults",
                store.label,
                problem,
                set_aside,
                store.label,
            )
            self._create_file_issue(store, "state_file_set_aside", str(set_aside), problem)
        else:
            LOGGER.error(
                "The state file %s of %s cannot be used (%s) nor moved aside; its state is "
                "not saved until the file is fixed or removed",
                store.path,
                store.label,
                problem,
            )
            self._create_file_issue(store, "state_file_unusable", str(store.path), problem)

    @callback
    def _create_file_issue(self, store: OwnerStore, key: str, file: str, problem: str) -> None:
        async_set_issue(
            self.hass,
            f"{key}_{self.entry_id}_{store.kind}_{store.name}",
            key,
            {"owner": store.label, "file": file, "problem": problem},
            severity=ir.IssueSeverity.WARNING,
        )

    @callback
    def async_rename(self, kind: str, old: str, new: str) -> None:
        """Move the state of a renamed owner to its new file name."""
        if (previous := self._stores.pop((kind, old), None)) is None or not previous.loaded:
            return
        self.store(kind, new).adopt(previous)
        previous.retire()

    @callback
    def async_retire(self, kind: str, name: str) -> None:
        """Forget the state of a removed owner and delete its file."""
        if (store := self._stores.pop((kind, name), None)) is not None:
            store.retire()

    async def async_flush(self) -> bool:
        """Write every pending state, concurrently, bounded; True when all is on disk."""
        results = await asyncio.gather(
            *(store.async_flush() for store in self.stores if store.pending)
        )
        return all(results)

    # --- health -----------------------------------------------------------------------

    @property
    def save_timeouts(self) -> int:
        """Return the lifetime save timeouts of all owners."""
        return sum(store.save_timeouts for store in self.stores)

    @property
    def slow(self) -> bool:
        """Return True while saves time out or did so in the last 10 minutes."""
        return self._slow

    @property
    def failing(self) -> list[OwnerStore]:
        """Return the owners whose newest write failed."""
        return [store for store in self.stores if store.last_error is not None]

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` when counts or health change; return the remover."""
        return self._listeners.add(listener)

    @callback
    def async_save_timed_out(self, store: OwnerStore) -> None:
        """Count a timeout of `store` (a save past its deadline, or still stuck); alert."""
        self.last_timeout = time.monotonic()
        if store.save_timeouts == OWNER_ALERT_TIMEOUT:
            LOGGER.warning(
                "Saving the state of %s timed out again (%s timeouts so far)",
                store.label,
                store.save_timeouts,
            )
            self.alerts.async_send_soon(
                f"owner_{store.kind}_{store.name}",
                phrase("alert_storage_owner_title", owner=store.label),
                phrase(
                    "alert_storage_owner_message",
                    owner=store.label,
                    timeouts=store.save_timeouts,
                    timeout=f"{STATE_SAVE_TIMEOUT_SEC:.0f}",
                    recount=f"{STATE_SAVE_RECOUNT_SEC:.0f}",
                ),
            )
        if self.tracker.record(store.label) is not None:
            # Owners hit by the same hang time out within moments of each other:
            # gather them so that one alert names them all.
            async_call_later(
                self.hass,
                FLEET_ALERT_GATHER_SEC,
                HassJob(self._fleet_alert, cancel_on_shutdown=True),
            )
        self.async_update_health()

    @callback
    def async_save_finished(self, store: OwnerStore) -> None:
        """Take note that an attempt of `store` ended (in time or late, ok or failed)."""
        self.async_update_health()

    @callback
    def _fleet_alert(self, _now: Any) -> None:
        owners = self.tracker.owners_in_window()
        LOGGER.warning(
            "State saves of %s owners timed out within %.0f s: %s",
            len(owners),
            FLEET_TIMEOUT_WINDOW_SEC,
            ", ".join(owners),
        )
        self.alerts.async_send_soon(
            "fleet",
            phrase("alert_storage_fleet_title"),
            phrase(
                "alert_storage_fleet_message",
                count=len(owners),
                seconds=f"{FLEET_TIMEOUT_WINDOW_SEC:.0f}",
                owners=", ".join(owners),
            ),
        )

    @callback
    def async_update_health(self, _now: Any = None) -> None:
        """Re-evaluate the repair issues and tell the entities."""
        if self._health_check is not None:
            self._health_check()
            self._health_check = None
        if self.hass.is_stopping or self.hass.state is CoreState.stopped:
            # The final write's saves end after Home Assistant stopped: no timers, no
            # issues then (the next start reads the files anew).
            return
        hung = [store for store in self.stores if store.hung]
        since = None if self.last_timeout is None else time.monotonic() - self.last_timeout
        recent = since is not None and since < STORAGE_ISSUE_WINDOW_SEC
        self._slow = bool(hung) or recent
        if recent and since is not None:
            self._health_check = async_call_later(
                self.hass,
                STORAGE_ISSUE_WINDOW_SEC - since,
                HassJob(self.async_update_health, cancel_on_shutdown=True),
            )
        self._set_issue(
            "storage_slow",
            self._slow,
            {"folder": str(self.folder), "timeouts": str(self.save_timeouts)},
        )
        failing = self.failing
        self._set_issue(
            "storage_failing",
            bool(failing),
            {
                "owners": ", ".join(store.label for store in failing),
                "error": next((store.last_error or "" for store in failing), ""),
                "folder": str(self.folder),
            },
        )
        self._listeners.call()

    @callback
    def _set_issue(self, key: str, active: bool, placeholders: dict[str, str]) -> None:
        async_set_issue(self.hass, f"{key}_{self.entry_id}", key, placeholders if active else None)

    @callback
    def async_shutdown(self) -> None:
        """Stop the health timer and forget the hub's issues (the hub is deleted)."""
        if self._health_check is not None:
            self._health_check()
            self._health_check = None
        for store in self.stores:
            store.retire()
        issue_registry = ir.async_get(self.hass)
        for issue_id, issue in list(issue_registry.issues.items()):
            if issue_id[0] == DOMAIN and self.entry_id in issue.issue_id:
                ir.async_delete_issue(self.hass, DOMAIN, issue.issue_id)


class StateStorage:
    """All hubs' state files; lives as long as Home Assistant runs."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Write with the atomic writer (tests may give a slower one)."""
        self.hass = hass
        self.writer = AtomicFileWriter()
        self._hubs: dict[str, HubStorage] = {}

    @callback
    def for_entry(self, entry_id: str) -> HubStorage:
        """Return the storage of a hub entry."""
        if entry_id not in self._hubs:
            self._hubs[entry_id] = HubStorage(self.hass, self, entry_id)
        return self._hubs[entry_id]

    async def async_flush_all(self) -> None:
        """Home Assistant is stopping: write what is pending, bounded."""
        await asyncio.gather(*(hub.async_flush() for hub in self._hubs.values()))

    async def async_remove_hub(self, entry_id: str) -> None:
        """Delete the state files of a deleted hub entry."""
        if (hub := self._hubs.pop(entry_id, None)) is None:
            hub = HubStorage(self.hass, self, entry_id)
        hub.async_shutdown()
        await self.hass.async_add_executor_job(
            partial(shutil.rmtree, hub.folder, ignore_errors=True)
        )
