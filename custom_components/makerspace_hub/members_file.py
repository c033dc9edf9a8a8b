"""The hub's members file in Home Assistant: loaded, watched, reloaded, reported.

The file is read in the executor (never on the event loop; one read at a time) at
setup, whenever its size or modification time changes (checked every
USERS_FILE_CHECK_INTERVAL) and by the `reload_users` action. A valid file replaces
the members and the hub re-checks running sessions; an invalid one keeps the
members in use and raises a repair issue naming the entry at fault, which clears
once the file is fixed. A missing file means no members.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
import os
from pathlib import Path

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .issues import async_set_issue
from .members import Members, MembersFileError, parse_members

USERS_FILE_CHECK_INTERVAL = timedelta(seconds=30)
MISSING_ISSUE = "users_file_missing"
INVALID_ISSUE = "users_file_invalid"

type Signature = tuple[int, int] | None


def _read(path: Path) -> tuple[Signature, bytes | None]:
    """Return the file's (mtime, size) and content; (None, None) when missing."""
    try:
        stat = path.stat()
        return (stat.st_mtime_ns, stat.st_size), path.read_bytes()
    except FileNotFoundError:
        return None, None


def _signature(path: Path) -> Signature:
    """Return what tells a change: (mtime, size), (-1, errno) if unreadable, None if missing."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as err:  # a symlink loop, a folder in the path replaced by a file...
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
        self._listeners: list[CALLBACK_TYPE] = []

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` when the members change; return the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Check the file for changes periodically; return the stopper."""
        return async_track_time_interval(
            self.hass, self._async_check, USERS_FILE_CHECK_INTERVAL, cancel_on_shutdown=True
        )

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

        Raises a translated HomeAssistantError when the file is missing or invalid
        (the members in use stay).
        """
        try:
            signature, raw = await self.hass.async_add_executor_job(_read, self.path)
        except OSError as err:
            # Reported once per change of what the check sees, like an invalid file.
            self._signature = await self.hass.async_add_executor_job(_signature, self.path)
            placeholders = {"problem": err.strerror or str(err), "entry": "-"}
            LOGGER.error("The members file %s cannot be read: %s", self.path, err)
            self._set_problem(INVALID_ISSUE, placeholders)
            raise self._error(INVALID_ISSUE, placeholders) from err
        self._signature = signature
        if raw is None:
            LOGGER.warning("The members file %s does not exist: no members", self.path)
            self._set_problem(MISSING_ISSUE, {})
            if len(self.members):  # a missing file means no members (users-file spec)
                self._replace(Members.empty())
            raise self._error(MISSING_ISSUE, {})
        try:
            members = parse_members(raw)
        except MembersFileError as err:
            placeholders = {"problem": err.problem, "entry": err.entry or "-"}
            LOGGER.error("The members file %s is not valid: %s", self.path, err)
            self._set_problem(INVALID_ISSUE, placeholders)
            raise self._error(INVALID_ISSUE, placeholders) from err
        self._set_problem(None, {})
        changes = self.members.diff(members)
        self.loaded_at = dt_util.utcnow()
        LOGGER.info(
            "Loaded %s members with %s fobs from %s", len(members), members.fob_count, self.path
        )
        self._replace(members)
        return changes

    @callback
    def _replace(self, members: Members) -> None:
        self.members = members
        self._on_change(members)
        for listener in list(self._listeners):
            listener()

    def _error(self, key: str, placeholders: dict[str, str]) -> HomeAssistantError:
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={"path": str(self.path), **placeholders},
        )

    @callback
    def _set_problem(self, key: str | None, placeholders: dict[str, str]) -> None:
        self.problem = key
        for issue in (MISSING_ISSUE, INVALID_ISSUE):
            async_set_issue(
                self.hass,
                f"{issue}_{self.entry_id}",
                issue,
                {"path": str(self.path), **placeholders} if issue == key else None,
            )
        for listener in list(self._listeners):
            listener()
