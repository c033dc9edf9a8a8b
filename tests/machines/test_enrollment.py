"""Enrolling a card: the pure rules (`enrollment`), then the action through a real hub."""

import asyncio
from collections.abc import Awaitable
from datetime import date, timedelta
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)
import voluptuous as vol

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.machines.board_protocol import (
    CARD_CAPTURED,
    ENROLL_WAITING,
    IDLE,
    BoardUpdate,
)
from custom_components.makerspace_hub.machines.enrollment import CapturedCard, Enrollment
from custom_components.makerspace_hub.machines.fob_keys import FobKeys
from custom_components.makerspace_hub.machines.installation import async_get_fob_keys
from custom_components.makerspace_hub.machines.members import parse_members
from custom_components.makerspace_hub.machines.rules import MachineState
from custom_components.makerspace_hub.machines.sessions import (
    CARD_UNKNOWN,
    MEMBER,
    AccessRefusedError,
    Roster,
    Session,
)
from custom_components.makerspace_hub.machines.settings import MachineSettings

from ..conftest import setup_hub, subentry_by_title
from ..makerspace import (
    ADA,
    KENNETH,
    UNKNOWN,
    Board,
    machine_of,
    makerspace_entry,
    members,
    write_members,
)

# --- the pure rules ----------------------------------------------------------------------

TODAY = date(2026, 11, 22)
NOW = 1_800_000_000.0
KEYS = FobKeys(b"k" * 32)
MILL = MachineSettings(name="mill", authorizations_or=("Metal Mill",))
ADA_CODE, NEW_CODE = "0012345678", "4242424242"


def roster() -> Roster:
    return Roster(parse_members(json.dumps(members(TODAY)).encode()), TODAY, 7, KEYS)


def update(fob: str | None, uptime: float = 100) -> BoardUpdate:
    return BoardUpdate(machine_name="mill", oops=False, fob=fob, uptime=uptime)


def enroll_post(
    enrollment: Enrollment, state: MachineState, fob: str | None, uptime: float = 100
) -> tuple[list[str], CapturedCard | None]:
    events, card = enrollment.apply_update(state, update(fob, uptime), MILL, roster(), NOW)
    return [event.type for event in events], card


def waiting_at(state: MachineState) -> Enrollment:
    enrollment = Enrollment()
    enrollment.start(state, MILL, stopped=False)
    return enrollment


def test_a_new_card_is_captured_not_judged_and_not_fresh_afterwards() -> None:
    state = MachineState(card=None)
    enrollment = waiting_at(state)
    assert enrollment.reply(state, MILL).screen == ENROLL_WAITING
    assert enrollment.reply(state, MILL).relay is False

    assert enroll_post(enrollment, state, NEW_CODE) == (
        ["card_enrolled"],  # no unknown_fob event
        CapturedCard(fob_code=NEW_CODE, fob_tag=KEYS.tag(NEW_CODE)),
    )
    assert state.unknown_fobs == []  # not counted towards guessing
    assert state.notice is None
    assert (state.card, state.last_fob) == (KEYS.digest(NEW_CODE), KEYS.tag(NEW_CODE))
    assert enrollment.reply(state, MILL).screen == CARD_CAPTURED
    # Still in the reader: a heartbeat, nothing judged, still the captured display.
    assert enroll_post(enrollment, state, NEW_CODE) == ([], None)
    assert enrollment.reply(state, MILL).screen == CARD_CAPTURED
    assert not enrollment.over(state, MILL)
    # Out: the enrollment is over; in again: judged like any card.
    assert enroll_post(enrollment, state, None) == ([], None)
    assert enrollment.over(state, MILL)
    assert enrollment.end() is True
    assert enrollment.reply(state, MILL).screen == IDLE
    assert enroll_post(enrollment, state, NEW_CODE) == (["unknown_fob"], None)


def test_a_members_card_is_captured_with_its_member_and_logs_in_only_when_presented_again() -> None:
    state = MachineState(card=None)
    enrollment = waiting_at(state)
    events, card = enroll_post(enrollment, state, ADA_CODE)
    assert events == ["card_enrolled"]
    assert card is not None
    assert card.response() == {
        "fob_code": ADA_CODE,
        "fob_tag": KEYS.tag(ADA_CODE),
        "member": {"full_name": "Ada Tester", "account_id": "1"},
    }
    assert ADA_CODE not in repr(card)
    assert state.session is None
    assert enrollment.reply(state, MILL).relay is False
    assert enroll_post(enrollment, state, ADA_CODE) == ([], None)
    assert state.session is None
    assert enroll_post(enrollment, state, None)[1] is None
    assert enroll_post(enrollment, state, ADA_CODE) == (["login"], None)
    assert enrollment.over(state, MILL)  # the relay came on


def test_only_a_card_arriving_is_captured() -> None:
    # The card in the reader when enrollment starts.
    state = MachineState(card=KEYS.digest(ADA_CODE))
    enrollment = waiting_at(state)
    assert enroll_post(enrollment, state, ADA_CODE) == ([], None)
    assert enrollment.waiting
    # A card whose arrival is unknown (a board never heard from, told relay off).
    state = MachineState()
    assert state.card == CARD_UNKNOWN
    enrollment = waiting_at(state)
    assert enroll_post(enrollment, state, NEW_CODE) == ([], None)
    assert enrollment.waiting
    assert enroll_post(enrollment, state, None) == ([], None)
    assert enroll_post(enrollment, state, NEW_CODE)[1] is not None
    # A card on a board that rebooted in the same post: not presented since the reboot.
    state = MachineState(card=None)
    enrollment = waiting_at(state)
    assert enroll_post(enrollment, state, None, uptime=100) == ([], None)
    events, card = enroll_post(enrollment, state, NEW_CODE, uptime=5)
    assert (events, card) == (["reboot"], None)
    assert enrollment.waiting
    assert state.card == KEYS.digest(NEW_CODE)  # there now; only a new arrival counts
    assert enroll_post(enrollment, state, NEW_CODE) == ([], None)


def test_enrollment_starts_only_on_a_machine_that_is_off() -> None:
    state = MachineState(card=None)
    state.remote_enable(MILL, "Admin", NOW)
    with pytest.raises(AccessRefusedError) as err:
        Enrollment().start(state, MILL, stopped=False)
    assert err.value.reason == "machine_in_use"
    always = MachineSettings(name="compressor", always_enabled=True)
    with pytest.raises(AccessRefusedError):
        Enrollment().start(MachineState(card=None), always, stopped=False)
    with pytest.raises(AccessRefusedError) as err:
        Enrollment().start(MachineState(card=None), MILL, stopped=True)
    assert err.value.reason == "enroll_stopped"
    enrollment = waiting_at(MachineState(card=None))
    with pytest.raises(AccessRefusedError) as err:
        enrollment.start(MachineState(card=None), MILL, stopped=False)
    assert err.value.reason == "enroll_busy"
    # An oopsed machine is off: a card may be enrolled there (the Oops LED stays on).
    oopsed = MachineState(card=None, oopsed=True)
    enrollment = waiting_at(oopsed)
    assert enrollment.reply(oopsed, MILL).oops_led is True


def test_a_relay_coming_on_ends_a_waiting_enrollment_and_its_display() -> None:
    state = MachineState(card=None)
    enrollment = waiting_at(state)
    assert not enrollment.over(state, MILL)
    state.remote_enable(MILL, "Admin", NOW)
    assert enrollment.over(state, MILL)
    # Never a relay-off display over a relay that is on.
    assert enrollment.reply(state, MILL).relay is True
    assert enrollment.reply(state, MILL).screen != ENROLL_WAITING
    assert Enrollment().over(state, MILL) is None  # no enrollment: nothing to end
    assert Enrollment().end() is False


# --- the action, through a real hub ------------------------------------------------------

WAITING_DISPLAY = "Enroll: present\nnew card"
CAPTURED_DISPLAY = "Card captured\nremove card"


def enroll(
    hass: HomeAssistant, user: MockUser | None = None, **data: Any
) -> Awaitable[dict[str, Any] | None]:
    return hass.services.async_call(
        DOMAIN,
        "enroll_card",
        {"machine": "metal-mill"} | data,
        blocking=True,
        return_response=True,
        context=Context(user_id=None if user is None else user.id),
    )


async def start_enrolling(
    hass: HomeAssistant, hub: MockConfigEntry, user: MockUser | None = None, **data: Any
) -> asyncio.Task[dict[str, Any] | None]:
    """Start the action (it waits for a card) and return it once the board shows it."""
    # Not a Home Assistant task: `async_block_till_done` would wait for the card.
    task = asyncio.get_running_loop().create_task(enroll(hass, user, **data))
    name = data.get("machine", "metal-mill")
    for _ in range(50):
        await asyncio.sleep(0)
        if machine_of(hub, name).reply.display == WAITING_DISPLAY or task.done():
            break
    assert not task.done(), task.result()
    return task


def access_event(hass: HomeAssistant, hub: MockConfigEntry, name: str = "metal-mill") -> Any:
    subentry_id = subentry_by_title(hub, name).subentry_id
    entity_id = er.async_get(hass).async_get_entity_id(
        "event", DOMAIN, f"{hub.entry_id}_{subentry_id}_access"
    )
    assert entity_id
    return hass.states.get(entity_id)


async def test_an_admin_enrolls_a_new_card(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    client: TestClient,
    hass_admin_user: MockUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    board = Board(client, "metal-mill")
    await board.post()
    before = access_event(hass, hub).state
    task = await start_enrolling(hass, hub, hass_admin_user)
    reply = await board.post()
    assert (reply["relay"], reply["display"], reply["status_led_rgb"]) == (
        False,
        WAITING_DISPLAY,
        [1.0, 0.5, 0.0],
    )

    reply = await board.post(UNKNOWN)
    assert (reply["relay"], reply["display"]) == (False, CAPTURED_DISPLAY)
    keys = await async_get_fob_keys(hass)
    assert await task == {
        "fob_code": "4242424242",
        "fob_tag": keys.tag("4242424242"),
        "member": None,
    }
    await hass.async_block_till_done()
    # Not judged: no unknown_fob event, only the capture's audit trail.
    event = access_event(hass, hub)
    assert event.state != before
    assert event.attributes["event_type"] == "card_enrolled"
    assert (event.attributes["fob"], event.attributes["member"]) == (
        keys.tag("4242424242"),
        None,
    )
    assert (await board.post(UNKNOWN))["display"] == CAPTURED_DISPLAY
    assert (await board.post())["display"] == "Please Insert\nRFID Card"
    # Presented again, it is an unknown card like any other.
    assert (await board.post(UNKNOWN))["display"] == "Unknown RFID"
    await hass.async_block_till_done()
    assert access_event(hass, hub).attributes["event_type"] == "unknown_fob"

    # The code is the response's alone: in no state, attribute or log line.
    assert keys.tag("4242424242") in caplog.text  # the tag is what is logged
    assert "4242424242" not in caplog.text
    for state in hass.states.async_all():
        assert "4242424242" not in f"{state.state} {state.attributes}"
    assert "4242424242" not in str(machine_of(hub, "metal-mill").diagnostics())


async def test_a_members_card_returns_the_member_and_logs_in_only_when_presented_again(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    await board.post()
    task = await start_enrolling(hass, hub)  # an automation: no user
    reply = await board.post(ADA)
    assert (reply["relay"], reply["display"]) == (False, CAPTURED_DISPLAY)
    response = await task
    assert response is not None
    assert response["fob_code"] == "0012345678"  # the full, zero-padded code
    assert response["member"] == {"full_name": "Ada Tester", "account_id": "1"}
    # The captured card in the reader does not log in: it is not fresh.
    reply = await board.post(ADA)
    assert (reply["relay"], reply["display"]) == (False, CAPTURED_DISPLAY)
    assert machine_of(hub, "metal-mill").state.session is None
    await board.post()
    reply = await board.post(ADA)
    assert (reply["relay"], reply["display"]) == (True, "Welcome,\nAda")


async def test_the_card_already_in_the_reader_is_not_captured(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    assert (await board.post(KENNETH))["display"] == "Unauthorized"
    task = await start_enrolling(hass, hub)
    reply = await board.post(KENNETH)
    assert (reply["relay"], reply["display"]) == (False, WAITING_DISPLAY)
    await asyncio.sleep(0)
    assert not task.done()
    assert (await board.post())["display"] == WAITING_DISPLAY
    assert (await board.post(KENNETH))["display"] == CAPTURED_DISPLAY
    response = await task
    assert response is not None
    assert response["member"] == {"full_name": "Kenneth Tester", "account_id": "2"}


async def test_a_running_session_is_not_ended_by_an_enrollment(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    assert (await board.post(ADA))["relay"] is True
    with pytest.raises(ServiceValidationError) as err:
        await enroll(hass)
    assert err.value.translation_key == "machine_in_use"
    assert str(err.value) == "metal-mill is in use (its relay is on); enroll a card while it is off"
    reply = await board.post(ADA)
    assert (reply["relay"], reply["display"]) == (True, "Welcome,\nAda")
    with pytest.raises(ServiceValidationError) as err:
        await enroll(hass, machine="compressor")  # always enabled: its relay is on
    assert err.value.translation_key == "machine_in_use"


async def test_switching_the_machine_on_ends_the_enrollment(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    await board.post()
    task = await start_enrolling(hass, hub)
    machine_of(hub, "metal-mill").async_remote_enable("Admin")
    with pytest.raises(ServiceValidationError) as err:
        await task
    assert err.value.translation_key == "machine_in_use"
    reply = await board.post()
    assert (reply["relay"], reply["display"]) == (True, "OVERRIDE BY\nAdmin")


async def test_no_card_in_time_is_an_error_and_the_board_shows_its_usual_display(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, freezer: FrozenDateTimeFactory
) -> None:
    board = Board(client, "metal-mill")
    await board.post()
    task = await start_enrolling(hass, hub)
    freezer.tick(timedelta(seconds=59))
    async_fire_time_changed(hass)
    await asyncio.sleep(0)
    assert not task.done()  # the default is 60 s
    assert (await board.post())["display"] == WAITING_DISPLAY
    freezer.tick(timedelta(seconds=2))
    async_fire_time_changed(hass)
    with pytest.raises(ServiceValidationError) as err:
        await task
    assert err.value.translation_key == "enroll_timeout"
    assert (await board.post())["display"] == "Please Insert\nRFID Card"
    # A card now is judged as always.
    assert (await board.post(ADA))["relay"] is True

    await board.post()
    task = await start_enrolling(hass, hub, timeout=5)
    freezer.tick(timedelta(seconds=6))
    async_fire_time_changed(hass)
    with pytest.raises(ServiceValidationError):
        await task


async def test_one_enrollment_at_a_machine_at_a_time(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    await board.post()
    first = await start_enrolling(hass, hub)
    with pytest.raises(ServiceValidationError) as err:
        await enroll(hass)
    assert err.value.translation_key == "enroll_busy"
    # Another machine may enroll meanwhile.
    await Board(client, "hammer").post()
    second = await start_enrolling(hass, hub, machine="hammer")
    await board.post(UNKNOWN)
    assert (await first)["fob_code"] == "4242424242"  # type: ignore[index]
    assert not second.done()
    second.cancel()


async def test_who_may_enroll_and_where(
    hass: HomeAssistant,
    config_dir: Path,
    hass_admin_user: MockUser,
    hass_owner_user: MockUser,
) -> None:
    write_members(config_dir, members(dt_util.now().date()))
    # Even with every user allowed to make machines usable: a full code is for admins.
    hub = await setup_hub(hass, makerspace_entry(non_admins_make_usable=True))
    member = await hass.auth.async_create_user("Shop tablet", group_ids=[GROUP_ID_USER])
    for user_id in (member.id, "0123456789abcdef"):  # a user; an unknown user id
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN,
                "enroll_card",
                {"machine": "metal-mill"},
                blocking=True,
                return_response=True,
                context=Context(user_id=user_id),
            )
        assert err.value.translation_key == "enroll_admin_required"
    assert machine_of(hub, "metal-mill").reply.display != WAITING_DISPLAY
    with pytest.raises(ServiceValidationError) as err:
        await enroll(hass, hass_admin_user, machine="laser")
    assert err.value.translation_key == "unknown_machine"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "enroll_card",
            {"machine": "metal-mill", "device_id": device_of(hass, hub, "hammer")},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "enroll_one_machine"
    for timeout in (4, 601):
        with pytest.raises(vol.Invalid, match="timeout"):
            await enroll(hass, hass_admin_user, timeout=timeout)
    # A device target works like the name.
    task = asyncio.get_running_loop().create_task(
        hass.services.async_call(
            DOMAIN,
            "enroll_card",
            {"device_id": device_of(hass, hub, "hammer"), "timeout": 5},
            blocking=True,
            return_response=True,
            context=Context(user_id=hass_owner_user.id),
        )
    )
    for _ in range(50):
        await asyncio.sleep(0)
        if machine_of(hub, "hammer").reply.display == WAITING_DISPLAY:
            break
    assert machine_of(hub, "hammer").reply.display == WAITING_DISPLAY
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The caller went away: the board shows its usual display again.
    assert machine_of(hub, "hammer").reply.display == "Please Insert\nRFID Card"


def device_of(hass: HomeAssistant, hub: MockConfigEntry, name: str) -> str:
    # (Not `async_get_device`: deprecated in the newest Home Assistant.)
    subentry_id = subentry_by_title(hub, name).subentry_id
    (device,) = (
        device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), hub.entry_id)
        if (DOMAIN, subentry_id) in device.identifiers
    )
    return device.id


async def test_unloading_the_hub_ends_the_enrollment(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    await board.post()
    task = await start_enrolling(hass, hub)
    assert await hass.config_entries.async_unload(hub.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await task
    assert err.value.translation_key == "enroll_stopped"
    assert await hass.config_entries.async_setup(hub.entry_id)
    await hass.async_block_till_done()
    reply = await board.post()
    assert reply["display"] == "Please Insert\nRFID Card"


async def test_home_assistant_stopping_ends_the_enrollment(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    await Board(client, "metal-mill").post()
    task = await start_enrolling(hass, hub)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    with pytest.raises(ServiceValidationError) as err:
        await task
    assert err.value.translation_key == "enroll_stopped"
    assert machine_of(hub, "metal-mill").reply.display == "Please Insert\nRFID Card"


def test_no_enrollment_while_a_session_exists_even_with_the_relay_off() -> None:
    # A session whose relay is off (here: throttled, as a restored file may hold)
    # belongs to its card: capturing another card must never leave it tied to that.
    state = MachineState(
        card=None,
        session=Session(kind=MEMBER, name="Ada", started=0.0, account_id="1"),
        throttled_until=10**12,
    )
    settings = MachineSettings(name="laser", authorizations_or=("Metal Mill",))
    assert not state.relay(settings)
    with pytest.raises(AccessRefusedError, match="machine_in_use"):
        Enrollment().start(state, settings, stopped=False)
