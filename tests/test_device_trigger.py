"""Device triggers, tested as core tests them: listed per device, run by automations.

The automations are real (`automation` set up with a device trigger) and fire from
real happenings: a board's posts through the webhook, a failing print judged by the
fake ML API, a recording sensor's slot on a moved clock.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.device_automation import (
    DeviceAutomationType,
    async_get_device_automations,
)
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import voluptuous as vol

from custom_components.makerspace_hub import device_trigger
from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.event import (
    ACCESS_EVENT_TYPES,
    DETECTION_EVENT_TYPES,
    RECORDING_EVENT_TYPES,
)
from tools.fake_ml_api import FakeMlApi

from .conftest import TRANSLATIONS, find_device, make_hub_entry, setup_hub, subentry_by_title
from .makerspace import ADA, ED, KENNETH, Board, machine, members, write_members
from .printers.shop import failure, make_shop_factory, printer_subentry
from .recording.conftest import Bees, local, sensor_subentry


def device_id(hass: HomeAssistant, entry: MockConfigEntry, title: str) -> str:
    """Return the id of the device of the subentry with this title."""
    device = find_device(hass, subentry_by_title(entry, title).subentry_id)
    assert device is not None
    return device.id


async def automate(hass: HomeAssistant, device: str, *types: str) -> list[ServiceCall]:
    """Set up one automation per trigger type of `device`; return the calls they make."""
    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "triggers": [
                        {"trigger": "device", "domain": DOMAIN, "device_id": device, "type": t}
                    ],
                    "actions": [
                        {
                            "action": "test.automation",
                            "data": {
                                "type": "{{ trigger.event.data.type }}",
                                "device_id": "{{ trigger.event.data.device_id }}",
                                "member": "{{ trigger.event.data.member }}",
                                "printer": "{{ trigger.event.data.printer }}",
                                "probability": "{{ trigger.event.data.probability }}",
                                "sensor": "{{ trigger.event.data.sensor }}",
                                "platform": "{{ trigger.platform }}",
                            },
                        }
                    ],
                }
                for t in types
            ]
        },
    )
    await hass.async_block_till_done()
    return calls


async def test_each_device_offers_the_triggers_of_its_kind(hass: HomeAssistant) -> None:
    hass.states.async_set("sensor.t", "1")
    entry = await setup_hub(
        hass,
        make_hub_entry(
            subentries=[
                machine("metal-mill"),
                printer_subentry("prusa"),
                sensor_subentry("hive", "samples", entities=["sensor.t"]),
            ]
        ),
    )
    hub_device = find_device(hass, entry.entry_id)
    assert hub_device is not None
    devices = {title: device_id(hass, entry, title) for title in ("metal-mill", "prusa", "hive")}
    found = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, [*devices.values(), hub_device.id]
    )
    offered = {
        title: {
            trigger["type"]
            for trigger in found[device]
            if trigger["domain"] == DOMAIN and trigger["platform"] == "device"
        }
        for title, device in devices.items()
    }
    assert offered == {
        "metal-mill": set(ACCESS_EVENT_TYPES),
        "prusa": set(DETECTION_EVENT_TYPES),
        "hive": set(RECORDING_EVENT_TYPES),
    }
    assert not [t for t in found[hub_device.id] if t["domain"] == DOMAIN]
    for device, triggers in found.items():
        for trigger in triggers:
            if trigger["domain"] == DOMAIN:
                assert trigger["device_id"] == device


def test_every_trigger_type_has_a_name() -> None:
    names = TRANSLATIONS["device_automation"]["trigger_type"]
    assert set(names) == device_trigger.TRIGGER_TYPES
    assert all(isinstance(name, str) and name for name in names.values())


async def test_unknown_types_and_types_of_another_kind_are_rejected(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    mill = device_id(hass, hub, "metal-mill")
    base = {"platform": "device", "domain": DOMAIN, "device_id": mill}
    with pytest.raises(vol.Invalid):
        device_trigger.TRIGGER_SCHEMA(base | {"type": "exploded"})
    with pytest.raises(vol.Invalid):
        await device_trigger.async_validate_trigger_config(hass, base | {"type": "exploded"})
    with pytest.raises(vol.Invalid):  # a printer's type on a machine
        await device_trigger.async_validate_trigger_config(hass, base | {"type": "failure"})
    valid = await device_trigger.async_validate_trigger_config(hass, base | {"type": "denied"})
    assert valid["type"] == "denied"


async def test_a_login_and_a_refused_card_run_their_automations(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    mill = device_id(hass, hub, "metal-mill")
    calls = await automate(hass, mill, "login", "denied")
    board = Board(client, "metal-mill")
    await board.post(ADA)
    await hass.async_block_till_done()
    assert [(c.data["type"], c.data["member"], c.data["device_id"]) for c in calls] == [
        ("login", "Ada Tester", mill)
    ]
    assert calls[0].data["platform"] == "device"
    await board.post()  # a logout: no automation for it
    await board.post(KENNETH)  # not authorized on the mill
    await board.post()
    await board.post(ED)  # expired: its own type, not "denied"
    await board.post()
    # Another machine's login does not run the mill's automations.
    await Board(client, "hammer").post(ADA)
    await hass.async_block_till_done()
    assert [(c.data["type"], c.data["member"]) for c in calls] == [
        ("login", "Ada Tester"),
        ("denied", "Kenneth Tester"),
    ]


async def test_two_refusals_in_one_instant_run_the_automation_twice(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, freezer: FrozenDateTimeFactory
) -> None:
    """A state trigger on the event entity would see one change; the bus sees two."""
    calls = await automate(hass, device_id(hass, hub, "metal-mill"), "denied")
    board = Board(client, "metal-mill")
    for _ in range(2):  # the clock stands still (freezer)
        await board.post(KENNETH)
        await board.post()
    await hass.async_block_till_done()
    assert [c.data["type"] for c in calls] == ["denied", "denied"]


async def test_a_print_failure_runs_its_automation(
    hass: HomeAssistant,
    config_dir: Any,
    hass_client_no_auth: ClientSessionGenerator,
    start_ml_api: Callable[..., Awaitable[FakeMlApi]],
) -> None:
    shop = await make_shop_factory(hass, hass_client_no_auth, start_ml_api)("prusa")
    prusa = device_id(hass, shop.entry, "prusa")
    calls = await automate(hass, prusa, "print_started", "failure")
    await shop.status("prusa", "printing", filename="benchy.gcode")
    await shop.frames(40)  # clean frames: warmed up, safe
    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await shop.frames(15)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [(c.data["type"], c.data["printer"]) for c in calls] == [
        ("print_started", "prusa"),
        ("failure", "prusa"),
    ]
    assert float(calls[1].data["probability"]) > 66


async def test_a_recording_slot_runs_its_automations(
    hass: HomeAssistant, config_dir: Any, freezer: FrozenDateTimeFactory
) -> None:
    hass.states.async_set("sensor.t", "1")
    freezer.move_to(local("2026-06-01 07:59:30"))
    entry = await setup_hub(
        hass, make_hub_entry(subentries=[sensor_subentry("hive", "samples", entities=["sensor.t"])])
    )
    bees = Bees(hass, entry, freezer, config_dir / "media" / "makerspace_hub", {})
    calls = await automate(hass, device_id(hass, entry, "hive"), "started", "finished", "failed")
    await bees.until("2026-06-01 08:06:00")
    assert [(c.data["type"], c.data["sensor"]) for c in calls] == [
        ("started", "hive"),
        ("finished", "hive"),
    ] * 2


async def test_triggers_survive_a_reload_of_the_hub(
    hass: HomeAssistant, config_dir: Any, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """The bus events follow the new owners after a reload, once each."""
    write_members(config_dir, members(dt_util.now().date()))
    mill = machine("metal-mill", authorizations_or=["Metal Mill"])
    entry = await setup_hub(hass, make_hub_entry(subentries=[mill]))
    calls = await automate(hass, device_id(hass, entry, "metal-mill"), "login")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await Board(await hass_client_no_auth(), "metal-mill").post(ADA)
    await hass.async_block_till_done()
    assert [c.data["type"] for c in calls] == ["login"]
