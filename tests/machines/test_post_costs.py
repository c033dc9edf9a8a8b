"""What a board post spares itself (issue 19), and that the answers stay the same.

A heartbeat is judged without building the saved form (`save_keys`, `SaveGate`), a
board's reply is encoded once until it changes (`LastReply`), a card's digest is keyed
once (`FobKeys`), and the hub URL finds a machine by name without a scan. Each of
these is checked against what it replaces; the answers over real HTTP too.
"""

import dataclasses
import hashlib
import hmac
import json
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.makerspace_hub.const import CONF_NAME, CONF_WEBHOOK_ID
from custom_components.makerspace_hub.machines.board_protocol import (
    IDLE,
    UNKNOWN_MACHINE,
    WELCOME,
    LastReply,
    Reply,
    reply_body,
)
from custom_components.makerspace_hub.machines.fob_keys import DIGESTS_KEPT, FobKeys
from custom_components.makerspace_hub.machines.rules import MachineState
from custom_components.makerspace_hub.machines.sessions import REMOTE, Session
from custom_components.makerspace_hub.machines.state_file import (
    READINGS,
    READINGS_SAVE_INTERVAL_SEC,
    SavedState,
    SaveGate,
    saved_form,
)

from ..makerspace import ADA, IDLE as IDLE_SCREEN, Board, screen, welcome
from .test_state_file import busy_state

# A value other than busy_state()'s for every saved field: a field added to the state
# without one here fails `test_save_keys_split_the_saved_fields`, on purpose.
OTHER_VALUES: dict[str, Any] = {
    "oopsed": False,
    "locked_out": False,
    "lockout_reason": None,
    "state_lost": False,
    "card": None,
    "card_tag": None,
    "card_since": 1.0,
    "last_fob": None,
    "notice": None,
    "session": Session(kind=REMOTE, name="Admin", started=2.0),
    "uptime": 7.0,
    "boot_time": 3.0,
    "uptime_lag": 0.0,
    "throttled_until": None,
    "usage_seconds": 1.0,
    "relay_on_since": None,
    "idle_since": 4.0,
    "sessions": 1,
    "serviced_at_seconds": 0.0,
    "service_due_sent": False,
    "service_locked": False,
    "last_checkin": 5.0,
    "telemetry": {"wifi_signal_db": -70.0},
}


def test_save_keys_split_the_saved_fields_into_readings_and_the_rest() -> None:
    state = busy_state()
    durable, readings = state.save_keys()
    assert set(OTHER_VALUES) == set(SavedState.__annotations__)
    for name, value in OTHER_VALUES.items():
        other = dataclasses.replace(state, **{name: value})
        assert other.as_dict() != state.as_dict()
        other_durable, other_readings = other.save_keys()
        # A change of a saved field changes exactly the key it belongs to.
        assert (other_durable != durable, other_readings != readings) == (
            name not in READINGS,
            name in READINGS,
        ), name


def test_equal_keys_are_equal_saved_forms() -> None:
    state, twin = busy_state(), busy_state()
    twin.unknown_fobs, twin.heard = [], False  # memory only: not saved, not in the keys
    assert twin.save_keys() == state.save_keys()
    assert twin.as_dict() == state.as_dict()
    # A reading changed in place after the keys were taken is still seen as a change.
    keys = state.save_keys()
    state.telemetry["amps"] = 9.0
    assert state.save_keys() != keys


def test_the_saved_form_is_what_asdict_gives() -> None:
    for state in (MachineState(), MachineState.lost(), busy_state()):
        expected = saved_form(dataclasses.asdict(state))
        assert state.as_dict() == expected
        assert json.dumps(state.as_dict()) == json.dumps(expected)  # same order, too
    state = busy_state()
    saved = state.as_dict()
    saved["telemetry"]["amps"] = 1.0
    assert state.telemetry == busy_state().telemetry  # the saved form is a copy


def test_the_save_gate_writes_changes_at_once_and_readings_every_interval() -> None:
    gate, state = SaveGate(), busy_state()
    assert gate.due(*state.save_keys(), 100.0, force=False)  # the first state
    assert not gate.due(*state.save_keys(), 100.5, force=False)
    assert not gate.due(*state.save_keys(), 200.0, force=True)  # nothing to write
    state.last_checkin = 1_800_000_010.0  # a heartbeat
    assert not gate.due(*state.save_keys(), 101.0, force=False)
    assert gate.due(*state.save_keys(), 101.0, force=True)  # unloading: the newest
    state.uptime = 3700.0
    assert not gate.due(*state.save_keys(), 101.0 + READINGS_SAVE_INTERVAL_SEC - 1, force=False)
    assert gate.due(*state.save_keys(), 101.0 + READINGS_SAVE_INTERVAL_SEC, force=False)
    state.oopsed = False  # a change that matters
    assert gate.due(*state.save_keys(), 101.0 + READINGS_SAVE_INTERVAL_SEC, force=False)


def test_the_reply_body_is_the_replys_json() -> None:
    last = LastReply()
    for reply in (
        Reply(relay=False, screen=IDLE, oops_led=False, second_relay=False),
        Reply(relay=True, screen=WELCOME, oops_led=False, second_relay=True, name="Zoë"),
        Reply(relay=True, screen=WELCOME, oops_led=False, second_relay=True, name="Ada"),
        Reply(relay=False, screen=UNKNOWN_MACHINE, oops_led=True, second_relay=False),
        Reply(relay=False, screen=IDLE, oops_led=False, second_relay=False),
    ):
        expected = json.dumps(reply.as_json()).encode()
        assert reply_body(reply) == expected
        assert json.loads(reply_body(reply)) == reply.as_json()
        assert last.body(reply) == expected
        assert last.body(dataclasses.replace(reply)) == expected  # an equal reply


def test_digests_are_the_keyed_mac_and_kept_only_a_few_at_a_time() -> None:
    keys = FobKeys(b"k" * 32)
    for number in range(DIGESTS_KEPT * 2 + 1):
        fob = f"{number:010d}"
        expected = hmac.new(b"k" * 32, b"card\0" + fob.encode(), hashlib.sha256).hexdigest()
        assert keys.digest(fob) == expected
        assert keys.digest(fob) == expected  # kept
        assert len(keys._digests) <= DIGESTS_KEPT
    assert keys == FobKeys(b"k" * 32)  # what is kept is not part of the keys


async def test_the_reply_is_json_as_before(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    await board.post()
    for _ in range(2):  # the second reply comes from what the first encoded
        response = await client.post(
            f"/api/webhook/{board.webhook_id}",
            json={"machine_name": "metal-mill", "rfid_value": ADA, "uptime": 20.0},
        )
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        reply = json.loads(await response.read())
        assert screen(reply) == welcome("Ada")
        assert await response.read() == json.dumps(reply).encode()


async def test_the_hub_url_finds_machines_added_and_renamed_since_its_last_post(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    hammer = Board(client, "hammer")
    assert screen(await hammer.post()) == IDLE_SCREEN  # the names are read now
    lathe = ConfigSubentry(
        data={CONF_NAME: "lathe", CONF_WEBHOOK_ID: "f" * 64},  # type: ignore[arg-type]
        subentry_type="machine",
        title="lathe",
        unique_id="lathe",
    )
    assert await hass.config_entries.async_unload(hub.entry_id)
    hass.config_entries.async_add_subentry(hub, lathe)
    subentry = next(s for s in hub.subentries.values() if s.title == "hammer")
    hass.config_entries.async_update_subentry(
        hub, subentry, data={**subentry.data, CONF_NAME: "big-hammer"}
    )
    assert await hass.config_entries.async_setup(hub.entry_id)
    await hass.async_block_till_done()
    assert screen(await Board(client, "lathe").post()) == IDLE_SCREEN
    assert screen(await Board(client, "big-hammer").post()) == IDLE_SCREEN
    assert (await hammer.post())["display"] == UNKNOWN_MACHINE[0]
