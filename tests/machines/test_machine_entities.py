"""Entities of a machine and of the hub, driven by real board posts and real actions."""

from datetime import timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.auth.models import User
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.machines.board_protocol import BoardUpdate
from custom_components.makerspace_hub.machines.installation import async_get_fob_keys
from custom_components.makerspace_hub.storage.hub_storage import DATA_STORAGE, StateStorage

from ..conftest import setup_hub, subentry_by_title
from ..makerspace import ADA, Board, machine_of, makerspace_entry, members, write_members
from ..slow_disk import SlowDisk


def entity_id(
    hass: HomeAssistant, hub: MockConfigEntry, platform: str, machine: str, key: str
) -> str:
    subentry_id = subentry_by_title(hub, machine).subentry_id
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{hub.entry_id}_{subentry_id}_{key}"
    )
    assert found, (platform, machine, key)
    return found


def state(hass: HomeAssistant, hub: MockConfigEntry, platform: str, machine: str, key: str):
    found = hass.states.get(entity_id(hass, hub, platform, machine, key))
    assert found is not None
    return found


async def test_machine_entities_follow_a_session(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, freezer: FrozenDateTimeFactory
) -> None:
    board = Board(client, "metal-mill")
    assert state(hass, hub, "switch", "metal-mill", "relay").state == "off"
    assert state(hass, hub, "sensor", "metal-mill", "rfid").state == STATE_UNKNOWN
    assert state(hass, hub, "binary_sensor", "metal-mill", "online").state == "off"

    await board.post(ADA)
    await hass.async_block_till_done()
    assert state(hass, hub, "switch", "metal-mill", "relay").state == "on"
    rfid = state(hass, hub, "sensor", "metal-mill", "rfid")
    assert rfid.state == "Ada"
    assert rfid.attributes["card_present"] is True
    keys = await async_get_fob_keys(hass)
    assert rfid.attributes["last_fob"] == keys.tag("0012345678")
    assert rfid.attributes["member"] == "Ada Tester"
    assert rfid.attributes["session_start"] is not None
    assert state(hass, hub, "binary_sensor", "metal-mill", "online").state == "on"
    assert state(hass, hub, "sensor", "metal-mill", "sessions").state == "1"
    access = state(hass, hub, "event", "metal-mill", "access")
    assert access.attributes["event_type"] == "login"
    assert access.attributes["member"] == "Ada Tester"
    assert access.attributes["machine"] == "metal-mill"
    assert access.attributes["fob"] == keys.tag("0012345678")

    # Two hours of work: the usage sensor moves while the relay is on.
    freezer.tick(timedelta(hours=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert float(state(hass, hub, "sensor", "metal-mill", "usage").state) == pytest.approx(
        2, abs=0.02
    )
    # The board is silent for 30 s: offline.
    assert state(hass, hub, "binary_sensor", "metal-mill", "online").state == "off"

    await board.post()
    await hass.async_block_till_done()
    assert state(hass, hub, "switch", "metal-mill", "relay").state == "off"
    assert state(hass, hub, "sensor", "metal-mill", "rfid").attributes["card_present"] is False
    freezer.tick(timedelta(hours=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert float(state(hass, hub, "sensor", "metal-mill", "usage").state) == pytest.approx(
        2, abs=0.02
    )


async def test_oops_button_binary_sensor_and_clear(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": entity_id(hass, hub, "button", "hammer", "oops")},
        blocking=True,
    )
    assert state(hass, hub, "binary_sensor", "hammer", "oops").state == "on"
    assert (await Board(client, "hammer").post(ADA))["oops_led"] is True
    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": entity_id(hass, hub, "button", "hammer", "clear")},
        blocking=True,
    )
    assert state(hass, hub, "binary_sensor", "hammer", "oops").state == "off"


async def test_lockout_lock(hass: HomeAssistant, hub: MockConfigEntry, client: TestClient) -> None:
    lock = entity_id(hass, hub, "lock", "metal-mill", "lockout")
    board = Board(client, "metal-mill")
    await board.post(ADA)
    await hass.services.async_call("lock", "lock", {"entity_id": lock}, blocking=True)
    assert hass.states.get(lock).state == "locked"
    reply = await board.post(ADA)
    assert (reply["relay"], reply["display"]) == (False, "Down for\nmaintenance")
    await hass.services.async_call("lock", "unlock", {"entity_id": lock}, blocking=True)
    assert hass.states.get(lock).state == "unlocked"


async def test_relay_switch_remote_enable_and_off(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, hass_admin_user: MockUser
) -> None:
    relay = entity_id(hass, hub, "switch", "metal-mill", "relay")
    board = Board(client, "metal-mill")
    # The board is known (a board never heard from may just have powered up: its first
    # post ends a remote enable, see test_fail_closed).
    await board.post()
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": relay},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert hass.states.get(relay).state == "on"
    reply = await board.post()
    assert (reply["relay"], reply["display"]) == (True, f"OVERRIDE BY\n{hass_admin_user.name}")
    event = state(hass, hub, "event", "metal-mill", "access")
    assert event.attributes["event_type"] == "override_login"
    assert event.attributes["source"] == "home_assistant"

    await hass.services.async_call("switch", "turn_off", {"entity_id": relay}, blocking=True)
    assert hass.states.get(relay).state == "off"
    await board.post(ADA)
    await hass.services.async_call("switch", "turn_off", {"entity_id": relay}, blocking=True)
    # The card must be presented again.
    assert (await board.post(ADA))["relay"] is False


async def test_relay_switch_refuses_while_oopsed_or_locked(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    relay = entity_id(hass, hub, "switch", "metal-mill", "relay")
    mill = machine_of(hub, "metal-mill")
    mill.async_set_flags(oopsed=True)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call("switch", "turn_on", {"entity_id": relay}, blocking=True)
    assert err.value.translation_key == "machine_oopsed"
    assert str(err.value) == "metal-mill is oopsed; clear the oops before switching it on"
    mill.async_set_flags(oopsed=False, locked_out=True)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call("switch", "turn_on", {"entity_id": relay}, blocking=True)
    assert err.value.translation_key == "machine_locked_out"
    compressor = entity_id(hass, hub, "switch", "compressor", "relay")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": compressor}, blocking=True
        )
    assert err.value.translation_key == "always_enabled"


@pytest.fixture
async def member_user(hass: HomeAssistant, hass_owner_user: MockUser) -> User:
    """A Home Assistant user who is not an admin (a member's account, a shop tablet).

    Created after the owner: the first user of an installation becomes its owner.
    """
    return await hass.auth.async_create_user("Shop tablet", group_ids=[GROUP_ID_USER])


async def _as_user(
    hass: HomeAssistant, user: User | MockUser, platform: str, service: str, entity: str
) -> None:
    await hass.services.async_call(
        platform, service, {"entity_id": entity}, blocking=True, context=Context(user_id=user.id)
    )


async def _refused(
    hass: HomeAssistant, user: User | MockUser, platform: str, service: str, entity: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _as_user(hass, user, platform, service, entity)
    assert err.value.translation_key == "admin_required"
    assert err.value.translation_placeholders == {"machine": "metal-mill"}


async def test_only_an_admin_switches_the_relay_on_and_anyone_switches_it_off(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    client: TestClient,
    member_user: User,
    hass_admin_user: MockUser,
) -> None:
    relay = entity_id(hass, hub, "switch", "metal-mill", "relay")
    board = Board(client, "metal-mill")
    await _refused(hass, member_user, "switch", "turn_on", relay)
    await _refused(hass, member_user, "switch", "toggle", relay)
    assert hass.states.get(relay).state == "off"
    assert (await board.post())["relay"] is False
    assert state(hass, hub, "sensor", "metal-mill", "sessions").state == "0"

    await _as_user(hass, hass_admin_user, "switch", "turn_on", relay)
    assert (await board.post())["relay"] is True
    await _as_user(hass, member_user, "switch", "turn_off", relay)
    assert hass.states.get(relay).state == "off"
    assert (await board.post())["relay"] is False


async def test_only_an_admin_unlocks_and_anyone_locks_out(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    client: TestClient,
    member_user: User,
    hass_admin_user: MockUser,
) -> None:
    lock = entity_id(hass, hub, "lock", "metal-mill", "lockout")
    board = Board(client, "metal-mill")
    await _as_user(hass, member_user, "lock", "lock", lock)
    assert hass.states.get(lock).state == "locked"
    await _refused(hass, member_user, "lock", "unlock", lock)
    assert hass.states.get(lock).state == "locked"
    assert (await board.post(ADA))["display"] == "Down for\nmaintenance"
    await _as_user(hass, hass_admin_user, "lock", "unlock", lock)
    assert hass.states.get(lock).state == "unlocked"


async def test_only_an_admin_presses_clear_and_anyone_presses_oops(
    hass: HomeAssistant, hub: MockConfigEntry, member_user: User, hass_admin_user: MockUser
) -> None:
    oops = entity_id(hass, hub, "button", "metal-mill", "oops")
    clear = entity_id(hass, hub, "button", "metal-mill", "clear")
    mill = machine_of(hub, "metal-mill")
    await _as_user(hass, member_user, "button", "press", oops)
    mill.async_set_flags(locked_out=True)
    await _refused(hass, member_user, "button", "press", clear)
    assert (mill.state.oopsed, mill.state.locked_out) == (True, True)
    assert state(hass, hub, "binary_sensor", "metal-mill", "oops").state == "on"
    await _as_user(hass, hass_admin_user, "button", "press", clear)
    assert (mill.state.oopsed, mill.state.locked_out) == (False, False)


async def test_the_hub_option_lets_non_admins_make_the_machine_usable(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    member_user: User,
) -> None:
    write_members(config_dir, members(dt_util.now().date()))
    entry = await setup_hub(hass, makerspace_entry(non_admins_make_usable=True))
    client = await hass_client_no_auth()  # once the hub set up HTTP
    board = Board(client, "metal-mill")
    await board.post()  # the board is known
    mill = machine_of(entry, "metal-mill")
    mill.async_set_flags(oopsed=True, locked_out=True)
    await _as_user(
        hass,
        member_user,
        "button",
        "press",
        entity_id(hass, entry, "button", "metal-mill", "clear"),
    )
    mill.async_set_flags(locked_out=True)
    await _as_user(
        hass, member_user, "lock", "unlock", entity_id(hass, entry, "lock", "metal-mill", "lockout")
    )
    assert (mill.state.oopsed, mill.state.locked_out) == (False, False)
    await _as_user(
        hass,
        member_user,
        "switch",
        "turn_on",
        entity_id(hass, entry, "switch", "metal-mill", "relay"),
    )
    reply = await board.post()
    assert (reply["relay"], reply["display"]) == (True, "OVERRIDE BY\nShop tablet")


async def test_second_relay_sensor_only_where_configured(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    registry = er.async_get(hass)
    saw = subentry_by_title(hub, "saw").subentry_id
    mill = subentry_by_title(hub, "metal-mill").subentry_id
    assert registry.async_get_entity_id(
        "binary_sensor", DOMAIN, f"{hub.entry_id}_{saw}_second_relay"
    )
    assert not registry.async_get_entity_id(
        "binary_sensor", DOMAIN, f"{hub.entry_id}_{mill}_second_relay"
    )
    await Board(client, "saw").post("1000000003")
    await hass.async_block_till_done()
    second = state(hass, hub, "binary_sensor", "saw", "second_relay")
    assert second.state == "on"
    assert second.attributes["decision"] == "granted"
    assert second.attributes["reported"] is False


async def test_board_diagnostics_are_disabled_by_default(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    registry = er.async_get(hass)
    for key in (
        "uptime",
        "wifi_signal_percent",
        "internal_temperature",
        "amps",
        "last_checkin",
        "display",
    ):
        entry = registry.async_get(entity_id(hass, hub, "sensor", "metal-mill", key))
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert entry.entity_category == "diagnostic"


async def test_hub_member_sensors(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    registry = er.async_get(hass)

    def hub_state(key: str):
        found = registry.async_get_entity_id("sensor", DOMAIN, f"{hub.entry_id}_hub_{key}")
        return hass.states.get(found)

    assert hub_state("members").state == "6"
    assert hub_state("fobs").state == "6"
    loaded = hub_state("members_loaded_at")
    assert loaded.state not in (STATE_UNKNOWN, "unavailable")
    assert loaded.attributes["problem"] is None


async def test_state_survives_a_restart(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, freezer: FrozenDateTimeFactory
) -> None:
    board = Board(client, "metal-mill")
    await board.post(ADA)
    freezer.tick(timedelta(hours=1))
    machine_of(hub, "hammer").async_set_flags(oopsed=True)
    machine_of(hub, "saw").async_set_flags(locked_out=True)
    for machine in hub.runtime_data.machines.values():
        assert await machine.store.async_flush()
    assert await hass.config_entries.async_unload(hub.entry_id)
    hass.data[DATA_STORAGE] = StateStorage(hass)
    assert await hass.config_entries.async_setup(hub.entry_id)
    await hass.async_block_till_done()

    assert state(hass, hub, "binary_sensor", "hammer", "oops").state == "on"
    assert state(hass, hub, "lock", "saw", "lockout").state == "locked"
    assert state(hass, hub, "sensor", "metal-mill", "rfid").state == "Ada"
    assert state(hass, hub, "sensor", "metal-mill", "sessions").state == "1"
    assert float(state(hass, hub, "sensor", "metal-mill", "usage").state) == pytest.approx(
        1, abs=0.02
    )
    # The same card on the next heartbeat keeps the session.
    assert (await board.post(ADA))["display"] == "Welcome,\nAda"


async def test_heartbeats_save_readings_only_every_few_minutes(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, freezer: FrozenDateTimeFactory
) -> None:
    disk = SlowDisk()
    hass.data[DATA_STORAGE].writer = disk
    board = Board(client, "metal-mill")
    store = machine_of(hub, "metal-mill").store
    await board.post()
    assert await store.async_flush()
    writes = disk.writes["metal-mill.json"]
    for _ in range(10):  # heartbeats: only uptime, WiFi and check-in time change
        await board.post()
        assert await store.async_flush()
    assert disk.writes["metal-mill.json"] == writes
    await board.post(ADA)  # a login is saved at once
    assert await store.async_flush()
    assert disk.writes["metal-mill.json"] == writes + 1
    freezer.tick(timedelta(minutes=6))
    await board.post(ADA)  # readings are saved again after 5 minutes
    assert await store.async_flush()
    assert disk.writes["metal-mill.json"] == writes + 2


async def test_online_goes_off_after_a_reload_when_the_board_is_gone(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, freezer: FrozenDateTimeFactory
) -> None:
    await Board(client, "metal-mill").post()
    assert await hass.config_entries.async_reload(hub.entry_id)
    assert state(hass, hub, "binary_sensor", "metal-mill", "online").state == "on"
    freezer.tick(timedelta(seconds=32))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state(hass, hub, "binary_sensor", "metal-mill", "online").state == "off"


async def test_an_unloaded_machine_ignores_late_posts(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    mill = machine_of(hub, "metal-mill")
    assert await hass.config_entries.async_unload(hub.entry_id)
    reply = mill.async_handle_update(
        BoardUpdate(machine_name="metal-mill", oops=True, fob=None, uptime=1)
    )
    assert reply.relay is False
    assert not mill.state.oopsed
    mill.async_recheck()
    assert mill.state.last_checkin is None


async def test_a_board_that_keeps_posting_stays_online(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, freezer: FrozenDateTimeFactory
) -> None:
    board = Board(client, "metal-mill")
    online_changes: list[str] = []
    online_id = entity_id(hass, hub, "binary_sensor", "metal-mill", "online")

    async def beat(seconds: float) -> None:
        freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(hass)
        await board.post()
        await hass.async_block_till_done()
        online_changes.append(hass.states.get(online_id).state)

    await beat(0)
    for _ in range(10):  # every 10 s for 100 s: the 30 s window never runs out
        await beat(10)
    assert set(online_changes) == {"on"}

    # Silent: Online goes off once the last post is 30 s old, not before.
    freezer.tick(timedelta(seconds=25))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(online_id).state == "on"
    freezer.tick(timedelta(seconds=7))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(online_id).state == "off"
