"""Logbook lines, read as the frontend reads them: `logbook/get_events` over the websocket.

A real recorder (in memory) stores the bus events of real happenings (board posts
through the webhook, a print judged by the fake ML API, recording slots on a moved
clock); the logbook describes them with this integration's `logbook` platform.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
import json
from pathlib import Path
import re
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.makerspace_hub.bus_events import NAME_KEYS
from custom_components.makerspace_hub.const import DOMAIN, EVENT_MAKERSPACE_HUB
from custom_components.makerspace_hub.event import EVENT_TYPES
from custom_components.makerspace_hub.logbook import MESSAGES, describe
from tools.fake_ml_api import FakeMlApi

from .conftest import make_hub_entry, setup_hub, subentry_by_title
from .makerspace import ADA, ED, KENNETH, UNKNOWN, Board
from .printers.shop import failure, make_shop_factory
from .recording.conftest import Bees, local, sensor_subentry

type Lines = Callable[..., Awaitable[list[dict[str, Any]]]]


@pytest.fixture(autouse=True)
def home_assistant_for_this_integration(
    recorder_mock: Recorder, enable_custom_integrations: None, config_dir: Path
) -> None:
    """The conftest's fixture, with a recorder: it must start before Home Assistant."""


@pytest.fixture
async def logbook(hass: HomeAssistant, hass_ws_client: WebSocketGenerator) -> Lines:
    """Set up the logbook; return a reader of this integration's lines, as the frontend asks.

    Listed before any fixture that opens an HTTP client: the routes freeze then.
    """
    # The logbook registers a panel with the frontend; no frontend build is installed
    # for the tests, and none is needed for the websocket.
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})
    assert await async_setup_component(hass, "websocket_api", {})

    async def lines(around: datetime | None = None) -> list[dict[str, Any]]:
        """Return the lines of the day around `around` (default: now)."""
        await async_wait_recording_done(hass)
        client = await hass_ws_client()
        around = around or dt_util.utcnow()
        await client.send_json_auto_id(
            {
                "type": "logbook/get_events",
                "start_time": (around - timedelta(days=1)).isoformat(),
                "end_time": (around + timedelta(days=1)).isoformat(),
            }
        )
        response = await client.receive_json()
        assert response["success"], response
        return [line for line in response["result"] if line.get("domain") == DOMAIN]

    return lines


def event_entity(hass: HomeAssistant, entry: MockConfigEntry, name: str, key: str) -> str:
    subentry_id = subentry_by_title(entry, name).subentry_id
    entity_id = er.async_get(hass).async_get_entity_id(
        "event", DOMAIN, f"{entry.entry_id}_{subentry_id}_{key}"
    )
    assert entity_id
    return entity_id


async def test_a_machines_day_in_the_logbook(
    hass: HomeAssistant, logbook: Lines, hub: MockConfigEntry, client: TestClient
) -> None:
    fired = async_capture_events(hass, EVENT_MAKERSPACE_HUB)
    board = Board(client, "metal-mill")
    for card in (ADA, "", KENNETH, "", ED, "", UNKNOWN, ""):
        await board.post(card)
    lines = await logbook()
    access = event_entity(hass, hub, "metal-mill", "access")
    assert [(line["name"], line["message"], line.get("entity_id")) for line in lines] == [
        ("metal-mill", "Ada Tester logged in", access),
        ("metal-mill", "Ada Tester logged out (card removed)", access),
        ("metal-mill", "card of Kenneth Tester refused (unauthorized)", access),
        ("metal-mill", "card of Ed Tester refused (expired)", access),
        ("metal-mill", "unknown card refused", access),
    ]
    # No card, not even its keyed tag.
    text = json.dumps(lines)
    tags = {event.data["fob"] for event in fired if event.data.get("fob")}
    assert tags
    for secret in (ADA, KENNETH, ED, UNKNOWN, *tags):
        assert secret not in text


async def test_a_line_without_an_enabled_event_entity_names_the_device_only(
    hass: HomeAssistant, logbook: Lines, hub: MockConfigEntry, client: TestClient
) -> None:
    access = event_entity(hass, hub, "metal-mill", "access")
    er.async_get(hass).async_update_entity(access, disabled_by=er.RegistryEntryDisabler.USER)
    assert await hass.config_entries.async_reload(hub.entry_id)
    await hass.async_block_till_done()
    await Board(client, "metal-mill").post(ADA)
    (line,) = await logbook()
    assert (line["name"], line["message"]) == ("metal-mill", "Ada Tester logged in")
    assert "entity_id" not in line


async def test_a_failing_print_in_the_logbook(
    hass: HomeAssistant,
    logbook: Lines,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    start_ml_api: Callable[..., Awaitable[FakeMlApi]],
) -> None:
    shop = await make_shop_factory(hass, hass_client_no_auth, start_ml_api)("prusa")
    await shop.status("prusa", "printing", filename="benchy.gcode")
    await shop.frames(40)  # clean frames: warmed up, safe
    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await shop.frames(15)
    await hass.async_block_till_done(wait_background_tasks=True)
    lines = await logbook()
    detection = event_entity(hass, shop.entry, "prusa", "detection")
    assert [(line["name"], line["entity_id"]) for line in lines] == [("prusa", detection)] * 2
    assert lines[0]["message"] == "print started (benchy.gcode)"
    assert re.fullmatch(r"failure detected \(\d+(\.\d+)? %\)", lines[1]["message"])


async def test_recording_slots_in_the_logbook(
    hass: HomeAssistant, logbook: Lines, config_dir: Path, freezer: FrozenDateTimeFactory
) -> None:
    hass.states.async_set("sensor.t", "1")
    now = dt_util.utcnow()
    freezer.move_to(local("2026-06-01 07:59:30"))
    subentry = sensor_subentry("hive", "samples", entities=["sensor.t"])
    entry = await setup_hub(hass, make_hub_entry(subentries=[subentry]))
    await Bees(hass, entry, freezer, config_dir / "media" / DOMAIN, {}).until("2026-06-01 08:03:00")
    recording = event_entity(hass, entry, "hive", "recording")
    # Stopped first, so that no slot runs when the clock jumps to when the websocket's
    # access token was issued (months later).
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.move_to(now)
    lines = await logbook(around=local("2026-06-01 08:00:00"))
    assert [(line["name"], line["message"], line["entity_id"]) for line in lines] == [
        ("hive", "recording started", recording),
        ("hive", "recording finished", recording),
    ]


def test_every_event_type_reads_as_a_sentence_without_its_card() -> None:
    for kind, types in EVENT_TYPES.items():
        name_key = NAME_KEYS[kind]
        assert set(MESSAGES[name_key]) == set(types)
        for event_type in types:
            data = {
                name_key: "Laser cutter",
                "type": event_type,
                "member": "Ada",
                "reason": "some_reason",
                "fob": "0badc0de77",
                "probability": 87.0,
                "minutes": 15,
                "print": "benchy.gcode",
            }
            name, message = describe(data)
            assert name == "Laser cutter"
            assert message
            assert "0badc0de77" not in message
    assert describe({"machine": "Laser cutter", "type": "login", "member": "Ada"}) == (
        "Laser cutter",
        "Ada logged in",
    )
    assert describe({"printer": "Prusa MK4", "type": "failure", "probability": 87}) == (
        "Prusa MK4",
        "failure detected (87 %)",
    )
    assert describe({"sensor": "Hive video", "type": "finished"}) == (
        "Hive video",
        "recording finished",
    )
    assert describe({"machine": "Laser cutter", "type": "expired", "reason": "expired"}) == (
        "Laser cutter",
        "card refused (expired)",
    )
    assert describe({"machine": "Lathe", "type": "guessing", "reason": "11_unknown_fobs"}) == (
        "Lathe",
        "fob guessing suspected (11 unknown cards): every card refused for now",
    )
