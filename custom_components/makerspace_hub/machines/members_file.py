"""The hub's members file in Home Assistant: loaded, watched, reloaded, reported.

The file is read and parsed in the executor (never on the event loop) at setup,
whenever its size or modification time changes (checked every
USERS_FILE_CHECK_INTERVAL) and by the `reload_users` action. Each read is numbered
when it starts and a result older than the one in use is dropped: the newest read
always wins, whichever finishes last.

What a read finds decides the members in use (safety spec, "What unknown means"):
- a valid file replaces them, and the hub re-judges running sessions;
- an invalid file keeps them for as long as it stays invalid (repair issue naming
  the entry at fault);
- a missing or unreadable file keeps the last good members for MEMBERS_FILE_GRACE,
  so an export that deletes and rewrites the file does not end every session
  (repair issue saying until when). If the file is still missing or unreadable
  then (read once more, bounded by GRACE_END_READ_TIMEOUT), there are no members.
  Without a valid file since setup there is nothing to keep: no members.
Every issue clears once a valid file is read.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import os
from pathlib import Path

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, LOGGER
from ..issues import async_set_issue
from ..listeners import Listeners
from .members import Members, MembersFileError, parse_members

USERS_FILE_CHECK_INTERVAL = timedelta(seconds=30)
MEMBERS_FILE_GRACE = timedelta(minutes=10)
# The read at the end of the grace must not keep the members for ever when it hangs
# (a stuck network share): no answer in time counts as unreadable.
GRACE_END_READ_TIMEOUT = timedelta(seconds=10)

MISSING_ISSUE = "users_file_missing"
MISSING_KEPT_ISSUE = "users_file_missing_kept"
UNREADABLE_ISSUE = "users_file_unreadable"
UNREADABLE_KEPT_ISSUE = "users_file_unreadable_kept"
INVALID_ISSUE = "users_file_invalid"
ISSUES = (MISSING_ISSUE, MISSING_KEPT_ISSUE, UNREADABLE_ISSUE, UNREADABLE_KEPT_ISSUE, INVALID_ISSUE)
# The errors a read raises (translated exceptions), one per kind of failure.
MISSING_ERROR = "users_file_missing"
UNREADABLE_ERROR = "users_file_unreadable"
INVALID_ERROR = "users_file_invalid"

type Signature = tuple[int, int] | None
type Failure = tuple[str, dict[str, str]]  # an error's translation key and placeholders


@dataclass(frozen=True, slots=True)
class FileRead:
    """What one read found: the members, or why there are none (all None: missing)."""

    signature: Signature
    members: Members | None = None
    invalid: MembersFileError | None = None
    unreadable: OSError | None = None


def _read(path: Path) -> FileRead:
    """Read and parse the file (in the executor: a large export takes a while)."""
    try:
        stat = path.stat()
        raw = path.read_bytes()
    except FileNotFoundError:
        return FileRead(None)
    except OSError as err:  # a folder, a symlink loop, a folder in the path replaced by a file...
        return FileRead(_signature(path), unreadable=err)
    signature = (stat.st_mtime_ns, stat.st_size)
    try:
        return FileRead(signature, members=parse_members(raw))
    except MembersFileError as err:
        return FileRead(signature, invalid=err)


def _signature(path: Path) -> Signature:
    """Return what tells a change: (mtime, size), (-1, errno) if unreadable, None if missing."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        return -1, err.errno or 0
    return stat.st_mtime_ns, stat.st_size


class MembersFile:
    """One hub's members file."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        path: Path,
        on_change: Callable[[Members], None],
    ) -> None:
        """Watch `path`; call `on_change` with the new members after each change."""
        self.hass = hass
        self.entry_id = entry_id
        self.path = path
        self.members = Members.empty()
        self.loaded_at: datetime | None = None
        self.problem: str | None = None
        self._on_change = on_change
        self._signature: Signature = None
        self._checking = False
        self._listeners: Listeners[()] = Listeners()
        self._reads_started = 0
        self._read_applied = 0
        self._last_result: dict[str, int] | Failure = {"removed": 0, "updated": 0, "added": 0}
        # The members in use came from a valid file and may be kept through a grace.
        self._have_last_good = False
        self._grace_until: datetime | None = None
        self._grace_over = False
        self._cancel_grace_timer: CALLBACK_TYPE | None = None
        self._grace_end: asyncio.Task[None] | None = None
        self._stopped = False

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` when the members change; return the remover."""
        return self._listeners.add(listener)

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Check the file for changes periodically; return the stopper (of the grace too)."""
        stop_checks = async_track_time_interval(
            self.hass, self._async_check, USERS_FILE_CHECK_INTERVAL, cancel_on_shutdown=True
        )

        @callback
        def stop() -> None:
            self._stopped = True
            stop_checks()
            self._async_end_grace()
            if self._grace_end is not None:
                self._grace_end.cancel()

        return stop

    async def _async_check(self, _now: datetime) -> None:
        if self._checking:
            return  # a previous check still waits on the disk
        self._checking = True
        try:
            signature = await self.hass.async_add_executor_job(_signature, self.path)
            if signature != self._signature:
                await self.async_load()
        except (HomeAssistantError, OSError) as err:
            LOGGER.debug("Checking the members file %s failed: %s", self.path, err)
        finally:
            self._checking = False

    async def async_load(self) -> dict[str, int]:
        """Read the file now; return how many members were removed/updated/added.

        Raises a translated HomeAssistantError when the file is missing, unreadable
        or invalid. When a newer read was applied while this one waited on the disk,
        this one is dropped and the newer one's outcome is returned (or raised).
        """
        self._reads_started += 1
        sequence = self._reads_started
        read = await self.hass.async_add_executor_job(_read, self.path)
        if sequence < self._read_applied:
            LOGGER.debug("A newer read of the members file %s is in use", self.path)
        else:
            self._read_applied = sequence
            self._last_result = self._apply(read)
        if isinstance(self._last_result, dict):
            return dict(self._last_result)
        raise self._error(*self._last_result)

    @callback
    def _apply(self, read: FileRead) -> dict[str, int] | Failure:
        """Make one read's outcome the one in use; return its changes or its failure."""
        self._signature = read.signature
        if read.members is not None:
            self._async_end_grace()
            self._have_last_good = True
            changes = self.members.diff(read.members)
            self.loaded_at = dt_util.utcnow()
            LOGGER.info(
                "Loaded %s members with %s fobs from %s",
                len(read.members),
                read.members.fob_count,
                self.path,
            )
            self._set_problem(None, {})
            self._replace(read.members)
            return changes
        if read.invalid is not None:
            self._async_end_grace()  # an invalid file keeps the members in use, as it did
            placeholders = {"problem": read.invalid.problem, "entry": read.invalid.entry or "-"}
            LOGGER.error("The members file %s is not valid: %s", self.path, read.invalid)
            self._set_problem(INVALID_ISSUE, placeholders)
            return INVALID_ERROR, placeholders
        if read.unreadable is not None:
            problem = read.unreadable.strerror or str(read.unreadable)
            LOGGER.error("The members file %s cannot be read: %s", self.path, read.unreadable)
            self._fail(UNREADABLE_ISSUE, UNREADABLE_KEPT_ISSUE, {"problem": problem})
            return UNREADABLE_ERROR, {"problem": problem}
        LOGGER.warning("The members file %s does not exist", self.path)
        self._fail(MISSING_ISSUE, MISSING_KEPT_ISSUE, {})
        return MISSING_ERROR, {}

    @callback
    def _fail(self, issue: str, kept_issue: str, placeholders: dict[str, str]) -> None:
        """Keep the last good members within their grace; after it, no members."""
        if not self._have_last_good:
            self._set_problem(issue, placeholders)
            return
        if self._grace_over:
            self._async_expire(issue, placeholders)
            return
        if self._grace_until is None:
            self._grace_until = dt_util.utcnow() + MEMBERS_FILE_GRACE
            if not self._stopped:
                self._cancel_grace_timer = async_call_later(
                    self.hass,
                    MEMBERS_FILE_GRACE,
                    HassJob(self._async_grace_timer, cancel_on_shutdown=True),
                )
        until = dt_util.as_local(self._grace_until).strftime("%H:%M:%S")
        LOGGER.warning(
            "The members loaded from %s stay in use until %s; then there are none", self.path, until
        )
        self._set_problem(kept_issue, {**placeholders, "until": until})

    @callback
    def _async_grace_timer(self, _now: datetime) -> None:
        self._cancel_grace_timer = None
        self._grace_over = True
        self._grace_end = self.hass.async_create_background_task(
            self._async_read_at_grace_end(), f"{DOMAIN} members file grace end"
        )

    async def _async_read_at_grace_end(self) -> None:
        """Look once more: a file back just now keeps the sessions running."""
        try:
            async with asyncio.timeout(GRACE_END_READ_TIMEOUT.total_seconds()):
                await self.async_load()
        except TimeoutError:
            if self._grace_over:  # no newer read brought the file back meanwhile
                problem = f"reading it took longer than {GRACE_END_READ_TIMEOUT.seconds} seconds"
                LOGGER.error("The members file %s cannot be read: %s", self.path, problem)
                self._async_expire(UNREADABLE_ISSUE, {"problem": problem})
        except HomeAssistantError:
            pass  # the read reported it and did what it calls for

    @callback
    def _async_expire(self, issue: str, placeholders: dict[str, str]) -> None:
        LOGGER.warning(
            "The members file %s is still missing or unreadable after %s: no members",
            self.path,
            MEMBERS_FILE_GRACE,
        )
        self._async_end_grace()
        self._have_last_good = False
        self._set_problem(issue, placeholders)
        self._replace(Members.empty())

    @callback
    def _async_end_grace(self) -> None:
        if self._cancel_grace_timer is not None:
            self._cancel_grace_timer()
            self._cancel_grace_timer = None
        self._grace_until = None
        self._grace_over = False

    @callback
    def _replace(self, members: Members) -> None:
        self.members = members
        self._on_change(members)
        self._listeners.call()

    def _error(self, key: str, placeholders: dict[str, str]) -> HomeAssistantError:
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={"path": str(self.path), **placeholders},
        )

    @callback
    def _set_problem(self, key: str | None, placeholders: dict[str, str]) -> None:
        self.problem = key
        for issue in ISSUES:
            async_set_issue(
                self.hass,
                f"{issue}_{self.entry_id}",
                issue,
                {"path": str(self.path), **placeholders} if issue == key else None,
            )
        self._listeners.call()
