"""Lockout reasons and service intervals through a real hub: board posts, time, users."""

from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)

from custom_components.makerspace_hub.const import DOMAIN

from ..conftest import make_hub_entry, setup_hub, subentry_by_title
from ..makerspace import (
    ADA,
    IDLE,
    LOCKED,
    MACHINES,
    ORANGE,
    Board,
    machine,
    machine_of,
    members,
    screen,
    welcome,
    write_members,
)

SERVICE_DUE = (False, "Down for\nService due", ORANGE, 0.5, False)


def entity(hass: HomeAssistant, hub: MockConfigEntry, platform: str, name: str, key: str) -> str:
    subentry_id = subentry_by_title(hub, name).subentry_id
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{hub.entry_id}_{subentry_id}_{key}"
    )
    assert found, (platform, name, key)
    return found


def value(hass: HomeAssistant, hub: MockConfigEntry, platform: str, name: str, key: str) -> Any:
    found = hass.states.get(entity(hass, hub, platform, name, key))
    assert found is not None
    return found


async def test_a_lockout_reason_is_shown_on_the_board_and_the_lock(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    lock = entity(hass, hub, "lock", "metal-mill", "lockout")
    await hass.services.async_call(
        DOMAIN, "lockout", {"machine": "metal-mill", "reason": "  New blade "}, blocking=True
    )
    assert screen(await board.post()) == (False, "Down for\nNew blade", ORANGE, 0.5, False)
    assert hass.states.get(lock).attributes["reason"] == "New blade"
    await hass.services.async_call(DOMAIN, "unlock", {"machine": "metal-mill"}, blocking=True)
    assert screen(await board.post()) == IDLE
    assert hass.states.get(lock).attributes["reason"] is None
    # The lock entity locks out without a reason; an empty reason is none.
    await hass.services.async_call("lock", "lock", {"entity_id": lock}, blocking=True)
    assert screen(await board.post()) == LOCKED
    assert hass.states.get(lock).attributes["reason"] is None
    await hass.services.async_call(DOMAIN, "clear", {"machine": "metal-mill"}, blocking=True)
    await hass.services.async_call(
        DOMAIN, "lockout", {"machine": "metal-mill", "reason": " "}, blocking=True
    )
    assert screen(await board.post()) == LOCKED


async def test_a_lockout_reason_longer_than_a_display_line_is_refused(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "lockout", {"machine": "metal-mill", "reason": "x" * 17}, blocking=True
        )
    assert err.value.translation_key == "lockout_reason_too_long"
    assert not machine_of(hub, "metal-mill").state.locked_out


@pytest.mark.parametrize(
    "reason", ["Défaut", "Saw \U0001f6e0", "New\nblade", "Tab\tbed", "Blade\n", "\tBlade"]
)
async def test_a_lockout_reason_the_display_cannot_show_is_refused(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, reason: str
) -> None:
    board = Board(client, "metal-mill")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "lockout",
            {"machine": "metal-mill", "reason": reason},
            blocking=True,
        )
    assert err.value.translation_key == "lockout_reason_invalid"
    assert str(err.value).startswith("A lockout reason is shown on the board's display")
    # Nothing changed: not locked out, no reason, the usual display.
    state = machine_of(hub, "metal-mill").state
    assert (state.locked_out, state.lockout_reason) == (False, None)
    assert screen(await board.post()) == IDLE


@pytest.fixture
async def laser_hub(hass: HomeAssistant, config_dir: Path) -> MockConfigEntry:
    """The test makerspace with a laser serviced every hour of use, locking out when due."""
    write_members(config_dir, members(dt_util.now().date()))
    laser = machine(
        "laser",
        authorizations_or=["Metal Mill"],
        service_interval_hours=1,
        lock_out_when_service_due=True,
    )
    return await setup_hub(hass, make_hub_entry({}, [*MACHINES, laser]))


async def test_service_entities_exist_only_with_an_interval(
    hass: HomeAssistant, laser_hub: MockConfigEntry
) -> None:
    assert value(hass, laser_hub, "sensor", "laser", "hours_until_service").state == "1.0"
    assert value(hass, laser_hub, "binary_sensor", "laser", "service_due").state == "off"
    assert value(hass, laser_hub, "button", "laser", "serviced")
    registry = er.async_get(hass)
    mill = subentry_by_title(laser_hub, "metal-mill").subentry_id
    for platform, key in (
        ("sensor", "hours_until_service"),
        ("binary_sensor", "service_due"),
        ("button", "serviced"),
    ):
        unique_id = f"{laser_hub.entry_id}_{mill}_{key}"
        assert registry.async_get_entity_id(platform, DOMAIN, unique_id) is None


async def test_a_due_service_waits_for_the_session_to_end_then_locks_out(
    hass: HomeAssistant,
    laser_hub: MockConfigEntry,
    client: TestClient,
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    alerts: list[ServiceCall] = []

    async def notify(call: ServiceCall) -> None:
        alerts.append(call)

    hass.services.async_register("notify", "admins", notify)
    hass.config_entries.async_update_entry(
        laser_hub, options=dict(laser_hub.options) | {"notify_services": ["notify.admins"]}
    )
    await hass.async_block_till_done()
    events: list[Any] = []
    laser = machine_of(laser_hub, "laser")
    laser.async_add_event_listener(events.append)
    board = Board(client, "laser")

    assert screen(await board.post(ADA)) == welcome("Ada")
    for _ in range(61):  # the usage ticks, a minute at a time
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    # Due mid-cut: reported once, the relay stays on.
    assert [e.type for e in events].count("service_due") == 1
    assert screen(await board.post(ADA)) == welcome("Ada")
    assert value(hass, laser_hub, "binary_sensor", "laser", "service_due").state == "on"
    assert float(value(hass, laser_hub, "sensor", "laser", "hours_until_service").state) < 0
    # (Moving the frozen clock a minute at a time may also time a state save out.)
    assert [a.data["title"] for a in alerts if "service" in a.data["title"]] == [
        "laser is due for service"
    ]
    freezer.tick(timedelta(minutes=5))
    assert screen(await board.post(ADA)) == welcome("Ada")
    # The session ends: now the machine locks out, with the reason on the display.
    assert screen(await board.post()) == SERVICE_DUE
    await hass.async_block_till_done()
    lock = value(hass, laser_hub, "lock", "laser", "lockout")
    assert (lock.state, lock.attributes["reason"]) == ("locked", "Service due")
    lockouts = [e for e in events if e.type == "lockout"]
    assert [(e.reason, e.source) for e in lockouts] == [("service_due", "home_assistant")]
    assert screen(await board.post(ADA)) == SERVICE_DUE  # refused
    assert sum("service" in a.data["title"] for a in alerts) == 1
    assert [e.type for e in events].count("service_due") == 1

    # Serviced is for admins; it starts a new interval and does not unlock.
    button = entity(hass, laser_hub, "button", "laser", "serviced")
    # Created after the admin: the first user of an installation becomes its owner.
    member = await hass.auth.async_create_user("Shop tablet", group_ids=[GROUP_ID_USER])
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "button",
            "press",
            {"entity_id": button},
            blocking=True,
            context=Context(user_id=member.id),
        )
    assert value(hass, laser_hub, "binary_sensor", "laser", "service_due").state == "on"
    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": button},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()
    assert events[-1].type == "serviced"
    assert value(hass, laser_hub, "binary_sensor", "laser", "service_due").state == "off"
    assert value(hass, laser_hub, "sensor", "laser", "hours_until_service").state == "1.0"
    await board.post()
    assert screen(await board.post(ADA)) == SERVICE_DUE  # still locked out
    await hass.services.async_call(DOMAIN, "unlock", {"machine": "laser"}, blocking=True)
    await board.post()
    assert screen(await board.post(ADA)) == welcome("Ada")


async def test_a_service_due_with_the_relay_off_locks_out_at_once(
    hass: HomeAssistant,
    laser_hub: MockConfigEntry,
    client: TestClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    board = Board(client, "laser")
    assert screen(await board.post(ADA)) == welcome("Ada")
    # No tick (no usage minute) before the card leaves: the end of the session finds
    # the interval used up.
    freezer.tick(timedelta(minutes=61))
    assert screen(await board.post()) == SERVICE_DUE
    assert machine_of(laser_hub, "laser").state.service_due_sent


async def test_serviced_stays_for_admins_where_every_user_may_make_usable(
    hass: HomeAssistant, config_dir: Path, hass_admin_user: MockUser
) -> None:
    write_members(config_dir, members(dt_util.now().date()))
    laser = machine("laser", authorizations_or=["Metal Mill"], service_interval_hours=1)
    hub = await setup_hub(
        hass, make_hub_entry({"non_admins_make_usable": True}, [*MACHINES, laser])
    )
    button = entity(hass, hub, "button", "laser", "serviced")
    member = await hass.auth.async_create_user("Shop tablet", group_ids=[GROUP_ID_USER])
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            "button",
            "press",
            {"entity_id": button},
            blocking=True,
            context=Context(user_id=member.id),
        )
    assert err.value.translation_key == "admin_required"
    # The option still lets the same user clear the machine (it makes it usable).
    clear = entity(hass, hub, "button", "laser", "clear")
    await hass.services.async_call(
        "button", "press", {"entity_id": clear}, blocking=True, context=Context(user_id=member.id)
    )
