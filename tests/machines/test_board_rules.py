"""Every access rule of the board spec, through real HTTP into the webhooks."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.machines.installation import async_get_fob_keys
from custom_components.makerspace_hub.machines.sessions import AccessEvent

from ..conftest import setup_hub, subentry_by_title
from ..makerspace import (
    ADA,
    ALWAYS_ON,
    BOTH,
    ED,
    EXPIRED,
    GRACE,
    IDLE,
    KENNETH,
    LOCKED,
    OOPSED,
    RITA,
    UNAUTHORIZED,
    UNKNOWN,
    UNKNOWN_RFID,
    Board,
    machine_of,
    makerspace_entry,
    members,
    override,
    screen,
    welcome,
    write_members,
)


@dataclass
class Space:
    """A running test makerspace."""

    hass: HomeAssistant
    entry: MockConfigEntry
    board: Callable[[str], Board]
    events: dict[str, list[AccessEvent]]

    def types(self, name: str) -> list[str]:
        """Return the event types a machine fired, and forget them."""
        fired = [event.type for event in self.events[name]]
        self.events[name].clear()
        return fired


@pytest.fixture
async def space(
    hass: HomeAssistant, config_dir: Path, hass_client_no_auth: ClientSessionGenerator
) -> Space:
    """The test makerspace with its members file."""
    write_members(config_dir, members(dt_util.now().date()))
    entry = await setup_hub(hass, makerspace_entry())
    client = await hass_client_no_auth()
    events: dict[str, list[AccessEvent]] = {}
    for machine in entry.runtime_data.machines.values():
        events[machine.name] = []
        machine.async_add_event_listener(events[machine.name].append)
    return Space(hass, entry, lambda name: Board(client, name), events)


type Step = Callable[[Space], Awaitable[None]]


async def test_authorized_login_and_logout(space: Space) -> None:
    board = space.board("metal-mill")
    assert screen(await board.post()) == IDLE
    reply = await board.post(ADA)
    assert reply == {
        "relay": True,
        "display": "Welcome,\nAda",
        "oops_led": False,
        "status_led_rgb": [0.0, 1.0, 0.0],
        "status_led_brightness": 0.5,
        "second_relay": False,
    }
    assert screen(await board.post(ADA)) == welcome("Ada")  # heartbeat: still on
    assert screen(await board.post()) == IDLE
    assert [e.reason for e in space.events["metal-mill"]] == ["member", "card_removed"]
    assert space.types("metal-mill") == ["login", "logout"]


async def test_the_fob_is_zero_padded_and_events_show_its_tag(space: Space) -> None:
    board = space.board("metal-mill")
    await board.post(ADA)
    (login,) = space.events["metal-mill"]
    assert login.member == "Ada Tester"
    assert login.account_id == "1"
    keys = await async_get_fob_keys(space.hass)
    assert login.fob == keys.tag("0012345678")  # the padded code: the member's fob


async def test_unknown_fob(space: Space) -> None:
    board = space.board("metal-mill")
    assert screen(await board.post(UNKNOWN)) == UNKNOWN_RFID
    assert screen(await board.post(UNKNOWN)) == UNKNOWN_RFID
    assert screen(await board.post()) == IDLE
    assert space.types("metal-mill") == ["unknown_fob"]


async def test_unauthorized_member(space: Space) -> None:
    board = space.board("metal-mill")
    assert screen(await board.post(KENNETH)) == UNAUTHORIZED
    assert screen(await board.post()) == IDLE
    (denied,) = space.events["metal-mill"]
    assert (denied.type, denied.reason, denied.member) == (
        "denied",
        "unauthorized",
        "Kenneth Tester",
    )


async def test_warn_only_lets_known_members_in(space: Space) -> None:
    board = space.board("hammer")
    assert screen(await board.post(ADA)) == welcome("Ada")  # authorized
    await board.post()
    assert screen(await board.post(RITA)) == welcome("Rita")  # not authorized: warn only
    await board.post()
    assert screen(await board.post(UNKNOWN)) == UNKNOWN_RFID  # unknown fobs stay out
    assert space.types("hammer") == ["login", "logout", "warn_only_login", "logout", "unknown_fob"]


async def test_expired_members_are_refused_after_the_grace_period(space: Space) -> None:
    board = space.board("metal-mill")
    assert screen(await board.post(ED)) == EXPIRED
    (expired,) = space.events["metal-mill"]
    assert (expired.type, expired.member) == ("expired", "Ed Tester")
    await board.post()
    # Grace's membership ended 3 days ago, within the 7-day grace period.
    assert screen(await board.post(GRACE)) == welcome("Grace")


async def test_board_oops_stops_the_machine_until_an_admin_clears_it(space: Space) -> None:
    board = space.board("metal-mill")
    await board.post(ADA)
    assert screen(await board.post(ADA, oops=True)) == OOPSED
    assert screen(await board.post(ADA)) == OOPSED  # latched; the card stays out of it
    assert screen(await board.post(ADA, oops=True)) == OOPSED
    assert space.types("metal-mill") == ["login", "oops", "logout"]  # one oops event
    machine_of(space.entry, "metal-mill").async_set_flags(oopsed=False)
    # The card must be presented again.
    assert screen(await board.post(ADA)) == IDLE
    await board.post()
    assert screen(await board.post(ADA)) == welcome("Ada")


async def test_cards_on_an_oopsed_or_locked_machine_change_nothing(space: Space) -> None:
    board = space.board("metal-mill")
    mill = machine_of(space.entry, "metal-mill")
    mill.async_set_flags(oopsed=True)
    for card in (ADA, KENNETH, UNKNOWN, ED):
        assert screen(await board.post(card)) == OOPSED
        assert screen(await board.post()) == OOPSED
    mill.async_set_flags(oopsed=False, locked_out=True)
    space.types("metal-mill")
    for card in (ADA, KENNETH, UNKNOWN, ED):
        assert screen(await board.post(card)) == LOCKED
        assert screen(await board.post()) == LOCKED
    assert space.types("metal-mill") == ["denied", "denied", "unknown_fob", "expired"]


async def test_override_login_keeps_the_flags(space: Space) -> None:
    board = space.board("metal-mill")
    mill = machine_of(space.entry, "metal-mill")
    mill.async_set_flags(oopsed=True, locked_out=True)
    assert screen(await board.post(RITA)) == override("Rita", oopsed=True)
    assert mill.state.oopsed
    assert mill.state.locked_out
    # When the card goes, the flags' screen is back.
    assert screen(await board.post()) == OOPSED
    assert screen(await board.post(RITA)) == override("Rita", oopsed=True)
    # Clearing one flag ends the session (like dm_mac) and shows the remaining flag.
    mill.async_set_flags(oopsed=False)
    assert screen(await board.post(RITA)) == LOCKED
    assert space.types("metal-mill") == [
        "oops", "lockout", "override_login", "logout", "override_login", "unoops", "logout"
    ]  # fmt: skip


async def test_override_members_log_in_normally_on_a_healthy_machine(space: Space) -> None:
    board = space.board("hammer")  # warn-only lets Rita in without an authorization
    assert screen(await board.post(RITA)) == welcome("Rita")
    assert space.types("hammer") == ["warn_only_login"]


async def test_card_swap_logs_out_before_judging_the_new_card(space: Space) -> None:
    # dm_mac kept the relay on for A when an unknown card B was swapped in.
    board = space.board("metal-mill")
    await board.post(ADA)
    assert screen(await board.post(UNKNOWN)) == UNKNOWN_RFID
    await board.post(ADA)
    assert screen(await board.post(KENNETH)) == UNAUTHORIZED
    assert screen(await board.post(ADA)) == welcome("Ada")
    swaps = [e for e in space.events["metal-mill"] if e.reason == "card_swapped"]
    assert len(swaps) == 2
    assert space.types("metal-mill") == [
        "login", "logout", "unknown_fob", "login", "logout", "denied", "login"
    ]  # fmt: skip


async def test_reboot_ends_the_session(space: Space) -> None:
    board = space.board("metal-mill")
    await board.post(ADA, uptime=500)
    assert screen(await board.post(ADA, uptime=3)) == IDLE
    assert screen(await board.post(ADA, uptime=13)) == IDLE  # the card must come again
    assert space.types("metal-mill") == ["login", "reboot", "logout"]


async def test_reboot_keeps_the_oops_and_lockout_screens(space: Space) -> None:
    board = space.board("metal-mill")
    mill = machine_of(space.entry, "metal-mill")
    mill.async_set_flags(locked_out=True)
    await board.post(uptime=500)
    assert screen(await board.post(uptime=3)) == LOCKED
    mill.async_set_flags(locked_out=False, oopsed=True)
    assert screen(await board.post(uptime=1)) == OOPSED


async def test_always_enabled_machine(space: Space) -> None:
    board = space.board("compressor")
    compressor = machine_of(space.entry, "compressor")
    assert screen(await board.post()) == ALWAYS_ON
    assert screen(await board.post(ADA)) == ALWAYS_ON  # cards are only tracked
    assert compressor.state.session is not None
    assert compressor.state.session.name == "Ada"
    assert screen(await board.post()) == ALWAYS_ON
    assert screen(await board.post(uptime=1)) == ALWAYS_ON  # a reboot does not stop it
    assert space.types("compressor") == ["login", "logout", "reboot"]


async def test_always_enabled_never_powers_up_while_oopsed_or_locked(space: Space) -> None:
    board = space.board("compressor")
    compressor = machine_of(space.entry, "compressor")
    compressor.async_set_flags(oopsed=True, locked_out=True)
    assert screen(await board.post()) == OOPSED
    assert screen(await board.post(uptime=1)) == OOPSED  # not after a reboot either
    compressor.async_set_flags(oopsed=False)  # one flag cleared: the other one shows
    assert screen(await board.post()) == LOCKED
    compressor.async_set_flags(locked_out=False)
    assert screen(await board.post()) == ALWAYS_ON


async def test_always_enabled_switched_off_by_reconfigure(space: Space) -> None:
    hass, entry = space.hass, space.entry
    board = space.board("compressor")
    await board.post()
    compressor = subentry_by_title(entry, "compressor")
    hass.config_entries.async_update_subentry(
        entry, compressor, data={**compressor.data, "always_enabled": False}
    )
    await hass.async_block_till_done()
    assert screen(await board.post()) == IDLE


@pytest.mark.parametrize(
    ("card", "relay", "second_relay", "decision"),
    [
        (BOTH, True, True, "granted"),
        (ADA, True, False, "denied"),
        (KENNETH, False, False, None),
    ],
)
async def test_second_relay(
    space: Space, card: str, relay: bool, second_relay: bool, decision: str | None
) -> None:
    board = space.board("saw")
    reply = await board.post(card)
    assert (reply["relay"], reply["second_relay"]) == (relay, second_relay)
    saw = machine_of(space.entry, "saw")
    assert saw.state.second_relay(saw.settings) == decision
    # Off with the machine, whatever happens to it.
    assert (await board.post(card, oops=True))["second_relay"] is False


async def test_second_relay_is_false_without_one(space: Space) -> None:
    assert (await space.board("metal-mill").post(BOTH))["second_relay"] is False
