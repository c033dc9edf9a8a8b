"""Usage records through a real hub: board posts, the report action, the CSV, restarts."""

import asyncio
import csv
from datetime import datetime, timedelta
import io
from pathlib import Path
import sqlite3
import threading
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.machines.usage_log import UsageLog

from ..conftest import setup_hub, subentry_by_title
from ..makerspace import (
    ADA,
    KENNETH,
    Board,
    makerspace_entry,
    members,
    screen,
    welcome,
    write_members,
)
from ..restart import restarted

START = dt_util.parse_datetime("2026-11-02T10:00:00+00:00")


@pytest.fixture
def at_start(freezer: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    """The clock on a Monday morning (a fixed time, so the report's times are exact)."""
    freezer.move_to(START)
    return freezer


@pytest.fixture
async def shop(hass: HomeAssistant, config_dir: Path, at_start: Any) -> MockConfigEntry:
    """The test makerspace, recording usage."""
    write_members(config_dir, members(dt_util.now().date()))
    return await setup_hub(hass, makerspace_entry())


def _usage(entry: MockConfigEntry) -> UsageLog:
    usage: UsageLog = entry.runtime_data.usage
    return usage


async def _report(hass: HomeAssistant, user: User | None = None, **data: Any) -> dict[str, Any]:
    data = {"start": "2026-11-01T00:00:00+00:00", "end": "2026-12-01T00:00:00+00:00"} | data
    response = await hass.services.async_call(
        DOMAIN,
        "usage_report",
        data,
        blocking=True,
        return_response=True,
        context=Context(user_id=None if user is None else user.id),
    )
    assert isinstance(response, dict)
    return response


def _rows(config_dir: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(config_dir / "makerspace_hub" / "usage.db") as connection:
        return connection.execute(
            'SELECT machine, account_id, member, kind, start, "end", ended_by FROM sessions'
        ).fetchall()


async def _session(board: Board, fob: str, freezer: FrozenDateTimeFactory, minutes: float) -> None:
    assert screen(await board.post(fob))[0] is True
    freezer.tick(timedelta(minutes=minutes))
    await board.post()  # card out: logout


async def test_a_session_is_recorded_when_it_ends(
    hass: HomeAssistant,
    config_dir: Path,
    shop: MockConfigEntry,
    client: TestClient,
    at_start: FrozenDateTimeFactory,
) -> None:
    board = Board(client, "metal-mill")
    assert screen(await board.post(ADA)) == welcome("Ada")
    at_start.tick(timedelta(minutes=25))
    assert screen(await board.post(ADA)) == welcome("Ada")  # a heartbeat: still running
    at_start.tick(timedelta(seconds=10))
    await board.post()
    report = await _report(hass)
    session = {
        "machine": "metal-mill",
        "account_id": "1",
        "member": "Ada Tester",
        "kind": "card",
        "start": "2026-11-02T10:00:00+00:00",
        "end": "2026-11-02T10:25:10+00:00",
        "seconds": 1510,
        "ended_by": "card_removed",
    }
    assert report["sessions"] == [session]
    assert report["members"] == [
        {"account_id": "1", "member": "Ada Tester", "sessions": 1, "hours": 0.419, "minutes": 25.2}
    ]
    assert report["machines"] == [
        {"machine": "metal-mill", "sessions": 1, "hours": 0.419, "minutes": 25.2}
    ]
    assert "csv_url" not in report
    assert await _usage(shop).async_flush()
    start = START.timestamp()
    assert await hass.async_add_executor_job(_rows, config_dir) == [
        ("metal-mill", "1", "Ada Tester", "card", start, start + 1510, "card_removed")
    ]


async def test_records_are_written_together_a_few_seconds_after_their_sessions(
    hass: HomeAssistant,
    config_dir: Path,
    shop: MockConfigEntry,
    client: TestClient,
    at_start: FrozenDateTimeFactory,
) -> None:
    await _session(Board(client, "metal-mill"), ADA, at_start, 1)
    at_start.tick(timedelta(seconds=2))
    await _session(Board(client, "hammer"), KENNETH, at_start, 0.01)
    usage = _usage(shop)
    assert usage.waiting == 2
    assert not (config_dir / "makerspace_hub" / "usage.db").exists()  # not yet written
    at_start.tick(timedelta(seconds=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    # The write started by itself (no flush): wait for its thread, in real time.
    for _ in range(200):
        if not usage.pending:
            break
        await hass.async_add_executor_job(threading.Event().wait, 0.025)
        await hass.async_block_till_done()
    assert usage.waiting == 0
    assert len(await hass.async_add_executor_job(_rows, config_dir)) == 2


async def test_every_kind_of_session_and_every_end_is_recorded(
    hass: HomeAssistant,
    shop: MockConfigEntry,
    client: TestClient,
    at_start: FrozenDateTimeFactory,
) -> None:
    await _session(Board(client, "hammer"), ADA, at_start, 3)  # warn-only machine, authorized
    await _session(Board(client, "hammer"), "0055555555", at_start, 1)  # Rita: warn only
    compressor = Board(client, "compressor")
    await _session(compressor, KENNETH, at_start, 2)  # always enabled: tracked
    mill = Board(client, "metal-mill")
    assert screen(await mill.post(ADA))[0] is True
    at_start.tick(timedelta(minutes=4))
    await mill.post(ADA, oops=True)  # Oops ends it
    await hass.services.async_call(DOMAIN, "clear", {"machine": "metal-mill"}, blocking=True)
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.metal_mill_relay"}, blocking=True
    )
    at_start.tick(timedelta(minutes=5))
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.metal_mill_relay"}, blocking=True
    )
    sessions = (await _report(hass))["sessions"]
    assert [(s["machine"], s["kind"], s["seconds"], s["ended_by"]) for s in sessions] == [
        ("hammer", "card", 180, "card_removed"),
        ("hammer", "warn_only", 60, "card_removed"),
        ("compressor", "always_enabled", 120, "card_removed"),
        ("metal-mill", "card", 240, "oops"),
        ("metal-mill", "remote", 300, "home_assistant"),
    ]


async def test_a_session_running_at_a_restart_is_recorded_once_when_it_ends(
    hass: HomeAssistant,
    config_dir: Path,
    shop: MockConfigEntry,
    client: TestClient,
    aiohttp_client: ClientSessionGenerator,
    at_start: FrozenDateTimeFactory,
) -> None:
    board = Board(client, "metal-mill")
    assert screen(await board.post(ADA)) == welcome("Ada")
    at_start.tick(timedelta(minutes=10))
    await board.post(ADA)
    assert (await _report(hass))["sessions"] == []  # running: nothing to record yet
    async with restarted(hass, config_dir, aiohttp_client) as (new, new_client):
        assert new_client is not None
        again = Board(new_client, "metal-mill", heard=True)
        again.boot, again.uptime = board.boot, board.uptime
        at_start.tick(timedelta(seconds=20))
        assert screen(await again.post(ADA)) == welcome("Ada")  # the same card: it goes on
        at_start.tick(timedelta(minutes=5))
        await again.post()
        sessions = (await _report(new))["sessions"]
        assert [(s["start"], s["seconds"], s["ended_by"]) for s in sessions] == [
            ("2026-11-02T10:00:00+00:00", 920, "card_removed")
        ]
        assert await new.config_entries.async_get_entry(
            shop.entry_id
        ).runtime_data.usage.async_flush()
    assert await asyncio.get_running_loop().run_in_executor(None, _rows, config_dir) == [
        (
            "metal-mill",
            "1",
            "Ada Tester",
            "card",
            START.timestamp(),
            START.timestamp() + 920,
            "card_removed",
        )
    ]


async def test_a_session_that_ended_while_home_assistant_was_down_ends_at_the_last_checkin(
    hass: HomeAssistant,
    config_dir: Path,
    shop: MockConfigEntry,
    client: TestClient,
    aiohttp_client: ClientSessionGenerator,
    at_start: FrozenDateTimeFactory,
) -> None:
    board = Board(client, "metal-mill")
    assert screen(await board.post(ADA)) == welcome("Ada")
    at_start.tick(timedelta(minutes=10))
    await board.post(ADA)  # the last check-in before Home Assistant went down
    async with restarted(hass, config_dir, aiohttp_client) as (new, new_client):
        assert new_client is not None
        at_start.tick(timedelta(minutes=50))  # down meanwhile; the card was taken out
        again = Board(new_client, "metal-mill", heard=True)
        again.boot, again.uptime = board.boot, board.uptime
        await again.post()
        sessions = (await _report(new))["sessions"]
        assert [(s["end"], s["seconds"], s["ended_by"]) for s in sessions] == [
            ("2026-11-02T10:10:00+00:00", 600, "card_removed")
        ]


async def test_only_admins_and_automations_read_usage(
    hass: HomeAssistant,
    shop: MockConfigEntry,
    client: TestClient,
    at_start: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    await _session(Board(client, "metal-mill"), ADA, at_start, 3)
    with pytest.raises(ServiceValidationError) as err:
        await _report(hass, hass_read_only_user)
    assert err.value.translation_key == "usage_admin_required"
    assert len((await _report(hass, hass_admin_user))["sessions"]) == 1
    assert len((await _report(hass))["sessions"]) == 1  # an automation


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"end": "2026-10-01T00:00:00+00:00"}, "usage_period_invalid"),
        ({"end": "2026-11-01T00:00:00+00:00"}, "usage_period_invalid"),
        ({"machine": "no-such-machine"}, "unknown_machine"),
        ({"config_entry_id": "no-such-hub"}, "unknown_hub"),
    ],
)
async def test_a_bad_report_request_gets_a_translated_error(
    hass: HomeAssistant, shop: MockConfigEntry, data: dict[str, Any], key: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _report(hass, **data)
    assert err.value.translation_key == key


async def test_a_report_of_one_machine_or_member_in_local_time(
    hass: HomeAssistant,
    shop: MockConfigEntry,
    client: TestClient,
    at_start: FrozenDateTimeFactory,
) -> None:
    await hass.config.async_set_time_zone("America/New_York")
    await _session(Board(client, "metal-mill"), ADA, at_start, 3)
    await _session(Board(client, "hammer"), KENNETH, at_start, 4)
    await _session(Board(client, "hammer"), ADA, at_start, 5)

    async def sessions(**data: Any) -> list[tuple[str, str]]:
        report = await _report(hass, **data)
        return [(s["machine"], s["account_id"]) for s in report["sessions"]]

    assert await sessions(machine="HAMMER") == [("hammer", "2"), ("hammer", "1")]
    assert await sessions(member="1") == [("metal-mill", "1"), ("hammer", "1")]
    assert await sessions(machine="hammer", member="1") == [("hammer", "1")]
    # A time without a zone is Home Assistant's: 10:00 UTC is 05:00 in New York.
    assert await sessions(start="2026-11-02 05:05:00", end="2026-11-02 06:00:00") == [
        ("hammer", "2"),
        ("hammer", "1"),
    ]


async def test_the_csv_link_works_without_login_only_as_signed(
    hass: HomeAssistant,
    shop: MockConfigEntry,
    client: TestClient,
    at_start: FrozenDateTimeFactory,
    hass_client: ClientSessionGenerator,
    hass_read_only_access_token: str,
) -> None:
    await _session(Board(client, "metal-mill"), ADA, at_start, 3)
    await _session(Board(client, "hammer"), KENNETH, at_start, 4)
    report = await _report(hass, csv=True, machine="hammer")
    link = URL(report["csv_url"])
    path = link.path_qs if link.is_absolute() else str(link)

    response = await client.get(path)  # no token: the signature lets it in
    assert response.status == 200, await response.text()
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [(row["machine"], row["member"], row["minutes"]) for row in rows] == [
        ("hammer", "Kenneth Tester", "4.0")
    ]

    # The signature covers the period and the filters: no other report with it.
    tampered = URL(path).update_query(machines="")
    assert (await client.get(str(tampered))).status == 401
    unsigned = URL(path).without_query_params("authSig")
    assert (await client.get(str(unsigned))).status == 401
    # With a login and no signature: admins only.
    member_client = await hass_client(hass_read_only_access_token)
    assert (await member_client.get(str(unsigned))).status == 403
    # A login's token is what Home Assistant checks first: a made-up signature next to
    # it, or even the real one, lets no non-admin in.
    assert (await member_client.get(str(unsigned.update_query(authSig="x")))).status == 403
    assert (await member_client.get(path)).status == 403
    admin_client = await hass_client()
    response = await admin_client.get(str(unsigned))
    assert response.status == 200
    assert "Kenneth Tester" in await response.text()
    bad = URL(str(unsigned)).update_query(start="yesterday")
    response = await admin_client.get(str(bad))
    assert response.status == 400
    assert "ISO 8601" in (await response.json())["message"]
    assert (await admin_client.get(f"/api/{DOMAIN}/usage/no-such-hub")).status == 404

    # The link ends after an hour.
    at_start.tick(timedelta(hours=1, seconds=5))
    assert (await client.get(path)).status == 401


async def test_records_past_their_retention_go_at_night(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    at_start: FrozenDateTimeFactory,
) -> None:
    write_members(config_dir, members(dt_util.now().date()))
    entry = await setup_hub(hass, makerspace_entry(usage_retention_days=2))
    client = await hass_client_no_auth()
    await _session(Board(client, "metal-mill"), ADA, at_start, 3)
    assert await _usage(entry).async_flush()
    at_start.move_to("2026-11-04T09:00:00+00:00")
    await _session(Board(client, "hammer"), KENNETH, at_start, 4)
    everything = {"start": "2026-01-01T00:00:00+00:00", "end": "2027-01-01T00:00:00+00:00"}
    assert len((await _report(hass, **everything))["sessions"]) == 2

    night = dt_util.as_utc(datetime(2026, 11, 5, 3, 15, tzinfo=dt_util.get_default_time_zone()))
    at_start.move_to(night)
    async_fire_time_changed(hass, night)
    await hass.async_block_till_done()
    assert await _usage(entry).async_flush()
    sessions = (await _report(hass, **everything))["sessions"]
    assert [s["machine"] for s in sessions] == ["hammer"]
    assert len(await hass.async_add_executor_job(_rows, config_dir)) == 1


async def test_without_usage_recording_nothing_is_written(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    at_start: FrozenDateTimeFactory,
) -> None:
    write_members(config_dir, members(dt_util.now().date()))
    await setup_hub(hass, makerspace_entry(record_usage=False))
    client = await hass_client_no_auth()
    await _session(Board(client, "metal-mill"), ADA, at_start, 3)
    assert (await _report(hass))["sessions"] == []
    assert not (config_dir / "makerspace_hub" / "usage.db").exists()


async def test_a_removed_machine_keeps_its_records(
    hass: HomeAssistant,
    shop: MockConfigEntry,
    client: TestClient,
    at_start: FrozenDateTimeFactory,
) -> None:
    await _session(Board(client, "hammer"), KENNETH, at_start, 4)
    assert await _usage(shop).async_flush()
    hass.config_entries.async_remove_subentry(shop, subentry_by_title(shop, "hammer").subentry_id)
    await hass.async_block_till_done()
    sessions = (await _report(hass))["sessions"]
    assert [(s["machine"], s["member"]) for s in sessions] == [("hammer", "Kenneth Tester")]


async def test_a_locked_database_never_holds_up_a_board(
    hass: HomeAssistant,
    config_dir: Path,
    shop: MockConfigEntry,
    client: TestClient,
    at_start: FrozenDateTimeFactory,
) -> None:
    """Another program holds the database (a backup, a hung disk): boards go on."""
    board = Board(client, "metal-mill")
    await _session(board, ADA, at_start, 1)
    usage = _usage(shop)
    assert await usage.async_flush()  # the database exists now

    locked, release = threading.Event(), threading.Event()

    def hold_the_database() -> None:
        with sqlite3.connect(config_dir / "makerspace_hub" / "usage.db") as connection:
            connection.execute("BEGIN EXCLUSIVE")
            locked.set()
            release.wait(30)
            connection.rollback()

    holder = threading.Thread(target=hold_the_database)
    holder.start()
    try:
        assert await hass.async_add_executor_job(locked.wait, 10)
        at_start.tick(timedelta(minutes=1))
        # The second session ends: its record cannot be written now, and the board
        # gets its replies all the same (the record is still pending after them).
        await _session(board, ADA, at_start, 2)
        assert screen(await board.post(ADA))[0] is True
        assert usage.pending
        # The report has the record the database has not got yet.
        assert len((await _report(hass))["sessions"]) == 2
        # The write starts after its delay, and times out 2 s later.
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
        await hass.async_block_till_done()
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=9))
        await hass.async_block_till_done()
        assert usage.save_timeouts == 1
        issues = ir.async_get(hass).issues
        assert (DOMAIN, f"storage_slow_{shop.entry_id}") in issues
    finally:
        release.set()
        await hass.async_add_executor_job(holder.join)
    assert await usage.async_flush()
    assert len(await hass.async_add_executor_job(_rows, config_dir)) == 2


async def test_a_database_that_cannot_be_written_keeps_its_records_and_retries(
    hass: HomeAssistant,
    config_dir: Path,
    shop: MockConfigEntry,
    client: TestClient,
    at_start: FrozenDateTimeFactory,
) -> None:
    database = config_dir / "makerspace_hub" / "usage.db"
    database.mkdir(parents=True)  # a folder where the database should be
    await _session(Board(client, "metal-mill"), ADA, at_start, 3)
    usage = _usage(shop)
    assert not await usage.async_flush()
    assert usage.last_error is not None
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"storage_failing_{shop.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert "usage records" in issue.translation_placeholders["owners"]
    await _session(Board(client, "hammer"), KENNETH, at_start, 1)
    assert usage.pending  # kept in memory meanwhile
    with pytest.raises(HomeAssistantError) as err:  # a report says why it cannot be read
        await _report(hass)
    assert err.value.translation_key == "usage_db_error"

    database.rmdir()  # fixed: the next retry writes both
    at_start.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert await usage.async_flush()
    assert usage.last_error is None
    assert len(await hass.async_add_executor_job(_rows, config_dir)) == 2
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"storage_failing_{shop.entry_id}") is None
