"""Heartbeats and the recorder: an idle board writes (almost) no state rows.

Every state written is a row in the recorder's database. Boards post every second
with readings that wander (uptime, WiFi, temperature, current); the readings'
sensors are disabled by default and, once an admin enables them, write at most once
a minute (`readings`), while a real change (a login, the relay, a reboot, the current
crossing the idle threshold) still shows at once. Counted here as Home Assistant's
own state-changed events, one per row the recorder would write, over minutes of real
webhook posts on a frozen clock.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.makerspace_hub.const import DOMAIN

from ..conftest import subentry_by_title
from ..makerspace import ADA, Board, makerspace_entry, members, write_members

MINUTES = 3
READINGS = (
    "uptime",
    "wifi_signal_db",
    "wifi_signal_percent",
    "internal_temperature",
    "amps",
    "last_checkin",
)


class StateWrites:
    """Count the states written (state-changed events), per entity."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.by_entity: Counter[str] = Counter()
        hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed)

    @callback
    def _changed(self, event: Event[EventStateChangedData]) -> None:
        self.by_entity[event.data["entity_id"]] += 1

    def per_machine(self, entry: MockConfigEntry) -> Counter[str]:
        """Return the writes of each machine's entities, by machine name."""
        registry = er.async_get(self.hass)
        names = {s.subentry_id: s.title for s in entry.subentries.values()}
        counts: Counter[str] = Counter({s.title: 0 for s in entry.subentries.values()})
        for entity_id, writes in self.by_entity.items():
            found = registry.async_get(entity_id)
            if found is not None and found.config_subentry_id in names:
                counts[names[found.config_subentry_id]] += writes
        return counts

    def reset(self) -> None:
        self.by_entity.clear()


def wander(second: int) -> dict[str, Any]:
    """Return a board's readings at `second`: each moves a little with every post.

    In cycles of 7 s, so that a minute later a reading is not back where it was.
    """
    return {
        "wifi_signal_db": -60 + second % 7,
        "wifi_signal_percent": 80 + second % 7,
        "internal_temperature_c": 50 + second / 100,
        "amps": 0.1 + (second % 7) / 20,  # below the idle threshold (0.5 A): idle
    }


async def heartbeats(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    boards: Iterable[Board],
    seconds: int,
) -> None:
    """Let every board post once a second for `seconds`, through the webhook."""
    for second in range(seconds):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        for board in boards:
            await board.post(**wander(second))
        await hass.async_block_till_done()


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def entity_id(hass: HomeAssistant, entry: MockConfigEntry, machine: str, key: str) -> str:
    subentry_id = subentry_by_title(entry, machine).subentry_id
    found = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}_{subentry_id}_{key}"
    )
    assert found, (machine, key)
    return found


def reading(hass: HomeAssistant, entry: MockConfigEntry, machine: str, key: str) -> str:
    state = hass.states.get(entity_id(hass, entry, machine, key))
    assert state is not None, key
    return state.state


def number(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> float:
    return float(reading(hass, entry, "metal-mill", key))


@pytest.fixture
async def enabled_hub(hass: HomeAssistant, config_dir: Path) -> MockConfigEntry:
    """The test makerspace of an admin who enabled metal-mill's readings earlier.

    The readings' registry entries exist, enabled, before the hub starts (as an
    earlier release, which enabled some by default, left them): they stay enabled.
    """
    write_members(config_dir, members(dt_util.now().date()))
    entry = makerspace_entry()
    entry.add_to_hass(hass)
    registry = er.async_get(hass)
    mill = subentry_by_title(entry, "metal-mill").subentry_id
    for key in READINGS:
        registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{entry.entry_id}_{mill}_{key}",
            config_entry=entry,
            config_subentry_id=mill,
        )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_board_readings_are_disabled_by_default(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    registry = er.async_get(hass)
    for key in READINGS:
        found = registry.async_get(entity_id(hass, hub, "metal-mill", key))
        assert found is not None
        assert found.disabled_by is er.RegistryEntryDisabler.INTEGRATION, key
        assert found.entity_category == "diagnostic"


async def test_idle_heartbeats_write_at_most_a_state_a_minute_per_machine(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, freezer: FrozenDateTimeFactory
) -> None:
    boards = [Board(client, s.title) for s in hub.subentries.values()]
    await heartbeats(hass, freezer, boards, 2)  # heard: Online on, the card known absent
    writes = StateWrites(hass)

    await heartbeats(hass, freezer, boards, MINUTES * 60)

    per_machine = writes.per_machine(hub)
    assert len(per_machine) == 4
    assert max(per_machine.values()) <= MINUTES, per_machine
    # The always-enabled compressor runs: its usage moves on once a minute.
    assert per_machine["compressor"] >= MINUTES - 1


async def test_enabled_readings_stay_enabled_and_write_once_a_minute(
    hass: HomeAssistant,
    enabled_hub: MockConfigEntry,
    client: TestClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    registry = er.async_get(hass)
    ids = {key: entity_id(hass, enabled_hub, "metal-mill", key) for key in READINGS}
    for found in map(registry.async_get, ids.values()):
        assert found is not None
        assert found.disabled_by is None
    board = Board(client, "metal-mill")
    await heartbeats(hass, freezer, [board], 2)
    writes = StateWrites(hass)

    await heartbeats(hass, freezer, [board], MINUTES * 60)

    for key, found in ids.items():
        # Each moved with every post: once a minute, plus the one due at the start.
        assert MINUTES - 1 <= writes.by_entity[found] <= MINUTES + 1, key
    assert writes.per_machine(enabled_hub)["metal-mill"] <= (len(READINGS) + 1) * (MINUTES + 1)

    # A reading held back is written at the end of its minute, with no post after it.
    for _ in range(2):  # the board goes quiet: what was held back is written
        await tick(hass, freezer, 61)
    await board.post(wifi_signal_db=-41)  # back after a minute: at once
    await hass.async_block_till_done()
    assert number(hass, enabled_hub, "wifi_signal_db") == -41
    await tick(hass, freezer, 20)
    await board.post(wifi_signal_db=-42)
    await tick(hass, freezer, 30)
    assert number(hass, enabled_hub, "wifi_signal_db") == -41
    await tick(hass, freezer, 11)
    assert number(hass, enabled_hub, "wifi_signal_db") == -42


async def test_a_real_change_shows_at_once(
    hass: HomeAssistant,
    enabled_hub: MockConfigEntry,
    client: TestClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    board = Board(client, "metal-mill", uptime=1000)
    await heartbeats(hass, freezer, [board], 2)
    relay = er.async_get(hass).async_get_entity_id(
        "switch",
        DOMAIN,
        f"{enabled_hub.entry_id}_{subentry_by_title(enabled_hub, 'metal-mill').subentry_id}_relay",
    )
    assert relay is not None
    freezer.tick(timedelta(seconds=5))

    # Within the minute: readings that only wander wait (as of the first post)...
    await board.post(wifi_signal_db=-70, amps=0.3)
    await hass.async_block_till_done()
    assert number(hass, enabled_hub, "wifi_signal_db") == -60
    assert number(hass, enabled_hub, "amps") == 0.1

    # ...a login, the relay and the current crossing the idle threshold do not.
    await board.post(ADA, wifi_signal_db=-71, amps=2.5)
    await hass.async_block_till_done()
    assert reading(hass, enabled_hub, "metal-mill", "rfid") == "Ada"
    assert hass.states.get(relay).state == "on"
    assert number(hass, enabled_hub, "amps") == 2.5
    assert number(hass, enabled_hub, "wifi_signal_db") == -60
    await board.post(ADA, amps=0.1)  # idle again: at once
    await hass.async_block_till_done()
    assert number(hass, enabled_hub, "amps") == 0.1

    # A reboot (the uptime went down) shows at once, and ends the session.
    uptime = number(hass, enabled_hub, "uptime")
    await board.post(ADA, uptime=3)
    await hass.async_block_till_done()
    assert number(hass, enabled_hub, "uptime") == 3 < uptime
    assert hass.states.get(relay).state == "off"
