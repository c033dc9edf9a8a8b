"""Hostile members files: malformed, mistyped, duplicated, huge, deleted or replaced mid-run.

The invariant: a bad file never loses the loaded members nor the live sessions, never
logs a traceback, always raises a repair issue naming the problem (never a digit of a
fob code), and fixing the file clears the issue. A missing or unreadable file is the
one exception the spec makes: it keeps the members for 10 minutes only (the grace and
its end are tested in test_members_file).
"""

from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import date, timedelta
import itertools
import json
import logging
import os
from pathlib import Path
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from hypothesis import given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.machines.members import (
    Members,
    MembersFileError,
    parse_members,
)

from ..conftest import setup_hub
from ..makerspace import ADA, KENNETH, Board, machine_of, makerspace_entry, member, members

MISSING, INVALID = "users_file_missing", "users_file_invalid"
MISSING_KEPT, UNREADABLE_KEPT = "users_file_missing_kept", "users_file_unreadable_kept"
UNREADABLE = "users_file_unreadable"
VALID = members(date(2026, 11, 22))
VALID_RAW = json.dumps(VALID).encode()
FOBS = [fob for entry in VALID for fob in entry["fob_codes"]]
FOB_TAILS = [fob[-4:] for fob in FOBS]
_MTIMES = itertools.count(1)


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Generator[None]:
    """Fail a test that logs a traceback, or an error from anyone but the hub.

    Not counted: aiohttp's access log, which on Python 3.14 cannot read the local
    time zone under a frozen clock (its own "Error in logging", whoever posts).
    """
    yield
    bad = [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.get_records("call")
        if record.name != "aiohttp.access"
        and (
            record.exc_info
            or "Traceback" in record.getMessage()
            or (
                record.levelno >= logging.ERROR
                and record.name != "custom_components.makerspace_hub"
            )
        )
    ]
    assert not bad, bad


def _write(path: Path, data: bytes | str | list[Any]) -> Path:
    """Write the file in place and give it a new mtime, even within one clock tick."""
    if isinstance(data, list):
        data = json.dumps(data)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + next(_MTIMES) * 1_000_000_000))
    return path


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _reload(hass: HomeAssistant) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "reload_users", {}, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


@dataclass
class Space:
    """A running hub with the six test members; Ada runs the metal mill."""

    hass: HomeAssistant
    entry: MockConfigEntry
    path: Path
    mill: Board

    @property
    def loaded(self) -> int:
        return len(self.entry.runtime_data.members_file.members)

    def issue(self, key: str) -> ir.IssueEntry | None:
        return ir.async_get(self.hass).async_get_issue(DOMAIN, f"{key}_{self.entry.entry_id}")

    def invalid(self) -> dict[str, str]:
        """Return the placeholders of the invalid-file issue (asserting it is raised)."""
        issue = self.issue(INVALID)
        assert issue is not None
        assert [
            k for k in (MISSING, MISSING_KEPT, UNREADABLE, UNREADABLE_KEPT) if self.issue(k)
        ] == []
        placeholders = dict(issue.translation_placeholders or {})
        assert placeholders["path"] == str(self.path)
        assert not any(fob in str(placeholders) for fob in FOBS)  # never a fob in full
        return placeholders

    def kept(self, key: str) -> dict[str, str]:
        """Return the placeholders of a missing/unreadable issue within the grace."""
        issue = self.issue(key)
        assert issue is not None
        others = {MISSING, MISSING_KEPT, UNREADABLE, UNREADABLE_KEPT, INVALID} - {key}
        assert [k for k in others if self.issue(k)] == []
        placeholders = dict(issue.translation_placeholders or {})
        assert placeholders["path"] == str(self.path)
        assert placeholders["until"]  # until when the members in use stay
        return placeholders

    async def assert_intact(self) -> None:
        """The six members are still loaded and Ada still runs the mill."""
        assert self.loaded == 6
        assert machine_of(self.entry, "metal-mill").state.session is not None
        assert (await self.mill.post(ADA))["display"] == "Welcome,\nAda"

    async def assert_rejected(self, problem: str, entry: str = "-") -> None:
        """The action refuses the file too, naming the same problem; nothing changes."""
        placeholders = self.invalid()
        assert problem in placeholders["problem"]
        assert placeholders["entry"] == entry
        with pytest.raises(HomeAssistantError) as err:
            await _reload(self.hass)
        assert err.value.translation_key == INVALID
        assert problem in str(err.value.translation_placeholders)
        await self.assert_intact()

    async def assert_fixed(self, freezer: FrozenDateTimeFactory) -> None:
        """Fixing the file is picked up within 30 s and clears the issue."""
        _write(self.path, members(dt_util.now().date()))
        await _tick(self.hass, freezer)
        for key in (MISSING, MISSING_KEPT, UNREADABLE, UNREADABLE_KEPT, INVALID):
            assert self.issue(key) is None
        await self.assert_intact()


@pytest.fixture
async def space(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> Space:
    """Start the hub with a valid file and log Ada in on the metal mill.

    The clock is frozen first: freezing it under a running hub makes every timer due.
    """
    path = config_dir / "makerspace_hub" / "users.json"
    path.parent.mkdir()
    _write(path, members(dt_util.now().date()))
    entry = await setup_hub(hass, makerspace_entry())
    mill = Board(await hass_client_no_auth(), "metal-mill")
    assert (await mill.post(ADA))["relay"] is True
    return Space(hass, entry, path, mill)


# Malformed JSON ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        pytest.param(VALID_RAW[: len(VALID_RAW) // 2], "not valid JSON", id="truncated"),
        pytest.param(VALID_RAW[:-1] + b",]", "not valid JSON", id="trailing-comma"),
        pytest.param(b"\xef\xbb\xbf" + VALID_RAW[:-1], "not valid JSON", id="bom-truncated"),
        pytest.param(VALID_RAW.replace(b"Ada", b"A\x00da", 1), "not valid JSON", id="nul-in-str"),
        pytest.param(b"\x00" * 4096, "not valid JSON", id="nul-bytes"),
        pytest.param(VALID_RAW.replace(b"Ada", b"Ad\xe9", 1), "utf-8", id="latin-1"),
        pytest.param(b"", "not valid JSON", id="empty"),
        pytest.param(b" \n\t\r\n", "not valid JSON", id="whitespace"),
        pytest.param(str(VALID).encode(), "not valid JSON", id="python-repr"),
        pytest.param(b"\n".join(json.dumps(m).encode() for m in VALID), "Extra data", id="jsonl"),
        pytest.param(b"[" + b"9" * 5000 + b"]", "digits", id="huge-int"),
        pytest.param(b'{"users": []}', "JSON array", id="object"),
        pytest.param(
            json.dumps({m["fob_codes"][0]: m for m in VALID}).encode(), "JSON array", id="by-fob"
        ),
        pytest.param(b'"users.json"', "JSON array", id="string"),
        pytest.param(b"null", "JSON array", id="null"),
        pytest.param(b"42", "JSON array", id="number"),
        pytest.param(b"NaN", "JSON array", id="nan"),
    ],
)
async def test_a_malformed_file_keeps_members_and_sessions(
    space: Space, freezer: FrozenDateTimeFactory, raw: bytes, problem: str
) -> None:
    _write(space.path, raw)
    await _tick(space.hass, freezer)
    await space.assert_rejected(problem)
    await space.assert_fixed(freezer)


async def test_a_byte_order_mark_is_accepted(space: Space, freezer: FrozenDateTimeFactory) -> None:
    # Windows CRM exports often start with one; the file is otherwise fine.
    changed = members(dt_util.now().date())[:-1]
    _write(space.path, b"\xef\xbb\xbf" + json.dumps(changed).encode())
    await _tick(space.hass, freezer)
    assert space.issue(INVALID) is None
    assert space.loaded == 5


# Wrong types per field -----------------------------------------------------------------


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda entry: entry.__setitem__(key, value)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda entry: entry.pop(key)


WRONG_TYPES = [
    (_set("fob_codes", [55555555]), "fob_codes must be a list of strings"),
    (_set("fob_codes", None), "fob_codes must be a list of strings"),
    (_set("fob_codes", {"0055555555": True}), "fob_codes must be a list of strings"),
    (_set("fob_codes", [["0055555555"]]), "fob_codes must be a list of strings"),
    (_drop("fob_codes"), "fob_codes must be a list of strings"),
    (_set("fob_codes", ["0055555555 "]), "not a 10-digit zero-padded code"),
    (_set("fob_codes", ["005555555x"]), "not a 10-digit zero-padded code"),
    (_set("fob_codes", ["00055555555"]), "not a 10-digit zero-padded code"),
    (_set("authorizations", "Metal Mill"), "authorizations must be a list of strings"),
    (_set("authorizations", {"Metal Mill": True}), "authorizations must be a list of strings"),
    (_set("authorizations", None), "authorizations must be a list of strings"),
    (_drop("authorizations"), "authorizations must be a list of strings"),
    (_set("expiration_ymd", 20270630), "expiration_ymd must be a date"),
    (_set("expiration_ymd", "2025-02-30"), "expiration_ymd must be a date"),
    (_set("expiration_ymd", "2027-6-30"), "expiration_ymd must be a date"),
    (_set("expiration_ymd", ""), "expiration_ymd must be a date"),
    (_set("expiration_ymd", None), "expiration_ymd must be a date"),
    (_drop("expiration_ymd"), "expiration_ymd must be a date"),
    (_set("preferred_name", 7), "preferred_name must be a non-empty string"),
    (_set("preferred_name", None), "preferred_name must be a non-empty string"),
    *(
        (_drop(key), f"{key} must be a non-empty string")
        for key in ("full_name", "first_name", "last_name", "preferred_name", "email")
    ),
    (_set("oops_override", "yes"), "oops_override must be true or false"),
    (_set("oops_override", 1), "oops_override must be true or false"),
    (_set("oops_override", None), "oops_override must be true or false"),
]


@pytest.mark.parametrize(("change", "problem"), WRONG_TYPES)
def test_a_wrong_type_names_the_entry(change: Callable[[Any], None], problem: str) -> None:
    data = json.loads(VALID_RAW)
    change(data[2])  # Rita, the third entry
    with pytest.raises(MembersFileError) as err:
        parse_members(json.dumps(data).encode())
    assert err.value.entry == "entry 3 (account 3)"
    assert problem in err.value.problem
    assert not any(tail in str(err.value) for tail in FOB_TAILS)


@pytest.mark.parametrize(
    ("value", "entry"),
    [(None, "entry 3"), (3, "entry 3"), ("", "entry 3"), ("x" * 5, "entry 3 (account xxxxx)")],
)
def test_a_bad_or_missing_account_id_still_names_the_entry(value: Any, entry: str) -> None:
    data = json.loads(VALID_RAW)
    data[2]["account_id"] = value
    data[2]["email"] = 42
    with pytest.raises(MembersFileError) as err:
        parse_members(json.dumps(data).encode())
    assert err.value.entry == entry


@pytest.mark.parametrize("entry", [None, [], ["Rita"], 3, "Rita"])
def test_an_entry_that_is_not_an_object(entry: Any) -> None:
    data = json.loads(VALID_RAW)
    data[2] = entry
    with pytest.raises(MembersFileError, match="is not a JSON object") as err:
        parse_members(json.dumps(data).encode())
    assert err.value.entry == "entry 3"


@pytest.mark.parametrize("fobs", [[""], ["", "12345678"], ["", "garbage"]])
def test_an_empty_fob_code_is_rejected(fobs: list[str]) -> None:
    data = json.loads(VALID_RAW)
    data[2]["fob_codes"] = fobs
    with pytest.raises(MembersFileError, match="fob code"):
        parse_members(json.dumps(data).encode())


def test_a_fob_of_non_ascii_digits_is_rejected() -> None:
    data = json.loads(VALID_RAW)
    data[2]["fob_codes"] = ["\u0660\u0660" + "\u0665" * 8]  # Arabic-Indic digits
    with pytest.raises(MembersFileError, match="not a 10-digit zero-padded code"):
        parse_members(json.dumps(data).encode())


async def test_a_wrong_type_mid_run_names_the_entry_in_the_issue(
    space: Space, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    broken = members(dt_util.now().date())
    broken[2]["authorizations"] = "Metal Mill"
    _write(space.path, broken)
    await _tick(space.hass, freezer)
    await space.assert_rejected("authorizations must be a list of strings", "entry 3 (account 3)")
    errors = [r.getMessage() for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert "entry 3 (account 3): authorizations must be a list" in errors[0]
    for _ in range(3):  # a file that stays bad is not reported again every 30 s
        await _tick(space.hass, freezer)
    assert len([r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]) == len(errors)
    await space.assert_fixed(freezer)


# Duplicate fobs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fobs", "problem"),
    [
        (["0091703745", "0012345678"], "a fob code also belongs to account 1"),
        (["0012345678", "0012345678"], "a fob code also belongs to account 1"),
        # ESPHome strips leading zeros; the file must not: no second form of Ada's fob.
        (["12345678"], "not a 10-digit zero-padded code"),
        (["012345678"], "not a 10-digit zero-padded code"),
    ],
)
async def test_a_duplicate_fob_mid_run_keeps_members_and_sessions(
    space: Space, freezer: FrozenDateTimeFactory, fobs: list[str], problem: str
) -> None:
    broken = members(dt_util.now().date())
    broken[1]["fob_codes"] = fobs  # Kenneth
    _write(space.path, broken)
    await _tick(space.hass, freezer)
    await space.assert_rejected(problem, "entry 2 (account 2)")
    assert not any(tail in str(space.invalid()) for tail in FOB_TAILS)
    await space.assert_fixed(freezer)


async def test_a_fob_is_the_same_with_or_without_leading_zeros(space: Space) -> None:
    for rfid in ("0012345678", "012345678", ADA):
        assert (await space.mill.post(rfid))["display"] == "Welcome,\nAda"
    assert (await space.mill.post("00012345678"))["display"] == "Unknown RFID"  # 11 digits
    assert machine_of(space.entry, "metal-mill").state.session is None


def test_a_member_may_list_one_fob_twice_but_not_share_it() -> None:
    data = json.loads(VALID_RAW)
    data[2]["fob_codes"] = ["0055555555", "0055555555", "0091703745"]  # Kenneth's, third
    with pytest.raises(MembersFileError) as err:
        parse_members(json.dumps(data).encode())
    assert err.value.entry == "entry 3 (account 3)"
    assert err.value.problem == "a fob code also belongs to account 2"


# Huge files ----------------------------------------------------------------------------


def _crowd(count: int) -> list[dict[str, Any]]:
    return [member(str(n), f"M{n}", [f"{n:010d}"], ["Metal Mill"]) for n in range(1, count + 1)]


async def test_twenty_thousand_members(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    crowd = _crowd(20_000)
    path = config_dir / "makerspace_hub" / "users.json"
    path.parent.mkdir()
    _write(path, crowd)
    assert path.stat().st_size > 4_000_000
    entry = await setup_hub(hass, makerspace_entry())
    assert len(entry.runtime_data.members_file.members) == 20_000
    mill = Board(await hass_client_no_auth(), "metal-mill")
    assert (await mill.post("20000"))["display"] == "Welcome,\nM20000"  # the last one
    assert await _reload(hass) == {"removed": 0, "updated": 0, "added": 0}

    crowd[-1]["fob_codes"] = ["0000000001"]  # the last one takes the first one's fob
    _write(path, crowd)
    await _tick(hass, freezer)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"{INVALID}_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders["entry"] == "entry 20000 (account 20000)"
    assert len(entry.runtime_data.members_file.members) == 20_000
    assert (await mill.post("20000"))["display"] == "Welcome,\nM20000"  # still running


@pytest.mark.parametrize(
    ("raw", "problem", "entry"),
    [
        pytest.param(bytes(range(256)) * 16_384, "not valid JSON", "-", id="4MB-binary"),
        pytest.param(
            b"[" + b"0," * 2_000_000 + b"0]", "is not a JSON object", "entry 1", id="ints"
        ),
        pytest.param(
            json.dumps({"users": _crowd(20_000)}).encode(), "JSON array", "-", id="wrapped"
        ),
        pytest.param(
            json.dumps(["x" * 4_000_000]).encode(), "is not a JSON object", "entry 1", id="4MB-str"
        ),
    ],
)
async def test_a_huge_bad_file_is_rejected_cleanly(
    space: Space, freezer: FrozenDateTimeFactory, raw: bytes, problem: str, entry: str
) -> None:
    _write(space.path, raw)
    await _tick(space.hass, freezer)
    await space.assert_rejected(problem, entry)
    await space.assert_fixed(freezer)


DEEP = b"[" * 100_000


async def test_a_deeply_nested_file_at_setup(
    hass: HomeAssistant, config_dir: Path, freezer: FrozenDateTimeFactory
) -> None:
    path = config_dir / "makerspace_hub" / "users.json"
    path.parent.mkdir()
    _write(path, DEEP)
    entry = makerspace_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"{INVALID}_{entry.entry_id}") is not None
    assert len(entry.runtime_data.members_file.members) == 0


@pytest.mark.parametrize("how", ["check", "action"])
async def test_a_deeply_nested_file_mid_run(
    space: Space, freezer: FrozenDateTimeFactory, how: str
) -> None:
    _write(space.path, DEEP)
    if how == "check":
        await _tick(space.hass, freezer)
    else:
        with pytest.raises(HomeAssistantError):
            await _reload(space.hass)
    await space.assert_rejected("not valid JSON")


# Deleted or replaced mid-run ----------------------------------------------------------


async def test_a_deleted_then_restored_file(space: Space, freezer: FrozenDateTimeFactory) -> None:
    space.path.unlink()
    await _tick(space.hass, freezer)
    space.kept(MISSING_KEPT)
    await space.assert_intact()  # an export that deletes and rewrites it cuts nobody
    with pytest.raises(HomeAssistantError) as err:
        await _reload(space.hass)
    assert err.value.translation_key == MISSING
    await space.assert_intact()
    await space.assert_fixed(freezer)


async def test_an_atomic_replace_is_picked_up(
    space: Space, freezer: FrozenDateTimeFactory, config_dir: Path
) -> None:
    changed = members(dt_util.now().date())
    del changed[1]  # Kenneth leaves
    changed[0]["email"] = "ada@example.com"  # Ada changes her address
    changed.append(member("7", "Nia", ["0011111111"], ["Metal Mill"]))
    new = _write(config_dir / "makerspace_hub" / ".users.json.tmp", changed)
    os.replace(new, space.path)
    assert await _reload(space.hass) == {"removed": 1, "updated": 1, "added": 1}
    assert machine_of(space.entry, "metal-mill").state.session is not None  # Ada stays on

    changed[0]["authorizations"] = []
    os.replace(_write(new, changed), space.path)
    await _tick(space.hass, freezer)
    assert (await space.mill.post(ADA))["relay"] is False  # no longer authorized
    hammer = Board(space.mill.client, "hammer")
    assert (await hammer.post(KENNETH))["display"] == "Unknown RFID"
    assert space.issue(INVALID) is None


async def test_a_half_written_file_keeps_members_until_complete(
    space: Space, freezer: FrozenDateTimeFactory
) -> None:
    complete = members(dt_util.now().date())
    complete.append(member("7", "Nia", ["0011111111"], ["Metal Mill"]))
    raw = json.dumps(complete).encode()
    _write(space.path, raw[: len(raw) // 2])
    await _tick(space.hass, freezer)
    assert "not valid JSON" in space.invalid()["problem"]
    await space.assert_intact()

    _write(space.path, raw)
    await _tick(space.hass, freezer)
    assert space.issue(INVALID) is None
    assert space.loaded == 7
    saw = Board(space.mill.client, "saw")
    assert (await saw.post("11111111"))["display"] == "Welcome,\nNia"


async def test_a_file_replaced_by_a_directory(space: Space, freezer: FrozenDateTimeFactory) -> None:
    space.path.unlink()
    space.path.mkdir()
    await _tick(space.hass, freezer)
    assert "Is a directory" in space.kept(UNREADABLE_KEPT)["problem"]
    with pytest.raises(HomeAssistantError) as err:
        await _reload(space.hass)
    assert err.value.translation_key == UNREADABLE
    assert "Is a directory" in str(err.value.translation_placeholders)
    await space.assert_intact()
    space.path.rmdir()
    await space.assert_fixed(freezer)


async def test_a_symlink_to_an_export_elsewhere(
    space: Space, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    crm = tmp_path / "crm"
    crm.mkdir()
    today = dt_util.now().date()
    monday = _write(crm / "monday.json", members(today)[:1] + members(today)[2:])  # no Kenneth
    newcomers = [member(str(n), f"M{n}", [f"{n:010d}"], []) for n in (7, 8, 9)]
    tuesday = _write(crm / "tuesday.json", [*members(today), *newcomers])
    space.path.unlink()
    space.path.symlink_to(monday)
    await _tick(space.hass, freezer)
    assert space.loaded == 5
    assert machine_of(space.entry, "metal-mill").state.session is not None  # Ada stays on

    link = space.path.with_name("users.json.new")
    link.symlink_to(tuesday)
    os.replace(link, space.path)  # retarget atomically
    await _tick(space.hass, freezer)
    assert space.loaded == 9

    tuesday.unlink()  # dangling: the file is missing (its members kept for a while)
    await _tick(space.hass, freezer)
    assert space.loaded == 9
    space.kept(MISSING_KEPT)

    _write(tuesday, members(today))
    await _tick(space.hass, freezer)
    assert space.issue(MISSING_KEPT) is None
    assert space.loaded == 6


@pytest.mark.parametrize("hostile", ["symlink-loop", "parent-is-a-file"])
async def test_an_unreadable_path_mid_run_raises_an_issue(
    space: Space, freezer: FrozenDateTimeFactory, hostile: str
) -> None:
    if hostile == "symlink-loop":
        space.path.unlink()
        space.path.symlink_to(space.path)
    else:
        space.path.unlink()
        space.path.parent.rmdir()
        _write(space.path.parent, b"not a folder")
    await _tick(space.hass, freezer)
    assert space.kept(UNREADABLE_KEPT)["problem"]
    await space.assert_intact()


async def test_an_unreadable_path_is_reported_by_the_action(space: Space) -> None:
    space.path.unlink()
    space.path.symlink_to(space.path)
    with pytest.raises(HomeAssistantError) as err:
        await _reload(space.hass)
    assert err.value.translation_key == UNREADABLE
    assert "Too many levels of symbolic links" in space.kept(UNREADABLE_KEPT)["problem"]
    await space.assert_intact()


# Any hostile document ------------------------------------------------------------------

_KEYS = st.sampled_from([*VALID[0], "neon_id"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
_ENTRY_RE = re.compile(r"entry [1-9]\d*( \(account .+\))?", re.DOTALL)


@st.composite
def _hostile_files(draw: st.DrawFn) -> bytes:
    """A valid file with one entry, field or stretch of bytes made hostile."""
    data: list[Any] = json.loads(VALID_RAW)
    index = draw(st.integers(0, len(data) - 1))
    match draw(st.sampled_from(["field", "drop", "entry", "none"])):
        case "field":
            data[index][draw(_KEYS)] = draw(_JSON)
        case "drop":
            data[index].pop(draw(_KEYS), None)
        case "entry":
            data[index] = draw(_JSON)
    raw = json.dumps(data).encode()
    match draw(st.sampled_from(["none", "cut", "bytes"])):
        case "cut":
            raw = raw[: draw(st.integers(0, len(raw)))]
        case "bytes":
            at = draw(st.integers(0, len(raw)))
            raw = raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at + 1 :]
    return raw


def _outcome(raw: bytes) -> Members | MembersFileError:
    try:
        return parse_members(raw)
    except MembersFileError as err:
        return err


@settings(max_examples=300, database=None, derandomize=True, deadline=None)
@given(_hostile_files())
def test_any_hostile_file_is_taken_whole_or_refused_by_name(raw: bytes) -> None:
    outcome = _outcome(raw)
    if isinstance(outcome, MembersFileError):
        assert outcome.problem
        assert outcome.entry == "" or _ENTRY_RE.fullmatch(outcome.entry)
        assert not any(fob in str(outcome) for fob in FOBS)
        if outcome.entry:  # a checked entry's problem names no digit of a fob, only accounts
            named = re.sub(r"account \S+", "", outcome.problem)
            assert not any(tail in named for tail in FOB_TAILS)
        return
    parsed = outcome
    # Taken: every fob leads to the one member who lists it.
    assert len(parsed) <= len(VALID)
    for fob, holder in parsed.by_fob.items():
        assert fob in holder.fob_codes
        assert parsed.by_account[holder.account_id] is holder
