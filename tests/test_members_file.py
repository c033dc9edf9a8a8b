"""The members file: loading, validation, watching, reloading, re-checking sessions."""

from datetime import date, timedelta
import json
import os
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.members import MembersFileError, mask_fob, parse_members

from .conftest import setup_hub
from .makerspace import (
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


async def test_a_deleted_file_means_no_members(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    path = write_members(config_dir, members(dt_util.now().date()))
    entry = await setup_hub(hass, makerspace_entry())
    client = await hass_client_no_auth()
    board = Board(client, "metal-mill")
    assert (await board.post(ADA))["relay"] is True
    path.unlink()
    await _tick(hass, freezer)
    assert len(entry.runtime_data.members_file.members) == 0
    assert _issue(hass, entry, "users_file_missing") is not None
    assert (await board.post(ADA))["relay"] is False  # logged out


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


def test_mask_fob() -> None:
    assert mask_fob("0012345678") == "••••••5678"
    assert mask_fob(None) is None
