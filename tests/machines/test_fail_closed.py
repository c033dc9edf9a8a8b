"""Fail closed across real restarts, lost files and fob guessing (issue "fail closed").

Each restart here is a NEW Home Assistant on the same configuration folder
(tests/restart.py): what a machine knows afterwards came from the disk.
"""

from datetime import timedelta
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.machines.installation import async_get_fob_keys
from custom_components.makerspace_hub.machines.rules import GUESS_LIMIT

from ..makerspace import (
    ADA,
    IDLE,
    KENNETH,
    LOCKED,
    RITA,
    UNKNOWN_RFID,
    Board,
    machine_of,
    override,
    screen,
    welcome,
)
from ..restart import restarted

STATE_LOST = (False, "State lost:\nadmin must check", [1.0, 0.5, 0.0], 0.5, False)
THROTTLED = (False, "Too many cards\ntry again later", [1.0, 0.0, 0.0], 0.5, False)


def _continue(board: Board, client: TestClient | None) -> Board:
    """The same physical board, posting to the restarted Home Assistant."""
    assert client is not None
    again = Board(client, board.name, board.webhook_id, heard=True)
    again.boot, again.uptime = board.boot, board.uptime
    return again


def _state_file(config_dir: Path, entry: MockConfigEntry, name: str) -> Path:
    return config_dir / ".storage" / DOMAIN / entry.entry_id / "machine" / f"{name}.json"


async def test_a_card_removed_while_home_assistant_was_down_ends_the_session(
    hass: HomeAssistant,
    config_dir: Path,
    hub: MockConfigEntry,
    client: TestClient,
    aiohttp_client: ClientSessionGenerator,
) -> None:
    board = Board(client, "metal-mill")
    assert screen(await board.post(ADA)) == welcome("Ada")
    async with restarted(hass, config_dir, aiohttp_client) as (_new, new_client):
        board = _continue(board, new_client)
        # The member left while Home Assistant was down: the reader is empty.
        assert screen(await board.post()) == IDLE
        assert screen(await board.post()) == IDLE


async def test_the_same_card_after_a_restart_keeps_the_session(
    hass: HomeAssistant,
    config_dir: Path,
    hub: MockConfigEntry,
    client: TestClient,
    aiohttp_client: ClientSessionGenerator,
) -> None:
    board = Board(client, "metal-mill")
    assert screen(await board.post(ADA)) == welcome("Ada")
    async with restarted(hass, config_dir, aiohttp_client) as (_new, new_client):
        board = _continue(board, new_client)
        assert screen(await board.post(ADA)) == welcome("Ada")
        # Another card in the reader ends it like a swap.
        assert screen(await board.post(KENNETH))[0] is False


async def test_a_board_rebooted_while_home_assistant_was_down_needs_the_card_again(
    hass: HomeAssistant,
    config_dir: Path,
    hub: MockConfigEntry,
    client: TestClient,
    aiohttp_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    board = Board(client, "metal-mill", uptime=3600)
    assert screen(await board.post(ADA)) == welcome("Ada")
    freezer.tick(timedelta(minutes=2))
    async with restarted(hass, config_dir, aiohttp_client) as (_new, new_client):
        # The board lost power during the restart and is back: its uptime (4000 s
        # would be dm_mac's "no reboot") is above the one saved, but it booted later.
        freezer.tick(timedelta(minutes=70))
        board = _continue(board, new_client)
        reply = await board.post(ADA, uptime=4000)
        assert screen(reply) == IDLE  # the saw does not start when power returns
        assert screen(await board.post(ADA)) == IDLE  # nor on the next heartbeat
        await board.post()
        assert screen(await board.post(ADA)) == welcome("Ada")  # a fresh card does


async def test_a_lost_state_file_locks_the_machine_out_until_an_admin_unlocks(
    hass: HomeAssistant,
    config_dir: Path,
    hub: MockConfigEntry,
    client: TestClient,
    aiohttp_client: ClientSessionGenerator,
) -> None:
    board = Board(client, "metal-mill")
    await board.post()
    machine_of(hub, "metal-mill").async_set_flags(locked_out=True)  # guard off for repair
    async with restarted(hass, config_dir, aiohttp_client):
        pass
    path = _state_file(config_dir, hub, "metal-mill")
    path.write_text(path.read_text()[:40])  # torn by a power cut
    async with restarted(hass, config_dir, aiohttp_client) as (new, new_client):
        entry = new.config_entries.async_get_entry(hub.entry_id)
        assert entry is not None
        board = _continue(board, new_client)
        assert screen(await board.post()) == STATE_LOST
        assert screen(await board.post(ADA)) == STATE_LOST
        issue = ir.async_get(new).async_get_issue(
            DOMAIN,
            f"machine_state_lost_{hub.entry_id}_{machine_of(entry, 'metal-mill').subentry_id}",
        )
        assert issue is not None
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["machine"] == "metal-mill"
        # The repair crew may still run it (override), like any locked-out machine.
        await board.post()
        assert screen(await board.post(RITA)) == override("Rita")
        await board.post()
        # An admin checked it and unlocks: the issue goes, members are let in again.
        lock = er.async_get(new).async_get_entity_id("lock", DOMAIN, _unique(entry, "lockout"))
        await new.services.async_call("lock", "unlock", {"entity_id": lock}, blocking=True)
        assert screen(await board.post()) == IDLE
        assert screen(await board.post(ADA)) == welcome("Ada")
        assert ir.async_get(new).async_get_issue(DOMAIN, issue.issue_id) is None


def _unique(entry: Any, key: str) -> str:
    return f"{entry.entry_id}_{machine_of(entry, 'metal-mill').subentry_id}_{key}"


async def test_a_lockout_survives_a_restart_and_a_lost_file_stays_locked(
    hass: HomeAssistant,
    config_dir: Path,
    hub: MockConfigEntry,
    client: TestClient,
    aiohttp_client: ClientSessionGenerator,
) -> None:
    board = Board(client, "metal-mill")
    machine_of(hub, "metal-mill").async_set_flags(locked_out=True)
    assert screen(await board.post()) == LOCKED
    async with restarted(hass, config_dir, aiohttp_client) as (_new, new_client):
        board = _continue(board, new_client)
        assert screen(await board.post()) == LOCKED
    # A file from a newer release: the machine's state is unknown, so locked out.
    path = _state_file(config_dir, hub, "metal-mill")
    document = json.loads(path.read_text())
    path.write_text(json.dumps(document | {"version": 99}))
    async with restarted(hass, config_dir, aiohttp_client) as (_new, new_client):
        board = _continue(board, new_client)
        assert screen(await board.post()) == STATE_LOST


async def test_fob_guessing_is_throttled_reported_once_and_cleared_by_an_admin(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    alerts: list[ServiceCall] = []

    async def notify(call: ServiceCall) -> None:
        alerts.append(call)

    hass.services.async_register("notify", "admins", notify)
    hass.config_entries.async_update_entry(
        hub, options=dict(hub.options) | {"notify_services": ["notify.admins"]}
    )
    await hass.async_block_till_done()
    events: list[Any] = []
    machine = machine_of(hub, "metal-mill")
    machine.async_add_event_listener(events.append)

    board = Board(client, "metal-mill")
    for code in range(GUESS_LIMIT):
        assert screen(await board.post(f"{4000000000 + code}")) == UNKNOWN_RFID
        await board.post()
    # The eleventh unknown fob within a minute: the board refuses every card.
    assert screen(await board.post("4000000099")) == THROTTLED
    await board.post()
    assert screen(await board.post(ADA)) == THROTTLED  # a member too
    await board.post()
    for code in range(20):  # more guesses: no more events, no more alerts
        await board.post(f"{4100000000 + code}")
    await hass.async_block_till_done()
    types = [event.type for event in events]
    assert types.count("unknown_fob") == GUESS_LIMIT
    assert types.count("guessing") == 1
    assert len(alerts) == 1
    assert "guessing" in alerts[0].data["title"]
    assert "4000000099" not in json.dumps(alerts[0].data)
    # An admin's Clear ends it early.
    await hass.services.async_call(DOMAIN, "clear", {"machine": "metal-mill"}, blocking=True)
    await board.post()
    assert screen(await board.post(ADA)) == welcome("Ada")


async def test_the_guessing_lock_ends_after_five_minutes(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, freezer: FrozenDateTimeFactory
) -> None:
    board = Board(client, "metal-mill")
    for code in range(GUESS_LIMIT + 1):
        await board.post(f"{4000000000 + code}")
        await board.post()
    assert screen(await board.post(ADA)) == THROTTLED
    await board.post()
    freezer.tick(timedelta(minutes=5, seconds=1))
    async_fire_time_changed(hass)
    assert screen(await board.post()) == IDLE
    assert screen(await board.post(ADA)) == welcome("Ada")


async def test_no_fob_digits_in_states_attributes_events_or_diagnostics(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    await board.post(ADA)
    await board.post()
    await board.post("4242424242")
    await hass.async_block_till_done()
    keys = await async_get_fob_keys(hass)
    shown = json.dumps(
        [
            {"state": state.state, "attributes": dict(state.attributes)}
            for state in hass.states.async_all()
        ],
        default=str,
    )
    for code in ("0012345678", "4242424242"):
        assert code.lstrip("0") not in shown
        assert f"••••••{code[-4:]}" not in shown
    rfid = hass.states.get("sensor.metal_mill_rfid")
    assert rfid is not None
    assert rfid.attributes["last_fob"] == keys.tag("4242424242")


async def test_a_relay_off_while_not_running_holds_across_a_restart(
    hass: HomeAssistant,
    config_dir: Path,
    hub: MockConfigEntry,
    client: TestClient,
    aiohttp_client: ClientSessionGenerator,
) -> None:
    board = Board(client, "metal-mill")
    assert screen(await board.post(ADA)) == welcome("Ada")
    # The hub is not running (a reload, a setup that fails) and Home Assistant stops
    # before the machine runs again: the board was told relay off all the same.
    assert await hass.config_entries.async_unload(hub.entry_id)
    reply = await board.post(ADA)
    assert reply["relay"] is False
    async with restarted(hass, config_dir, aiohttp_client) as (_new, new_client):
        board = _continue(board, new_client)
        assert screen(await board.post(ADA)) == IDLE  # it never comes back on by itself
        await board.post()
        assert screen(await board.post(ADA)) == welcome("Ada")
