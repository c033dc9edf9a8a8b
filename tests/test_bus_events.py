"""One `makerspace_hub_event` on the bus per event of a machine, from real board posts."""

import json
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.makerspace_hub.const import DOMAIN, EVENT_MAKERSPACE_HUB
from custom_components.makerspace_hub.machines.rules import GUESS_LIMIT

from .conftest import find_device, subentry_by_title
from .makerspace import ADA, ED, KENNETH, Board, machine_of

ROUTING = {"device_id", "entry_id", "type"}


def access_entity(hass: HomeAssistant, hub: MockConfigEntry, name: str) -> str:
    subentry_id = subentry_by_title(hub, name).subentry_id
    entity_id = er.async_get(hass).async_get_entity_id(
        "event", DOMAIN, f"{hub.entry_id}_{subentry_id}_access"
    )
    assert entity_id
    return entity_id


async def test_each_access_event_is_one_bus_event_with_the_entitys_data(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    fired = async_capture_events(hass, EVENT_MAKERSPACE_HUB)
    device = find_device(hass, subentry_by_title(hub, "metal-mill").subentry_id)
    assert device is not None
    entity_id = access_entity(hass, hub, "metal-mill")
    board = Board(client, "metal-mill")
    seen: list[dict[str, Any]] = []  # each bus event next to the entity's state then
    for card in (ADA, "", KENNETH, "", ED):
        await board.post(card)
        await hass.async_block_till_done()
        if fired and (not seen or fired[-1].data is not seen[-1]["bus"]):
            attributes = dict(hass.states.get(entity_id).attributes)  # type: ignore[union-attr]
            seen.append({"bus": fired[-1].data, "entity": attributes})
    assert [event.data["type"] for event in fired] == ["login", "logout", "denied", "expired"]
    for event in fired:
        assert event.data["device_id"] == device.id
        assert event.data["entry_id"] == hub.entry_id
        assert event.data["machine"] == "metal-mill"
    login = fired[0].data
    assert {k: v for k, v in login.items() if k not in ROUTING | {"fob"}} == {
        "machine": "metal-mill",
        "member": "Ada Tester",
        "account_id": "1",
        "reason": "member",
        "source": "board",
    }
    # The same data as the event entity, the card as its keyed tag only.
    for pair in seen:
        bus, entity = pair["bus"], pair["entity"]
        assert entity["event_type"] == bus["type"]
        assert {k: v for k, v in bus.items() if k not in ROUTING} == {
            k: entity[k] for k in bus if k not in ROUTING
        }
    text = json.dumps([event.data for event in fired])
    for code in (ADA, KENNETH, ED):
        assert code not in text
    assert isinstance(login["fob"], str)
    assert len(login["fob"]) >= 8


async def test_unknown_cards_and_guessing_reach_the_bus_coalesced_as_emitted(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    fired = async_capture_events(hass, EVENT_MAKERSPACE_HUB)
    emitted: list[Any] = []
    machine_of(hub, "metal-mill").async_add_event_listener(emitted.append)
    board = Board(client, "metal-mill")
    for code in range(GUESS_LIMIT + 5):  # past the limit: one `guessing`, then silence
        await board.post(f"{4000000000 + code}")
        await board.post()
    await hass.async_block_till_done()
    types = [event.data["type"] for event in fired]
    assert types == ["unknown_fob"] * GUESS_LIMIT + ["guessing"]
    assert types == [event.type for event in emitted]  # one bus event per emitted event


async def test_the_bus_event_fires_with_the_event_entity_disabled(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    entity_id = access_entity(hass, hub, "metal-mill")
    er.async_get(hass).async_update_entity(entity_id, disabled_by=er.RegistryEntryDisabler.USER)
    assert await hass.config_entries.async_reload(hub.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(entity_id) is None
    fired = async_capture_events(hass, EVENT_MAKERSPACE_HUB)
    await Board(client, "metal-mill").post(ADA)
    await hass.async_block_till_done()
    assert [(event.data["type"], event.data["member"]) for event in fired] == [
        ("login", "Ada Tester")
    ]


async def test_an_unloaded_hub_fires_nothing(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    fired = async_capture_events(hass, EVENT_MAKERSPACE_HUB)
    machine = machine_of(hub, "metal-mill")
    assert await hass.config_entries.async_unload(hub.entry_id)
    await Board(client, "metal-mill").post(ADA)  # answered relay off by the gate
    machine.async_serviced()  # what the unloaded machine still says is not on the bus
    await hass.async_block_till_done()
    assert fired == []
