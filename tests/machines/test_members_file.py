"""The members file: loading, validation, watching, reloading, re-checking sessions."""

import asyncio
from collections.abc import Generator
import contextlib
from datetime import date, timedelta
import errno
import json
import os
from pathlib import Path
import time
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.machines.members import MembersFileError, parse_members
from custom_components.makerspace_hub.machines.members_file import (
    GRACE_END_READ_TIMEOUT,
    INVALID_ERROR,
    ISSUES,
    MEMBERS_FILE_GRACE,
    MISSING_ERROR,
    UNREADABLE_ERROR,
)

from ..conftest import TRANSLATIONS, setup_hub
from ..makerspace import (
    ADA,
    KENNETH,
    RITA,
    Board,
    machine_of,
    makerspace_entry,
    members,
    write_members,
)


def _issue(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{key}_{entry.entry_id}")


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = 31) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    # Periodic checks run as background tasks.
    await hass.async_block_till_done(wait_background_tasks=True)


def _touch(path: Path, data: Any) -> None:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    stat = path.stat()  # a new mtime even within the same clock tick
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


async def test_a_missing_file_means_no_members_and_says_where(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = await setup_hub(hass, makerspace_entry())
    client = await hass_client_no_auth()
    issue = _issue(hass, entry, "users_file_missing")
    assert issue is not None
    assert issue.translation_placeholders["path"] == str(
        config_dir / "makerspace_hub" / "users.json"
    )
    assert (await Board(client, "metal-mill").post(ADA))["display"] == "Unknown RFID"

    # The file appears: picked up within 30 s, the issue goes away.
    write_members(config_dir, members(dt_util.now().date()))
    await _tick(hass, freezer)
    assert _issue(hass, entry, "users_file_missing") is None
    assert len(entry.runtime_data.members_file.members) == 6


async def test_an_invalid_file_keeps_the_members_and_names_the_entry(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    today = dt_util.now().date()
    path = write_members(config_dir, members(today))
    entry = await setup_hub(hass, makerspace_entry())
    client = await hass_client_no_auth()
    board = Board(client, "metal-mill")

    broken = members(today)
    broken[1]["fob_codes"] = ["0012345678"]  # Kenneth gets Ada's fob
    _touch(path, broken)
    await _tick(hass, freezer)
    issue = _issue(hass, entry, "users_file_invalid")
    assert issue is not None
    assert issue.translation_placeholders["entry"] == "entry 2 (account 2)"
    assert "also belongs to account 1" in issue.translation_placeholders["problem"]
    assert "0012345678" not in str(issue.translation_placeholders)  # never a fob in full
    assert (await board.post(ADA))["display"] == "Welcome,\nAda"  # old members still in use

    _touch(path, members(today))
    await _tick(hass, freezer)
    assert _issue(hass, entry, "users_file_invalid") is None


async def test_a_reload_logs_out_removed_expired_and_deauthorized_members(
    hass: HomeAssistant, config_dir: Path, hass_client_no_auth: ClientSessionGenerator
) -> None:
    today = dt_util.now().date()
    path = write_members(config_dir, members(today))
    entry = await setup_hub(hass, makerspace_entry())
    client = await hass_client_no_auth()
    mill, hammer, compressor = (
        Board(client, name) for name in ("metal-mill", "hammer", "compressor")
    )
    assert (await mill.post(ADA))["relay"] is True
    assert (await hammer.post(KENNETH))["relay"] is True
    machine_of(entry, "saw").async_set_flags(oopsed=True)
    saw = Board(client, "saw")
    assert (await saw.post(RITA))["relay"] is True  # override
    await compressor.post(ADA)  # tracked on the always-on machine

    changed = members(today)
    changed[0]["expiration_ymd"] = "2001-01-01"  # Ada expired
    changed[1]["authorizations"] = []  # Kenneth de-authorized (hammer is warn-only: stays)
    changed[2]["oops_override"] = False  # Rita may no longer override
    _touch(path, changed)
    await hass.services.async_call(DOMAIN, "reload_users", {}, blocking=True)

    assert (await mill.post(ADA))["relay"] is False
    assert (await hammer.post(KENNETH))["display"] == "Welcome,\nKenneth"
    assert machine_of(entry, "hammer").state.session.kind == "warn_only"
    assert (await saw.post(RITA))["relay"] is False
    assert machine_of(entry, "compressor").state.session is None

    _touch(path, [m for m in changed if m["account_id"] != "2"])  # Kenneth left
    await hass.services.async_call(DOMAIN, "reload_users", {}, blocking=True)
    assert (await hammer.post(KENNETH))["relay"] is False


async def test_memberships_expire_at_midnight_during_a_session(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    today = dt_util.now().date()
    data = members(today)
    data[0]["expiration_ymd"] = str(today - timedelta(days=7))  # the last day of grace
    write_members(config_dir, data)
    entry = await setup_hub(hass, makerspace_entry())
    client = await hass_client_no_auth()
    board = Board(client, "metal-mill")
    assert (await board.post(ADA))["relay"] is True
    next_midnight = dt_util.start_of_local_day(dt_util.now() + timedelta(days=1))
    freezer.move_to(next_midnight + timedelta(seconds=6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    mill = machine_of(entry, "metal-mill")
    assert mill.state.session is None
    assert mill.reply.relay is False


# A file that blips: the grace of the last good members ---------------------------------


class ClockedBoard(Board):
    """A board whose uptime follows Home Assistant's (frozen) clock, as a real one's does."""

    def __init__(self, client: TestClient, name: str) -> None:
        """Booted 10 s ago."""
        super().__init__(client, name)
        self.booted = dt_util.utcnow() - timedelta(seconds=10)

    async def post(
        self, rfid: str = "", *, oops: bool = False, uptime: float | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Post with the uptime the clock says."""
        uptime = (dt_util.utcnow() - self.booted).total_seconds() if uptime is None else uptime
        return await super().post(rfid, oops=oops, uptime=uptime, **extra)


def _until_in(grace_left: timedelta = MEMBERS_FILE_GRACE) -> str:
    return dt_util.as_local(dt_util.utcnow() + grace_left).strftime("%H:%M:%S")


def _only_issue(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> dict[str, str]:
    """Return the placeholders of the one members-file issue raised, checking its texts."""
    raised = [issue for issue in ISSUES if _issue(hass, entry, issue) is not None]
    assert raised == [key]
    issue = _issue(hass, entry, key)
    assert issue is not None
    placeholders = dict(issue.translation_placeholders or {})
    texts = TRANSLATIONS["issues"][key]
    texts["title"].format(**placeholders)  # every placeholder of the texts is given
    texts["description"].format(**placeholders)
    return placeholders


async def _reload_error(hass: HomeAssistant) -> HomeAssistantError:
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(DOMAIN, "reload_users", {}, blocking=True)
    assert err.value.translation_key is not None
    TRANSLATIONS["exceptions"][err.value.translation_key]["message"].format(
        **(err.value.translation_placeholders or {})
    )
    return err.value


@pytest.fixture
async def mill(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> ClockedBoard:
    """Start the test makerspace with its members file; Ada runs the metal mill."""
    write_members(config_dir, members(dt_util.now().date()))
    await setup_hub(hass, makerspace_entry())
    board = ClockedBoard(await hass_client_no_auth(), "metal-mill")
    assert (await board.post(ADA))["relay"] is True
    return board


def _hub(hass: HomeAssistant) -> MockConfigEntry:
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert isinstance(entry, MockConfigEntry)
    return entry


async def test_a_file_rewritten_within_the_grace_keeps_the_session_running(
    hass: HomeAssistant, config_dir: Path, freezer: FrozenDateTimeFactory, mill: ClockedBoard
) -> None:
    entry = _hub(hass)
    path = config_dir / "makerspace_hub" / "users.json"
    path.unlink()  # an export deletes the file...
    await _tick(hass, freezer)
    kept = _only_issue(hass, entry, "users_file_missing_kept")
    assert kept == {"path": str(path), "until": _until_in()}
    error = await _reload_error(hass)  # the action says so, and keeps the members too
    assert error.translation_key == "users_file_missing"
    assert len(entry.runtime_data.members_file.members) == 6
    assert entry.runtime_data.members_file.problem == "users_file_missing_kept"

    await _tick(hass, freezer, 9 * 60)
    assert (await mill.post(ADA))["relay"] is True  # nine minutes later, still cutting

    changed = members(dt_util.now().date())
    del changed[1]  # Kenneth left meanwhile
    write_members(config_dir, changed)  # ...and writes it again
    await _tick(hass, freezer)
    assert not [issue for issue in ISSUES if _issue(hass, entry, issue) is not None]
    assert entry.runtime_data.members_file.problem is None
    assert len(entry.runtime_data.members_file.members) == 5

    await _tick(hass, freezer, 5 * 60)  # past the end of the grace that was running
    assert len(entry.runtime_data.members_file.members) == 5
    assert (await mill.post(ADA))["relay"] is True
    assert machine_of(entry, "metal-mill").state.session is not None


async def test_a_file_still_missing_after_the_grace_ends_the_session(
    hass: HomeAssistant, config_dir: Path, freezer: FrozenDateTimeFactory, mill: ClockedBoard
) -> None:
    entry = _hub(hass)
    path = config_dir / "makerspace_hub" / "users.json"
    path.unlink()
    await _tick(hass, freezer)
    await _tick(hass, freezer, 9 * 60 + 59)  # one second of grace left
    assert (await mill.post(ADA))["relay"] is True
    assert _only_issue(hass, entry, "users_file_missing_kept")

    await _tick(hass, freezer, 1)
    assert len(entry.runtime_data.members_file.members) == 0
    assert _only_issue(hass, entry, "users_file_missing") == {"path": str(path)}
    assert machine_of(entry, "metal-mill").state.session is None
    assert (await mill.post(ADA))["relay"] is False
    assert (await _reload_error(hass)).translation_key == "users_file_missing"

    write_members(config_dir, members(dt_util.now().date()))  # back, long after
    await _tick(hass, freezer)
    assert not [issue for issue in ISSUES if _issue(hass, entry, issue) is not None]
    assert (await mill.post(ADA))["relay"] is False  # the session ended for good
    await mill.post("")  # Ada takes her fob out and in again
    assert (await mill.post(ADA))["relay"] is True


def _make_unreadable(path: Path, how: str) -> None:
    path.unlink()
    if how == "folder":
        path.mkdir()
    else:
        path.symlink_to(path)


@pytest.mark.parametrize(("how", "problem"), [("folder", "Is a directory"), ("loop", "symbolic")])
async def test_an_unreadable_file_gets_the_same_grace(
    hass: HomeAssistant,
    config_dir: Path,
    freezer: FrozenDateTimeFactory,
    mill: ClockedBoard,
    how: str,
    problem: str,
) -> None:
    entry = _hub(hass)
    path = config_dir / "makerspace_hub" / "users.json"
    _make_unreadable(path, how)
    await _tick(hass, freezer)
    kept = _only_issue(hass, entry, "users_file_unreadable_kept")
    assert problem in kept["problem"]
    assert kept["until"] == _until_in()
    error = await _reload_error(hass)
    assert error.translation_key == "users_file_unreadable"
    assert problem in (error.translation_placeholders or {})["problem"]
    await _tick(hass, freezer, 9 * 60)
    assert (await mill.post(ADA))["relay"] is True

    await _tick(hass, freezer, 60)
    assert len(entry.runtime_data.members_file.members) == 0
    assert problem in _only_issue(hass, entry, "users_file_unreadable")["problem"]
    assert (await mill.post(ADA))["relay"] is False


async def test_a_file_missing_then_unreadable_keeps_one_grace(
    hass: HomeAssistant, config_dir: Path, freezer: FrozenDateTimeFactory, mill: ClockedBoard
) -> None:
    entry = _hub(hass)
    path = config_dir / "makerspace_hub" / "users.json"
    path.unlink()
    await _tick(hass, freezer)
    until = _until_in()
    await _tick(hass, freezer, 5 * 60)
    path.mkdir()  # every change of what is wrong must not start the grace again
    await _tick(hass, freezer)
    assert _only_issue(hass, entry, "users_file_unreadable_kept")["until"] == until
    await _tick(hass, freezer, 5 * 60)
    assert len(entry.runtime_data.members_file.members) == 0
    assert (await mill.post(ADA))["relay"] is False


async def test_an_invalid_file_after_a_missing_one_keeps_the_members(
    hass: HomeAssistant, config_dir: Path, freezer: FrozenDateTimeFactory, mill: ClockedBoard
) -> None:
    entry = _hub(hass)
    path = config_dir / "makerspace_hub" / "users.json"
    path.unlink()
    await _tick(hass, freezer)
    write_members(config_dir, "[{")  # the export is back, half written
    await _tick(hass, freezer)
    assert "not valid JSON" in _only_issue(hass, entry, "users_file_invalid")["problem"]
    await _tick(hass, freezer, 20 * 60)  # an invalid file keeps them as long as it stays
    assert len(entry.runtime_data.members_file.members) == 6
    assert (await mill.post(ADA))["relay"] is True


@pytest.mark.parametrize(
    ("how", "issue"), [("missing", "users_file_missing"), ("folder", "users_file_unreadable")]
)
async def test_at_startup_without_a_readable_file_there_are_no_members(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    how: str,
    issue: str,
) -> None:
    if how == "folder":
        (config_dir / "makerspace_hub" / "users.json").mkdir(parents=True)
    entry = await setup_hub(hass, makerspace_entry())
    mill = ClockedBoard(await hass_client_no_auth(), "metal-mill")
    assert len(entry.runtime_data.members_file.members) == 0
    assert "until" not in _only_issue(hass, entry, issue)  # no last good members to keep
    assert (await mill.post(ADA))["display"] == "Unknown RFID"
    await _tick(hass, freezer, 11 * 60)
    _only_issue(hass, entry, issue)


async def test_unloading_the_hub_ends_the_grace_timer(
    hass: HomeAssistant, config_dir: Path, freezer: FrozenDateTimeFactory, mill: ClockedBoard
) -> None:
    entry = _hub(hass)
    (config_dir / "makerspace_hub" / "users.json").unlink()
    await _tick(hass, freezer)
    members_file = entry.runtime_data.members_file
    assert await hass.config_entries.async_unload(entry.entry_id)
    await _tick(hass, freezer, 11 * 60)
    assert len(members_file.members) == 6  # nobody read the file for the unloaded hub
    assert _issue(hass, entry, "users_file_missing") is None


# Reads that overlap or hang: a named pipe stands in for the file ---------------------


class Pipe:
    """A FIFO: a read of it waits, in its executor thread, until the test writes."""

    def __init__(self, path: Path) -> None:
        """Make the FIFO."""
        os.mkfifo(path)
        self.path = path
        self._writer: int | None = None

    def wait_for_reader(self) -> None:
        """Block (in the executor) until a read has opened the pipe; keep it waiting."""
        for _ in range(1000):  # real time: the clock is frozen
            try:
                self._writer = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as err:
                if err.errno != errno.ENXIO:  # ENXIO: nobody reads yet
                    raise
                time.sleep(0.01)
            else:
                return
        raise AssertionError("nobody read the pipe")

    def release(self, data: bytes = b"") -> None:
        """Give what waits `data`, then the end of the file; let later readers go too."""
        if self._writer is not None:
            os.set_blocking(self._writer, True)
            os.write(self._writer, data)
            os.close(self._writer)
            self._writer = None
        with contextlib.suppress(OSError):  # a reader still waiting to open gets nothing
            os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))


@pytest.fixture
def pipe(config_dir: Path) -> Generator[Pipe]:
    """A FIFO beside the members file; nothing hangs on it after the test."""
    folder = config_dir / "makerspace_hub"
    folder.mkdir(exist_ok=True)
    pipe = Pipe(folder / "export.fifo")
    yield pipe
    target = folder / "users.json"
    if target.is_symlink():  # later reads must find a file, not the pipe
        target.unlink()
    pipe.release()


def _replace(path: Path, data: Any) -> None:
    """Swap in a new file at once (as an export's rename does)."""
    new = path.with_name("users.json.new")
    new.write_text(json.dumps(data))
    os.replace(new, path)


@pytest.mark.parametrize("older", ["check", "action"])
async def test_the_newest_read_wins_over_an_older_slower_one(
    hass: HomeAssistant,
    config_dir: Path,
    freezer: FrozenDateTimeFactory,
    mill: ClockedBoard,
    pipe: Pipe,
    older: str,
) -> None:
    entry = _hub(hass)
    path = config_dir / "makerspace_hub" / "users.json"
    today = dt_util.now().date()
    old = members(today)
    path.unlink()
    path.symlink_to(pipe.path)  # the older read will wait on the pipe
    if older == "check":
        freezer.tick(timedelta(seconds=31))
        async_fire_time_changed(hass)
        slow: asyncio.Future[Any] | None = None
    else:
        slow = asyncio.ensure_future(
            hass.services.async_call(
                DOMAIN, "reload_users", {}, blocking=True, return_response=True
            )
        )
    await hass.async_add_executor_job(pipe.wait_for_reader)

    newer = [m for m in old if m["account_id"] != "2"]  # Kenneth left
    _replace(path, newer)
    response = await hass.services.async_call(
        DOMAIN, "reload_users", {}, blocking=True, return_response=True
    )
    assert response == {"removed": 1, "updated": 0, "added": 0}
    await hass.async_add_executor_job(pipe.release, json.dumps(old).encode())
    if slow is not None:
        assert await slow == response  # the caller of the older read hears the newer one
    await hass.async_block_till_done(wait_background_tasks=True)

    assert len(entry.runtime_data.members_file.members) == 5
    assert (await Board(mill.client, "hammer").post(KENNETH))["display"] == "Unknown RFID"
    await _tick(hass, freezer)  # and the next check does not read the old one again
    assert len(entry.runtime_data.members_file.members) == 5


async def test_a_read_that_hangs_at_the_end_of_the_grace_means_no_members(
    hass: HomeAssistant,
    config_dir: Path,
    freezer: FrozenDateTimeFactory,
    mill: ClockedBoard,
    pipe: Pipe,
) -> None:
    entry = _hub(hass)
    path = config_dir / "makerspace_hub" / "users.json"
    path.unlink()
    await _tick(hass, freezer)
    path.symlink_to(pipe.path)  # from now on every read hangs, like a stuck network share

    async def tick(seconds: float) -> None:
        freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()  # not the reads: they hang

    await tick(9 * 60 + 30)
    await hass.async_add_executor_job(pipe.wait_for_reader)  # the 30 s check hangs
    assert _only_issue(hass, entry, "users_file_missing_kept")
    assert (await mill.post(ADA))["relay"] is True
    await tick(30)  # the grace ends; its read of the file hangs too
    await tick(GRACE_END_READ_TIMEOUT.total_seconds() - 1)
    assert (await mill.post(ADA))["relay"] is True
    await tick(1)
    assert len(entry.runtime_data.members_file.members) == 0
    assert "10 seconds" in _only_issue(hass, entry, "users_file_unreadable")["problem"]
    assert (await mill.post(ADA))["relay"] is False


def test_every_members_file_issue_and_error_is_translated() -> None:
    for issue in ISSUES:
        assert TRANSLATIONS["issues"][issue]["title"]
        assert TRANSLATIONS["issues"][issue]["description"]
    for error in (MISSING_ERROR, UNREADABLE_ERROR, INVALID_ERROR):
        assert TRANSLATIONS["exceptions"][error]["message"]


def _valid() -> list[dict[str, Any]]:
    return members(date(2026, 11, 22))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda m: m.__setitem__(0, "x"), "is not a JSON object"),
        (lambda m: m[0].pop("email"), "email must be a non-empty string"),
        (
            lambda m: m[0].__setitem__("preferred_name", ""),
            "preferred_name must be a non-empty string",
        ),
        (
            lambda m: m[0].__setitem__("fob_codes", "0012345678"),
            "fob_codes must be a list of strings",
        ),
        (lambda m: m[0].__setitem__("fob_codes", ["12345678"]), "not a 10-digit zero-padded code"),
        (
            lambda m: m[0].__setitem__("authorizations", [1]),
            "authorizations must be a list of strings",
        ),
        (
            lambda m: m[0].__setitem__("expiration_ymd", "30/06/2027"),
            "expiration_ymd must be a date",
        ),
        (lambda m: m[0].__setitem__("oops_override", "yes"), "oops_override must be true or false"),
        (lambda m: m[1].__setitem__("account_id", "1"), "account_id appears twice"),
    ],
)
def test_members_file_validation(change: Any, problem: str) -> None:
    data = _valid()
    change(data)
    with pytest.raises(MembersFileError, match=problem):
        parse_members(json.dumps(data).encode())


@pytest.mark.parametrize(("raw", "problem"), [(b"{", "not valid JSON"), (b"{}", "JSON array")])
def test_members_file_shape(raw: bytes, problem: str) -> None:
    with pytest.raises(MembersFileError, match=problem):
        parse_members(raw)


def test_members_file_extra_keys_are_ignored_and_a_member_may_repeat_a_fob() -> None:
    data = _valid()
    data[0]["neon_id"] = 42
    data[0]["fob_codes"] = ["0012345678", "0012345678"]
    parsed = parse_members(json.dumps(data).encode())
    assert parsed.by_fob["0012345678"].account_id == "1"
    assert parsed.authorizations() == ["Dust", "Metal Mill", "Woodshop 101"]
