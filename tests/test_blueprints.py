"""The automation blueprints in blueprints/automation/makerspace_hub, used for real.

Each test copies the repository's blueprint files into the test's config folder,
creates an automation from one with `use_blueprint` and drives the hub for real:
boards posting to the webhook, actions, a fake ML API. Notify actions are fakes
that record their calls (the Companion app is outside the project).
"""

from collections.abc import Generator
from datetime import timedelta
import logging
from pathlib import Path
import shutil
import socket
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.components.blueprint import Blueprint
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CoreState, HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er, selector
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.makerspace_hub.const import DOMAIN

from .conftest import find_device, setup_hub, subentry_by_title
from .fake_printers import async_setup_printer_world
from .makerspace import ADA, KENNETH, Board, makerspace_entry, members, write_members
from .printers.conftest import make_shop  # noqa: F401 - the fixture
from .printers.shop import MakeShop, failure
from .recording.conftest import MakeBees, make_bees, sensor_subentry  # noqa: F401 - the fixture

BLUEPRINTS = Path(__file__).parent.parent / "blueprints" / "automation" / DOMAIN
NOTIFY = "notify.mobile_app_x"


@pytest.fixture(autouse=True)
def no_errors_from_automations(caplog: pytest.LogCaptureFixture) -> Generator[None]:
    """Fail a test when an automation, its script or a template logs an error."""
    yield
    errors = [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.get_records("call")
        if record.levelno >= logging.ERROR
        and record.name.startswith(
            ("homeassistant.components.automation", "homeassistant.helpers.script")
        )
    ] + [
        record.getMessage()
        for record in caplog.get_records("call")
        if record.levelno >= logging.WARNING and record.name == "homeassistant.helpers.template"
    ]
    assert not errors, errors


@pytest.fixture
def notifications(hass: HomeAssistant) -> list[ServiceCall]:
    """Calls of the fake `notify.mobile_app_x`."""
    calls: list[ServiceCall] = []

    async def record(call: ServiceCall) -> None:
        calls.append(call)

    hass.services.async_register("notify", "mobile_app_x", record)
    return calls


@pytest.fixture
async def dust_hub(hass: HomeAssistant, config_dir: Path) -> MockConfigEntry:
    """The test makerspace and a smart plug for its dust collector, `switch.dust_power`.

    The plug's test platform must be set up before the hub sets up `switch`.
    """
    await async_setup_printer_world(hass, "dust")
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.dust_power"}, blocking=True
    )
    write_members(config_dir, members(dt_util.now().date()))
    return await setup_hub(hass, makerspace_entry())


def install_blueprints(config_dir: Path) -> Path:
    """Copy the repository's blueprints where Home Assistant looks for them."""
    target = config_dir / "blueprints" / "automation" / DOMAIN
    shutil.copytree(BLUEPRINTS, target, dirs_exist_ok=True)
    return target


async def use_blueprint(hass: HomeAssistant, config_dir: Path, name: str, **inputs: Any) -> str:
    """Create an automation from blueprint `name` with `inputs`; return its entity id."""
    install_blueprints(config_dir)
    config = {
        "alias": name,
        "use_blueprint": {"path": f"{DOMAIN}/{name}.yaml", "input": inputs},
    }
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    await hass.async_block_till_done()
    automation = f"automation.{name}"
    state = hass.states.get(automation)
    assert state is not None, f"{name} did not load"
    assert state.state == "on", state
    return automation


def entity(hass: HomeAssistant, entry: ConfigEntry, platform: str, title: str, key: str) -> str:
    """Return the entity id of a machine's, printer's or sensor's entity."""
    subentry_id = subentry_by_title(entry, title).subentry_id
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{entry.entry_id}_{subentry_id}_{key}"
    )
    assert found, (platform, title, key)
    return found


def device_id(hass: HomeAssistant, entry: ConfigEntry, title: str) -> str:
    """Return the device id of a machine, printer or sensor."""
    device = find_device(hass, subentry_by_title(entry, title).subentry_id)
    assert device is not None
    return device.id


async def settle(hass: HomeAssistant) -> None:
    """Wait for the automations, also for runs that another run's action starts.

    A state change made by a run's action (the Clear button's makerspace_hub.clear)
    starts the next run one turn of the event loop later, when the first wait has
    already seen no task left; the second wait starts with that turn.
    """
    await hass.async_block_till_done()
    await hass.async_block_till_done()


async def press(hass: HomeAssistant, action: str) -> None:
    """Press a notification button in the Companion app."""
    hass.bus.async_fire("mobile_app_notification_action", {"action": action})
    await settle(hass)


# --- every blueprint ---------------------------------------------------------------------


async def test_every_blueprint_loads_with_name_description_and_selectors(
    hass: HomeAssistant, config_dir: Path
) -> None:
    files = sorted(path.name for path in BLUEPRINTS.glob("*.yaml"))
    assert len(files) >= 3
    install_blueprints(config_dir)
    assert await async_setup_component(hass, "automation", {})
    loaded = await async_get_blueprints(hass).async_get_blueprints()
    assert sorted(loaded) == [f"{DOMAIN}/{name}" for name in files]
    for path, blueprint in loaded.items():
        assert isinstance(blueprint, Blueprint), (path, blueprint)
        assert blueprint.domain == "automation"
        assert blueprint.name.startswith("Makerspace Hub: "), path
        assert len(blueprint.metadata["description"]) > 80, path
        assert blueprint.validate() is None, path  # min_version of the supported HA
        assert blueprint.metadata["homeassistant"]["min_version"] == "2025.4.0"
        assert blueprint.inputs, path
        for key, spec in blueprint.inputs.items():
            assert spec.get("name"), (path, key)
            assert spec.get("description"), (path, key)
            assert spec.get("selector"), (path, key)
            checked = selector.selector(spec["selector"])
            if "default" in spec:
                checked(spec["default"])  # the default fits its own selector
        # Entities of this integration are offered filtered to it.
        for key, spec in blueprint.inputs.items():
            chosen = spec["selector"].get("entity")
            if chosen and key not in ("collector", "pause_entity"):
                assert {f.get("integration") for f in chosen["filter"]} == {DOMAIN}, key


# --- oops_notify -------------------------------------------------------------------------


async def test_a_board_oops_notifies_with_a_clear_button_that_clears(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    client: TestClient,
    config_dir: Path,
    notifications: list[ServiceCall],
) -> None:
    mill_access = entity(hass, hub, "event", "metal-mill", "access")
    hammer_access = entity(hass, hub, "event", "hammer", "access")
    assert mill_access == "event.metal_mill_access"
    await use_blueprint(
        hass,
        config_dir,
        "oops_notify",
        access_events=[mill_access, hammer_access],
        notify_action=NOTIFY,
    )
    board = Board(client, "metal-mill")
    await board.post(ADA)
    await hass.async_block_till_done()
    assert notifications == []  # a login is nothing to tell

    await board.post(ADA, oops=True)
    await hass.async_block_till_done()
    oops = entity(hass, hub, "binary_sensor", "metal-mill", "oops")
    assert hass.states.get(oops).state == "on"
    (sent,) = notifications
    mill = device_id(hass, hub, "metal-mill")
    assert sent.service == "mobile_app_x"
    assert sent.data["title"] == "metal-mill was oopsed"
    assert sent.data["message"] == (
        "Oops pressed on the machine while Ada Tester was using it. "
        "It stays off until it is cleared."
    )
    clear = f"MAKERSPACE_HUB_CLEAR_{mill}"
    assert sent.data["data"] == {
        "tag": f"makerspace_hub_oops_{mill}",
        "actions": [{"action": clear, "title": "Clear"}],
    }
    # Renaming the event entity rewrites its state: no new event, nothing sent.
    er.async_get(hass).async_update_entity(mill_access, name="Mill access")
    await hass.async_block_till_done()
    assert hass.states.get(mill_access).attributes["friendly_name"] == "Mill access"
    assert len(notifications) == 1
    # Nor does reloading the hub, which restores the last event.
    assert await hass.config_entries.async_reload(hub.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(mill_access).attributes["event_type"] == "logout"
    assert len(notifications) == 1

    # Other buttons, and Clear buttons of machines not chosen, do nothing.
    await hass.services.async_call(DOMAIN, "oops", {"machine": "saw"}, blocking=True)
    await hass.async_block_till_done()
    assert len(notifications) == 1  # the saw is not watched
    saw_oops = entity(hass, hub, "binary_sensor", "saw", "oops")
    await press(hass, f"MAKERSPACE_HUB_CLEAR_{device_id(hass, hub, 'saw')}")
    await press(hass, "PAUSE_SOMETHING")
    assert hass.states.get(saw_oops).state == "on"
    assert hass.states.get(oops).state == "on"

    await press(hass, clear)
    assert hass.states.get(oops).state == "off"
    await board.post()  # Ada takes her card out and presents it again: it runs
    assert (await board.post(ADA))["relay"] is True
    # Once cleared, the notification leaves the phone.
    assert [dict(call.data) for call in notifications[1:]] == [
        {"message": "clear_notification", "data": {"tag": f"makerspace_hub_oops_{mill}"}}
    ]
    automation = hass.states.get("automation.oops_notify")
    assert automation.attributes["current"] == 0


async def test_oops_and_lockout_from_home_assistant_cleared_by_one_button(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    client: TestClient,
    config_dir: Path,
    notifications: list[ServiceCall],
) -> None:
    await use_blueprint(
        hass,
        config_dir,
        "oops_notify",
        access_events=[entity(hass, hub, "event", "hammer", "access")],
        notify_action="mobile_app_x",  # "notify." may be left out
        include_lockout=True,
    )
    await Board(client, "hammer").post(KENNETH)
    await hass.services.async_call(DOMAIN, "lockout", {"machine": "hammer"}, blocking=True)
    await hass.services.async_call(DOMAIN, "oops", {"machine": "hammer"}, blocking=True)
    await hass.async_block_till_done()
    hammer = device_id(hass, hub, "hammer")
    assert [(c.data["title"], c.data["message"], c.data["data"]["tag"]) for c in notifications] == [
        (
            "hammer is locked out",
            (
                "Locked out for maintenance while Kenneth Tester was using it. "
                "It stays off until it is cleared."
            ),
            f"makerspace_hub_lockout_{hammer}",
        ),
        (
            "hammer was oopsed",
            "Oopsed from Home Assistant. It stays off until it is cleared.",
            f"makerspace_hub_oops_{hammer}",
        ),
    ]
    (clear,) = {a["action"] for c in notifications for a in c.data["data"]["actions"]}

    await press(hass, clear)
    lock = entity(hass, hub, "lock", "hammer", "lockout")
    assert hass.states.get(lock).state == "unlocked"
    assert hass.states.get(entity(hass, hub, "binary_sensor", "hammer", "oops")).state == "off"
    dismissed = [c.data["data"]["tag"] for c in notifications[2:]]
    assert sorted(dismissed) == [
        f"makerspace_hub_lockout_{hammer}",
        f"makerspace_hub_oops_{hammer}",
    ]
    assert all(c.data["message"] == "clear_notification" for c in notifications[2:])


async def test_without_lockout_and_dismissal_only_oops_notify(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    client: TestClient,
    config_dir: Path,
    notifications: list[ServiceCall],
) -> None:
    await use_blueprint(
        hass,
        config_dir,
        "oops_notify",
        access_events=[entity(hass, hub, "event", "hammer", "access")],
        notify_action=NOTIFY,
        dismiss_when_cleared=False,
    )
    await hass.services.async_call(DOMAIN, "lockout", {"machine": "hammer"}, blocking=True)
    await hass.services.async_call(DOMAIN, "oops", {"machine": "hammer"}, blocking=True)
    await hass.async_block_till_done()
    assert [c.data["title"] for c in notifications] == ["hammer was oopsed"]
    await press(hass, notifications[0].data["data"]["actions"][0]["action"])
    # Clear clears the lockout too, and nothing is sent to dismiss.
    assert hass.states.get(entity(hass, hub, "lock", "hammer", "lockout")).state == "unlocked"
    assert len(notifications) == 1

    await Board(client, "hammer").post(oops=True)  # Oops pressed with no card in
    await hass.async_block_till_done()
    assert notifications[-1].data["message"] == (
        "Oops pressed on the machine, no one logged in. It stays off until it is cleared."
    )


# --- print_failure_pause -----------------------------------------------------------------


async def test_a_print_failure_pauses_and_notifies_with_the_probability(
    make_shop: MakeShop,  # noqa: F811
    config_dir: Path,
    notifications: list[ServiceCall],
) -> None:
    shop = await make_shop("prusa")
    hass = shop.hass
    await use_blueprint(
        hass,
        config_dir,
        "print_failure_pause",
        detection_event=shop.entity("event", "prusa", "detection"),
        pause_entity="input_button.prusa_pause",
        notify_action=NOTIFY,
    )
    await shop.status("prusa", "printing", filename="benchy.gcode")
    await shop.frames(40)
    assert hass.states.get("input_button.prusa_pause").state == "unknown"  # never pressed
    assert notifications == []  # print_started is not a failure

    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await shop.frames(15)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert shop.state("binary_sensor", "prusa", "print_failure").state == "on"
    assert hass.states.get("input_button.prusa_pause").state != "unknown"  # pressed
    event = shop.state("event", "prusa", "detection")
    (sent,) = notifications
    assert sent.data["title"] == "prusa may be failing"
    assert sent.data["message"] == (
        f"benchy.gcode on prusa: failure probability {round(event.attributes['probability'])} %. "
        "The print was paused (input_button.prusa_pause)."
    )
    # The probability at the failure (the sensor has moved on with later frames).
    assert event.attributes["probability"] > 50
    # The integration's own action (here: notify) still ran, once.
    assert len(shop.notifications) == 1

    # More failing frames of the same print: no second pause.
    pressed = hass.states.get("input_button.prusa_pause").state
    shop.ml_api.detections.extend([failure(1.5)] * 5)
    await shop.frames(5)
    assert hass.states.get("input_button.prusa_pause").state == pressed
    assert len(notifications) == 1


async def test_a_pause_entity_that_is_unavailable_is_reported(
    make_shop: MakeShop,  # noqa: F811
    config_dir: Path,
    notifications: list[ServiceCall],
) -> None:
    shop = await make_shop("prusa")
    hass = shop.hass
    hass.states.async_set("switch.prusa_pause_plug", "unavailable")
    await use_blueprint(
        hass,
        config_dir,
        "print_failure_pause",
        detection_event=shop.entity("event", "prusa", "detection"),
        pause_entity="switch.prusa_pause_plug",
        notify_action=NOTIFY,
    )
    await shop.status("prusa", "printing")
    await shop.frames(40)
    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await shop.frames(15)
    await hass.async_block_till_done(wait_background_tasks=True)
    (sent,) = notifications
    job = shop.printer("prusa").job.name  # without a file name: when the print started
    assert sent.data["message"].startswith(f"{job} on prusa: failure probability ")
    assert sent.data["message"].endswith(
        "Pausing failed: switch.prusa_pause_plug is missing or unavailable."
    )


# --- dust_collector ----------------------------------------------------------------------


async def test_the_dust_collector_runs_while_any_machine_runs_and_a_while_after(
    hass: HomeAssistant,
    dust_hub: MockConfigEntry,
    client: TestClient,
    config_dir: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    hub = dust_hub
    collector = "switch.dust_power"
    mill_relay = entity(hass, hub, "switch", "metal-mill", "relay")
    hammer_relay = entity(hass, hub, "switch", "hammer", "relay")
    await use_blueprint(
        hass,
        config_dir,
        "dust_collector",
        machine_relays=[mill_relay, hammer_relay],
        collector=collector,
    )

    async def wait(seconds: float) -> None:
        assert await hub.runtime_data.storage.async_flush()  # saves land before time jumps
        freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    def collecting() -> str:
        return hass.states.get(collector).state

    mill, hammer = Board(client, "metal-mill"), Board(client, "hammer")
    await mill.post(ADA)
    await hass.async_block_till_done()
    assert hass.states.get(mill_relay).state == "on"
    assert collecting() == "on"
    await hammer.post(KENNETH)
    await mill.post()  # Ada takes her card: the mill stops, the hammer runs on
    await hass.async_block_till_done()
    await wait(45)
    assert collecting() == "on"

    await hammer.post()  # the last machine stops
    await hass.async_block_till_done()
    assert hass.states.get(hammer_relay).state == "off"
    await wait(20)
    assert collecting() == "on"
    # The admin enables the mill remotely within the run-on: it keeps running.
    await hass.services.async_call("switch", "turn_on", {"entity_id": mill_relay}, blocking=True)
    await hass.async_block_till_done()
    await wait(40)
    assert collecting() == "on"
    await hass.services.async_call("switch", "turn_off", {"entity_id": mill_relay}, blocking=True)
    await hass.async_block_till_done()
    await wait(25)
    assert collecting() == "on"  # 30 s after the last machine stopped, not before
    await wait(10)
    assert collecting() == "off"
    # A machine not chosen (the saw) has its own collector.
    saw_relay = entity(hass, hub, "switch", "saw", "relay")
    await hass.services.async_call("switch", "turn_on", {"entity_id": saw_relay}, blocking=True)
    await hass.async_block_till_done()
    assert collecting() == "off"


@pytest.fixture
async def loopback_http(hass: HomeAssistant, socket_enabled: None) -> None:
    """Let Home Assistant's HTTP server start on a free loopback port, not on 8123."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http = {"server_host": ["127.0.0.1"], "server_port": port}
    assert await async_setup_component(hass, "http", {"http": http})


@pytest.mark.parametrize(("relay_on", "expected"), [(False, "off"), (True, "on")])
async def test_the_dust_collector_is_set_right_when_home_assistant_starts(
    hass: HomeAssistant,
    loopback_http: None,
    dust_hub: MockConfigEntry,
    config_dir: Path,
    relay_on: bool,
    expected: str,
) -> None:
    collector = "switch.dust_power"
    relay = entity(hass, dust_hub, "switch", "metal-mill", "relay")
    # Left on (or off) while Home Assistant was down.
    service = "turn_off" if relay_on else "turn_on"
    await hass.services.async_call("switch", service, {"entity_id": collector}, blocking=True)
    if relay_on:
        await hass.services.async_call("switch", "turn_on", {"entity_id": relay}, blocking=True)
    # The automation is set up while Home Assistant starts, then it has started.
    hass.set_state(CoreState.not_running)
    await use_blueprint(
        hass, config_dir, "dust_collector", machine_relays=[relay], collector=collector
    )
    assert hass.states.get(collector).state != expected
    await hass.async_start()
    await hass.async_block_till_done()
    assert hass.state is CoreState.running
    assert hass.states.get(collector).state == expected
    # Stop watching before the hub unloads (its relays go unavailable = off).
    await hass.services.async_call(
        "automation", "turn_off", {"entity_id": "automation.dust_collector"}, blocking=True
    )


async def test_the_dust_collector_run_on_time_is_configurable(
    hass: HomeAssistant,
    dust_hub: MockConfigEntry,
    config_dir: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    hub = dust_hub
    collector = "switch.dust_power"
    relay = entity(hass, hub, "switch", "saw", "relay")
    await use_blueprint(
        hass,
        config_dir,
        "dust_collector",
        machine_relays=[relay],
        collector=collector,
        off_delay={"minutes": 2},
    )
    assert hass.states.get(collector).state == "off"
    await hass.services.async_call("switch", "turn_on", {"entity_id": relay}, blocking=True)
    await hass.async_block_till_done()
    assert hass.states.get(collector).state == "on"
    await hass.services.async_call("switch", "turn_off", {"entity_id": relay}, blocking=True)
    await hass.async_block_till_done()
    for seconds, expected in ((90, "on"), (35, "off")):
        assert await hub.runtime_data.storage.async_flush()
        freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert hass.states.get(collector).state == expected


# --- recording_failed_notify -------------------------------------------------------------


async def test_a_failed_recording_notifies_with_the_error(
    hass: HomeAssistant,
    make_bees: MakeBees,  # noqa: F811
    config_dir: Path,
    notifications: list[ServiceCall],
) -> None:
    bees = await make_bees(
        sensor_subentry("hive-video", "camera", camera_entity="camera.nowhere"),
        sensor_subentry("hive", "samples", entities=["sensor.hive_weight"]),
    )
    await use_blueprint(
        hass,
        config_dir,
        "recording_failed_notify",
        recording_events=[
            entity(hass, bees.entry, "event", "hive-video", "recording"),
            entity(hass, bees.entry, "event", "hive", "recording"),
        ],
        notify_action=NOTIFY,
    )
    await bees.until("2026-06-01 08:01:00")
    failed = bees.state("sensor", "hive-video", "failed_recordings")
    assert failed.state == "1"
    (sent,) = notifications  # the samples of "hive" were recorded fine
    assert sent.data["title"] == "hive-video: a recording failed"
    assert sent.data["message"] == (
        f"The recording of 2026-06-01 08:00 failed: {failed.attributes['last_error']}"
    )
    video = device_id(hass, bees.entry, "hive-video")
    assert sent.data["data"] == {"tag": f"makerspace_hub_recording_failed_{video}"}
