"""Sessions that end by themselves, through a real hub: board posts, time, a restart."""

from datetime import timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from ..conftest import make_hub_entry, setup_hub
from ..makerspace import ADA, MACHINES, Board, machine, members, screen, welcome, write_members
from ..restart import restarted

IDLE_LOGGED_OUT = (False, "Logged out: idle\nre-insert card", [1.0, 0.5, 0.0], 0.5, False)
SESSION_TIME_UP = (False, "Session time up\nre-insert card", [1.0, 0.5, 0.0], 0.5, False)


@pytest.fixture
async def laser_hub(hass: HomeAssistant, config_dir: Path) -> MockConfigEntry:
    """The test makerspace with a laser that logs out after 10 idle minutes or 2 hours."""
    write_members(config_dir, members(dt_util.now().date()))
    laser = machine(
        "laser",
        authorizations_or=["Metal Mill"],
        idle_logout_minutes=10,
        idle_current_amps=0.5,
        max_session_minutes=120,
    )
    return await setup_hub(hass, make_hub_entry({}, [*MACHINES, laser]))


async def test_an_idle_laser_logs_its_member_out(
    hass: HomeAssistant,
    laser_hub: MockConfigEntry,
    client: TestClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    board = Board(client, "laser")
    assert screen(await board.post(ADA, amps=3.2)) == welcome("Ada")
    freezer.tick(timedelta(minutes=5))
    assert screen(await board.post(ADA, amps=0.1)) == welcome("Ada")  # idle from here
    freezer.tick(timedelta(minutes=9))
    assert screen(await board.post(ADA, amps=0.1)) == welcome("Ada")
    freezer.tick(timedelta(minutes=1))
    assert screen(await board.post(ADA, amps=0.1)) == IDLE_LOGGED_OUT
    await hass.async_block_till_done()
    access = hass.states.get("event.laser_access")
    assert access is not None
    assert (access.attributes["event_type"], access.attributes["reason"]) == ("logout", "idle")
    assert hass.states.get("switch.laser_relay").state == "off"
    # The card still in the reader starts nothing, current or not.
    freezer.tick(timedelta(seconds=10))
    assert screen(await board.post(ADA, amps=4.0)) == IDLE_LOGGED_OUT
    await board.post()
    assert screen(await board.post(ADA, amps=4.0)) == welcome("Ada")


async def test_a_board_without_current_readings_keeps_its_session(
    hass: HomeAssistant,
    laser_hub: MockConfigEntry,
    client: TestClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    board = Board(client, "laser")
    assert screen(await board.post(ADA)) == welcome("Ada")
    freezer.tick(timedelta(minutes=90))
    assert screen(await board.post(ADA)) == welcome("Ada")
    freezer.tick(timedelta(minutes=30))  # two hours in: the longest session is over
    assert screen(await board.post(ADA)) == SESSION_TIME_UP


async def test_the_idle_time_survives_a_restart(
    hass: HomeAssistant,
    config_dir: Path,
    laser_hub: MockConfigEntry,
    client: TestClient,
    aiohttp_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    board = Board(client, "laser")
    assert screen(await board.post(ADA, amps=0.1)) == welcome("Ada")  # idle from here
    freezer.tick(timedelta(minutes=6))
    async with restarted(hass, config_dir, aiohttp_client) as (_new, new_client):
        assert new_client is not None
        again = Board(new_client, "laser", heard=True)
        again.boot, again.uptime = board.boot, board.uptime
        assert screen(await again.post(ADA, amps=0.1)) == welcome("Ada")
        freezer.tick(timedelta(minutes=4))
        assert screen(await again.post(ADA, amps=0.1)) == IDLE_LOGGED_OUT
