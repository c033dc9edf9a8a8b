"""Boards get a real answer while their machine does not run, and retired URLs answer
relay off: through real HTTP into the webhooks, with a real setup retry (a hung disk)."""

import asyncio
from datetime import timedelta
import logging
import os
from pathlib import Path
import time
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import TestClient
from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState, ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import CONF_NAME, CONF_WEBHOOK_ID, DOMAIN
from custom_components.makerspace_hub.hub_options import HubOptions
from custom_components.makerspace_hub.machines.board_ids import CONF_RETIRED_WEBHOOK_IDS
from custom_components.makerspace_hub.storage.state_files import encode_state

from ..conftest import HUB_WEBHOOK_ID, make_hub_entry, make_subentry, setup_hub, subentry_by_title
from ..makerspace import (
    ADA,
    IDLE,
    MACHINES,
    Board,
    machine_of,
    makerspace_entry,
    members,
    screen,
    webhook_of,
    welcome,
    write_members,
)

ORANGE, RED = [1.0, 0.5, 0.0], [1.0, 0.0, 0.0]


def early(display: str, colour: list[float] = ORANGE) -> dict[str, Any]:
    """Return the whole six-key reply of a board whose machine does not run."""
    return {
        "relay": False,
        "display": display,
        "oops_led": False,
        "status_led_rgb": colour,
        "status_led_brightness": 0.5,
        "second_relay": False,
    }


STARTING = early("Hub starting\nplease wait")
NOT_RUNNING = early("Hub not running\nplease wait")
RETRYING = early("Hub not ready\nretrying soon")
FAILED = early("Hub failed\nask an admin", RED)
NEW_URL_NEEDED = early("New URL\nneeded", RED)


async def _client(hass: HomeAssistant, make_client: ClientSessionGenerator) -> TestClient:
    """Return a board's HTTP client; the integration runs, with no hub yet."""
    assert await async_setup_component(hass, DOMAIN, {})
    return await make_client()


async def _logged_in(board: Board) -> None:
    """Present Ada's card afresh (card out, card in) and check she is let in."""
    await board.post()
    assert screen(await board.post(ADA)) == welcome("Ada")


# --- while the hub does not run ----------------------------------------------------


async def test_a_setup_retry_answers_relay_off_and_ends_the_saved_session(
    hass: HomeAssistant, config_dir: Path, hass_client_no_auth: ClientSessionGenerator
) -> None:
    client = await _client(hass, hass_client_no_auth)
    write_members(config_dir, members(dt_util.now().date()))
    laser = {CONF_NAME: "laser", CONF_WEBHOOK_ID: "l" * 64, "authorizations_or": ["Metal Mill"]}
    entry = make_hub_entry(subentries=[make_subentry("machine", "laser", laser)])
    entry.add_to_hass(hass)
    folder = config_dir / ".storage" / DOMAIN / entry.entry_id / "machine"
    folder.mkdir(parents=True)
    fifo = folder / "laser.json"
    os.mkfifo(fifo)  # reading blocks until someone writes: a hung disk
    board = Board(client, "laser", "l" * 64)

    setup = hass.async_create_task(hass.config_entries.async_setup(entry.entry_id))
    await asyncio.sleep(0.2)
    assert entry.state is ConfigEntryState.SETUP_IN_PROGRESS
    assert await board.post(ADA) == STARTING
    hub_board = Board(client, "laser")  # the hub's URL too
    assert await hub_board.post(ADA) == STARTING
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    assert not await setup
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert await board.post(ADA) == RETRYING

    # Ada's session was saved with the relay on; the board has been told relay off.
    now = time.time()
    session = {
        "kind": "member",
        "name": "Ada",
        "started": now - 60,
        "account_id": "1",
        "full_name": "Ada Tester",
        "authorizations": ["Metal Mill"],
    }
    saved = encode_state("machine", "laser", {"session": session, "relay_on_since": now - 60}, 0)

    def disk_answers() -> None:
        with fifo.open("wb") as writer:
            writer.write(saved)

    await hass.async_add_executor_job(disk_answers)
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=90))
    await hass.async_block_till_done()
    async with entry.setup_lock:
        pass
    assert entry.state is ConfigEntryState.LOADED
    laser_machine = machine_of(entry, "laser")
    assert laser_machine.state.session is None
    assert laser_machine.reply.relay is False
    # The card still in the reader does not switch it on again: out and in does.
    assert (await board.post(ADA))["relay"] is False
    await _logged_in(board)


async def test_a_board_told_off_while_its_hub_is_unloaded_stays_off(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill", webhook_of(hub, "metal-mill"))
    await _logged_in(board)
    assert await hass.config_entries.async_unload(hub.entry_id)
    assert await board.post(ADA) == NOT_RUNNING
    assert await Board(client, "metal-mill").post(ADA) == NOT_RUNNING

    assert await hass.config_entries.async_setup(hub.entry_id)
    await hass.async_block_till_done()
    mill = machine_of(hub, "metal-mill")
    assert mill.state.session is None
    assert (await board.post(ADA))["relay"] is False  # a reload never switches it on again
    await _logged_in(board)


async def test_the_hub_url_names_the_machine_while_not_running(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    assert await hass.config_entries.async_unload(hub.entry_id)
    url = f"/api/webhook/{HUB_WEBHOOK_ID}"
    response = await client.post(url, json={"machine_name": "nope"})
    assert (await response.json())["display"] == "Unknown machine\ncheck its name"
    response = await client.post(url, json={"rfid_value": ADA})
    assert response.status == 400
    response = await client.get(url)
    assert response.status == 405
    response = await client.post(
        f"/api/webhook/{webhook_of(hub, 'metal-mill')}", json={"machine_name": "saw"}
    )
    assert (await response.json())["relay"] is False


async def test_a_failed_setup_answers_relay_off(
    hass: HomeAssistant, config_dir: Path, hass_client_no_auth: ClientSessionGenerator
) -> None:
    client = await _client(hass, hass_client_no_auth)
    entry = makerspace_entry(expiry_grace_days="seven")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert await Board(client, "metal-mill").post(ADA) == FAILED


async def test_an_invalid_machine_answers_relay_off(
    hass: HomeAssistant, config_dir: Path, hass_client_no_auth: ClientSessionGenerator
) -> None:
    client = await _client(hass, hass_client_no_auth)
    broken = {CONF_NAME: "Not A Board Name", CONF_WEBHOOK_ID: "e" * 64}
    entry = await setup_hub(
        hass, make_hub_entry(subentries=[make_subentry("machine", "x", broken)])
    )
    assert entry.state is ConfigEntryState.LOADED
    reply = await Board(client, "Not A Board Name", "e" * 64).post(ADA)
    assert reply == early("Machine setup\nneeds an admin", RED)


async def test_machines_of_a_setup_that_failed_after_they_started_answer_no_board(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, hass_storage: dict[str, Any]
) -> None:
    board = Board(client, "metal-mill", webhook_of(hub, "metal-mill"))
    await _logged_in(board)
    # The machines start, then the platforms (Home Assistant's, not ours) cannot.
    with patch.object(
        hass.config_entries, "async_forward_entry_setups", side_effect=ConfigEntryNotReady
    ):
        assert not await hass.config_entries.async_reload(hub.entry_id)
    assert hub.state is ConfigEntryState.SETUP_RETRY
    assert await board.post(ADA) == RETRYING
    # The relay-off waits for the machine's next start (saved), not in a stopped one.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass_storage["makerspace_hub.told_off"]["data"] == {
        subentry_by_title(hub, "metal-mill").subentry_id: "hub_not_running"
    }

    # The hub comes back without the machine (hand-edited into an invalid one): the
    # machine of the failed setup must not answer for it.
    mill = subentry_by_title(hub, "metal-mill")
    hass.config_entries.async_update_subentry(
        hub, mill, data={**mill.data, "authorizations_or": "Metal Mill"}
    )
    assert await hass.config_entries.async_reload(hub.entry_id)
    await hass.async_block_till_done()
    assert hub.state is ConfigEntryState.LOADED
    assert await board.post(ADA) == early("Machine setup\nneeds an admin", RED)


async def test_a_disabled_or_deleted_hub_is_answered_by_home_assistant(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    url = f"/api/webhook/{webhook_of(hub, 'metal-mill')}"
    await hass.config_entries.async_set_disabled_by(hub.entry_id, ConfigEntryDisabler.USER)
    await hass.async_block_till_done()
    assert await (await client.post(url, json={})).text() == ""
    await hass.config_entries.async_set_disabled_by(hub.entry_id, None)
    await hass.async_block_till_done()
    assert hub.state is ConfigEntryState.LOADED
    assert (await client.post(url, json={})).status == 200
    assert (await client.post(url, json={})).content_type == "application/json"
    await hass.config_entries.async_remove(hub.entry_id)
    await hass.async_block_till_done()
    assert await (await client.post(url, json={})).text() == ""


async def test_machines_added_at_runtime_answer_at_once(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    assert await hass.config_entries.async_unload(hub.entry_id)
    lathe = ConfigSubentry(
        data={CONF_NAME: "lathe", CONF_WEBHOOK_ID: "f" * 64},  # type: ignore[arg-type]
        subentry_type="machine",
        title="lathe",
        unique_id="lathe",
    )
    hass.config_entries.async_add_subentry(hub, lathe)
    board = Board(client, "lathe", "f" * 64)
    assert await board.post() == NOT_RUNNING
    assert await hass.config_entries.async_setup(hub.entry_id)
    await hass.async_block_till_done()
    assert screen(await board.post()) == IDLE


async def test_a_hub_added_through_the_ui_answers_at_once(
    hass: HomeAssistant, config_dir: Path, hass_client_no_auth: ClientSessionGenerator
) -> None:
    client = await _client(hass, hass_client_no_auth)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Second Space"}
    )
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    response = await client.post(
        f"/api/webhook/{entry.data[CONF_WEBHOOK_ID]}", json={"machine_name": "lathe"}
    )
    reply = await response.json()
    assert (reply["relay"], reply["display"]) == (False, "Unknown machine\ncheck its name")


# --- retired URLs -------------------------------------------------------------------


async def test_a_removed_machines_url_answers_new_url_needed(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    hammer = next(s for s in hub.subentries.values() if s.title == "hammer")
    old = hammer.data[CONF_WEBHOOK_ID]
    hass.config_entries.async_remove_subentry(hub, hammer.subentry_id)
    await hass.async_block_till_done()
    assert hub.state is ConfigEntryState.LOADED
    assert [old, hammer.subentry_id] in hub.data[CONF_RETIRED_WEBHOOK_IDS]
    assert await Board(client, "hammer", old).post(ADA) == NEW_URL_NEEDED


async def test_stored_retired_urls_answer_from_the_start(
    hass: HomeAssistant, config_dir: Path, hass_client_no_auth: ClientSessionGenerator
) -> None:
    client = await _client(hass, hass_client_no_auth)
    """As after a restart: the retired ids are read from the stored hub entry."""
    write_members(config_dir, members(dt_util.now().date()))
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test Makerspace",
        unique_id="test_makerspace",
        data={
            CONF_NAME: "Test Makerspace",
            CONF_WEBHOOK_ID: HUB_WEBHOOK_ID,
            CONF_RETIRED_WEBHOOK_IDS: [["r" * 64, None]],
        },
        options=HubOptions().as_options(),
        subentries_data=list(MACHINES),
    )
    await setup_hub(hass, entry)
    board = Board(client, "metal-mill", "r" * 64)
    await board.post()
    assert await board.post(ADA) == NEW_URL_NEEDED
    assert machine_of(entry, "metal-mill").state.session is None
    assert machine_of(entry, "metal-mill").state.sessions == 0
    await _logged_in(Board(client, "metal-mill"))


async def test_a_post_to_a_retired_url_ends_the_named_machines_session(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    board = Board(client, "metal-mill", webhook_of(hub, "metal-mill"))
    await _logged_in(board)
    old = webhook_of(hub, "metal-mill")
    mill = next(s for s in hub.subentries.values() if s.title == "metal-mill")
    hass.config_entries.async_update_subentry(
        hub, mill, data={**mill.data, CONF_WEBHOOK_ID: "n" * 64}
    )
    await hass.async_block_till_done()
    new_board = Board(client, "metal-mill", "n" * 64)
    await _logged_in(new_board)
    # Stopping is for everyone: a relay-off reply ends the session it speaks for.
    assert await board.post(ADA) == NEW_URL_NEEDED
    assert machine_of(hub, "metal-mill").state.session is None
    assert (await new_board.post(ADA))["relay"] is False
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("custom_components")]
    assert not [line for line in ours if old in line or "n" * 64 in line]


async def test_a_new_board_url_retires_the_old_one_for_good(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    old = webhook_of(hub, "metal-mill")
    board = Board(client, "metal-mill", old)
    await _logged_in(board)
    mill = subentry_by_title(hub, "metal-mill")
    result = await hass.config_entries.subentries.async_init(
        (hub.entry_id, "machine"),
        context={"source": "reconfigure", "subentry_id": mill.subentry_id},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            CONF_NAME: "metal-mill",
            "authorizations_or": ["Metal Mill"],
            "unauthorized_warn_only": False,
            "always_enabled": False,
            "has_second_relay": False,
            "new_board_url": True,
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "new_board_url"
    new = webhook_of(hub, "metal-mill")
    assert new != old
    assert result["description_placeholders"]["board_url"].endswith(f"/api/webhook/{new}")
    assert hub.data[CONF_RETIRED_WEBHOOK_IDS] == [[old, mill.subentry_id]]

    # The old URL never judges a card again, not even one presented afresh.
    assert await board.post(ADA) == NEW_URL_NEEDED
    mill_machine = machine_of(hub, "metal-mill")
    assert mill_machine.state.session is None
    sessions = mill_machine.state.sessions
    assert await board.post() == NEW_URL_NEEDED
    assert await board.post(ADA) == NEW_URL_NEEDED
    assert mill_machine.state.session is None
    assert mill_machine.state.sessions == sessions
    await _logged_in(Board(client, "metal-mill", new))

    # The retired id is part of the stored hub entry: unloaded or set up again, it
    # keeps answering relay off.
    assert await hass.config_entries.async_unload(hub.entry_id)
    assert await board.post(ADA) == NEW_URL_NEEDED
    assert await hass.config_entries.async_setup(hub.entry_id)
    await hass.async_block_till_done()
    assert await board.post(ADA) == NEW_URL_NEEDED
    assert machine_of(hub, "metal-mill").state.sessions == sessions + 1

    ours = [r.getMessage() for r in caplog.records if r.name.startswith("custom_components")]
    assert ours
    assert not [line for line in ours if old in line or new in line]
