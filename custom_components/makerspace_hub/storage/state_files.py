"""State files on disk and the fleet-wide save-timeout tracker (persistence spec).

Pure Python, no Home Assistant imports, and blocking: every function here that
touches the disk runs in a worker thread, never on the event loop. `owner_store`
decides when to call them and bounds how long it waits.

A state file is JSON: `{"version", "minor_version", "kind", "name", "saved_at",
"save_timeouts", "data"}`. Writes are atomic (temp file, fsync, rename, fsync of the
folder) under a `filelock` lock file beside the state file, so no process ever sees
half a file. A file that cannot be used is moved aside, never deleted; only the
file of a removed owner is.
"""

from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import tempfile
import time
from typing import Any

from filelock import FileLock

STATE_SAVE_TIMEOUT_SEC = 2.0
FLEET_TIMEOUT_WINDOW_SEC = 60.0
FLEET_TIMEOUT_THRESHOLD = 2
FLEET_TIMEOUT_COOLDOWN_SEC = 300.0

STATE_FILE_VERSION = 1
STATE_FILE_MINOR_VERSION = 1
# A second process holding the lock longer than this is treated as a failed save.
LOCK_TIMEOUT_SEC = 30.0


class StateFileError(Exception):
    """A state file exists but cannot be used."""


class NewerStateFileError(StateFileError):
    """A state file written by a newer, incompatible release."""

    def __init__(self, version: object) -> None:
        """Remember the version found."""
        super().__init__(f"written by a newer release (format version {version})")
        self.version = version


def lock_path(path: Path) -> Path:
    """Return the lock file guarding a state file."""
    return path.with_name(path.name + ".lock")


def encode_state(kind: str, name: str, data: dict[str, Any], save_timeouts: int) -> bytes:
    """Return the bytes of a state file."""
    document = {
        "version": STATE_FILE_VERSION,
        "minor_version": STATE_FILE_MINOR_VERSION,
        "kind": kind,
        "name": name,
        "saved_at": datetime.now(UTC).isoformat(),
        "save_timeouts": save_timeouts,
        "data": data,
    }
    return json.dumps(document, indent=1, sort_keys=True, allow_nan=False).encode()


def decode_state(raw: bytes) -> tuple[dict[str, Any], int]:
    """Return (data, save_timeouts) of a state file; raise StateFileError if unusable.

    A newer minor version is read (unknown keys are ignored by the owners); a newer
    major version is not.
    """
    try:
        document = json.loads(raw)
    except ValueError as err:
        raise StateFileError(f"not valid JSON: {err}") from err
    if not isinstance(document, dict):
        raise StateFileError("not a JSON object")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise StateFileError("no format version")
    if version > STATE_FILE_VERSION:
        raise NewerStateFileError(version)
    data = document.get("data")
    timeouts = document.get("save_timeouts", 0)
    if not isinstance(data, dict):
        raise StateFileError("no state data")
    if not isinstance(timeouts, int) or isinstance(timeouts, bool) or timeouts < 0:
        raise StateFileError("invalid save_timeouts")
    return data, timeouts


def set_aside_path(path: Path, reason: str, now: datetime) -> Path:
    """Return where an unusable file is moved: `<name>.json.<reason>-<UTC time>`."""
    return path.with_name(f"{path.name}.{reason}-{now.strftime('%Y%m%dT%H%M%SZ')}")


@dataclass(frozen=True, slots=True)
class LoadedState:
    """What reading a state file found."""

    data: dict[str, Any] | None = None  # None: start from defaults
    save_timeouts: int = 0
    problem: str | None = None  # why the file could not be used
    set_aside: Path | None = None  # where the unusable file went
    writable: bool = True  # False: the unusable file is still in place; never overwrite it


def read_state_file(path: Path) -> LoadedState:
    """Read a state file; move an unusable one aside. Blocking."""
    # No lock: writers replace the file atomically, so a reader sees a whole file,
    # and a lock cannot be taken on a read-only folder or while another process
    # holds it - neither may cost a valid file.
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return LoadedState()
    except OSError as err:
        return _set_aside(path, f"unreadable: {err}", "corrupt")
    try:
        data, timeouts = decode_state(raw)
    except NewerStateFileError as err:
        return _set_aside(path, str(err), f"v{err.version}")
    except StateFileError as err:
        return _set_aside(path, str(err), "corrupt")
    return LoadedState(data=data, save_timeouts=timeouts)


def _set_aside(path: Path, problem: str, reason: str) -> LoadedState:
    target = set_aside_path(path, reason, datetime.now(UTC))
    try:
        path.replace(target)
    except OSError:
        return LoadedState(problem=problem, writable=False)
    return LoadedState(problem=problem, set_aside=target)


def set_aside_invalid(path: Path) -> Path | None:
    """Move aside a file whose data the owner rejected. Blocking."""
    target = set_aside_path(path, "corrupt", datetime.now(UTC))
    try:
        path.replace(target)
    except OSError:
        return None
    return target


def delete_state_file(path: Path) -> None:
    """Delete a state file and its lock file. Blocking."""
    for stale in (path, lock_path(path)):
        with suppress(FileNotFoundError):
            stale.unlink()


class AtomicFileWriter:
    """Writes a file so that readers see the old or the new content, never half of it.

    This is the one place where makerspace_hub writes state to disk.
    """

    def write(self, path: Path, data: bytes) -> None:
        """Replace the content of `path` with `data`. Blocking."""
        folder = path.parent
        folder.mkdir(parents=True, exist_ok=True)
        with FileLock(lock_path(path), timeout=LOCK_TIMEOUT_SEC):
            handle, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as temp:
                    temp.write(data)
                    temp.flush()
                    os.fsync(temp.fileno())
                os.replace(temp_name, path)
            except BaseException:
                with suppress(OSError):
                    os.unlink(temp_name)
                raise
            _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not every filesystem supports it.
    with suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


class FleetTimeoutTracker:
    """Notice when the disk itself is slow: timeouts of several owners at once.

    The per-owner alert fires on an owner's 2nd timeout. When the disk hangs, every
    owner hits its FIRST timeout at the same moment and no per-owner alert fires;
    this tracker catches that: `record` returns the number of distinct owners when
    at least `threshold` distinct owners timed out within `window_sec`, at most
    once per `cooldown_sec`.
    """

    def __init__(
        self,
        window_sec: float = FLEET_TIMEOUT_WINDOW_SEC,
        threshold: int = FLEET_TIMEOUT_THRESHOLD,
        cooldown_sec: float = FLEET_TIMEOUT_COOLDOWN_SEC,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Track with these limits, on this monotonic clock."""
        self.window_sec = window_sec
        self.threshold = threshold
        self.cooldown_sec = cooldown_sec
        # Looked up at each call (not bound once) so tests can move the clock.
        self._clock = clock or (lambda: time.monotonic())  # noqa: PLW0108
        self._events: deque[tuple[str, float]] = deque()
        self._last_alert: float | None = None

    def record(self, owner: str) -> int | None:
        """Record a timeout; return the distinct owners in the window if an alert is due."""
        now = self._clock()
        while self._events and self._events[0][1] < now - self.window_sec:
            self._events.popleft()
        self._events.append((owner, now))
        distinct = len({name for name, _ in self._events})
        if distinct < self.threshold:
            return None
        if self._last_alert is not None and now - self._last_alert < self.cooldown_sec:
            return None
        self._last_alert = now
        return distinct

    def owners_in_window(self) -> list[str]:
        """Return the owners that timed out within the window, oldest first."""
        since = self._clock() - self.window_sec
        return list(dict.fromkeys(name for name, at in self._events if at >= since))
