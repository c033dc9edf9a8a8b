"""The demo makerspace, set up through Home Assistant's HTTP API like `scripts/develop` does.

The demo's own code drives a real Home Assistant over HTTP: the config flows that
create the camera, the hub, its machines (one added, two imported from dm_mac), the
recording sensor and the printer; then its boards post to the real webhooks and
its shop sets the printer's status. The dashboard example must only name entities
that this makerspace has.
"""

from collections.abc import AsyncGenerator
from io import BytesIO
from itertools import islice
from pathlib import Path
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.printers.boxes import draw_boxes
from custom_components.makerspace_hub.printers.ml_api import read_prediction
from tools.demo.boards import Board, scenario
from tools.demo.homeassistant_api import HomeAssistantApi
from tools.demo.makerspace import IMPORTED, LASER, MEMBERS, PRINTER_STATUS_ENTITY
from tools.demo.provision import DEMO_FOLDER, async_provision, prepare
from tools.demo.shop import SPAGHETTI, SPAGHETTI_AREA, draw, judge
from tools.fake_ml_api import FakeMlApi

REPO = Path(__file__).parent.parent
# What the demo's configuration.yaml sets up that the makerspace needs.
DEMO_DOMAINS = ("input_button", "input_boolean", "template")


@pytest.fixture
async def demo_api(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client: ClientSessionGenerator,
    hass_access_token: str,
    socket_enabled: None,
) -> AsyncGenerator[HomeAssistantApi]:
    """Return the demo's API client, signed in to a Home Assistant with its config."""
    await hass.async_add_executor_job(prepare, config_dir)
    configuration = await hass.async_add_executor_job(
        load_yaml, str(config_dir / "configuration.yaml")
    )
    # `image` too: the hub's image platform loads it, and a test server takes no new
    # routes once it runs (Home Assistant's own server does).
    for domain in ("config", "api", "camera", "image", DOMAIN, *DEMO_DOMAINS):
        assert await async_setup_component(hass, domain, {domain: configuration.get(domain)})
    client = await hass_client()  # after every view is registered
    async with aiohttp.ClientSession() as session:
        api = HomeAssistantApi(session, str(client.make_url("")))
        api.access_token = hass_access_token
        yield api


def dashboard_entities() -> set[str]:
    """Return every entity id the dashboard example names."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "entity" and isinstance(value, str):
                    found.add(value)
                elif key == "entities" and isinstance(value, list):
                    found.update(v for v in value if isinstance(v, str))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(load_yaml(str(REPO / "examples" / "dashboard.yaml")))
    return found


async def test_the_demo_sets_up_and_its_boards_and_printer_work(
    hass: HomeAssistant, config_dir: Path, demo_api: HomeAssistantApi
) -> None:
    ml_api = FakeMlApi(judge=judge, history=False)
    await ml_api.start()
    try:
        setup = await async_provision(demo_api, config_dir, ml_api.url)
        await hass.async_block_till_done(wait_background_tasks=True)
    finally:
        await ml_api.stop()

    (entry,) = hass.config_entries.async_entries(DOMAIN)
    assert entry.entry_id == setup.entry_id
    kinds = sorted(s.subentry_type for s in entry.subentries.values())
    assert kinds == ["machine", "machine", "machine", "printer", "recording_sensor"]
    assert entry.options["ml_api_url"] == ml_api.url
    hub = entry.runtime_data
    assert len(hub.members_file.members) == len(MEMBERS)
    assert {m.name for m in hub.machines.values()} == {m.name for m in (LASER, *IMPORTED)}
    # The laser logs an idle member out (its board reports the current).
    laser = next(m for m in hub.machines.values() if m.name == LASER.name)
    assert laser.settings.idle_logout_minutes == LASER.idle_logout_minutes == 1
    assert laser.settings.service_interval_hours == 1
    assert hass.states.get("camera.demo_printer_camera") is not None

    # The boards: the laser on its own URL, the imported machines on the hub's.
    session = demo_api.session
    lines: list[str] = []
    for machine in (LASER, *IMPORTED):
        path = setup.laser_path if machine is LASER else setup.hub_path
        board = Board(machine, demo_api.base_url + path, session, lines.append)
        login, logout, intruder, out = islice(scenario(machine), 4)
        await board.insert(login.card)
        assert board.outputs.relay
        assert board.outputs.display.startswith("Welcome,\n")
        await board.insert(logout.card)
        assert not board.outputs.relay
        await board.insert(intruder.card)
        assert not board.outputs.relay
        assert board.outputs.display in ("Unknown RFID", "Unauthorized", "Membership\nExpired")
        await board.insert(out.card)
        assert board.outputs.display == "Please Insert\nRFID Card"
        assert board.errors == 0
    assert any("Welcome, Grace" in line for line in lines)
    assert hass.states.get("sensor.laser_cutter_sessions").state == "1"

    # The shop sets the printer's status through the API, like a printer integration.
    await demo_api.set_state(PRINTER_STATUS_ENTITY, "printing", {"filename": "benchy.gcode"})
    await hass.async_block_till_done()
    printer = next(iter(hub.printers.values()))
    assert printer.job.active
    assert printer.job.name == "benchy.gcode"

    # Every entity the dashboard example shows exists in the demo makerspace.
    await demo_api.set_state("sensor.demo_shop_temperature", "21.0", {})
    missing = {e for e in dashboard_entities() if hass.states.get(e) is None}
    assert not missing

    # A second run finds the makerspace set up and changes nothing.
    assert await async_provision(demo_api, config_dir, ml_api.url) == setup
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    assert (config_dir / DEMO_FOLDER / "demo.json").exists()


def test_the_fake_ml_api_sees_spaghetti_only_in_spaghetti() -> None:
    failure = judge(SPAGHETTI)
    assert sum(confidence for _, confidence, _ in failure) > 1.5
    # Its boxes are where the spaghetti is: the detection image shows them there.
    left, top, right, bottom = SPAGHETTI_AREA
    for _, _, (xc, yc, w, h) in failure:
        assert left <= xc - w / 2 < xc + w / 2 <= right
        assert top <= yc - h / 2 < yc + h / 2 <= bottom
    drawn = draw_boxes(SPAGHETTI, read_prediction({"detections": failure}).detections)
    assert drawn is not None
    with Image.open(BytesIO(drawn)) as picture:
        red = picture.convert("RGB").getpixel((left + 1, (top + bottom) // 2))
    assert isinstance(red, tuple)
    assert red[0] > 180
    assert max(red[1:]) < 80
    for _ in range(50):
        assert sum(c for _, c, _ in judge(draw(0.5, spaghetti=False))) < 0.25


def test_the_lasers_members_sometimes_walk_away_until_logged_out() -> None:
    steps = list(islice(scenario(LASER), 12))
    walk_away = next(i for i, step in enumerate(steps) if step.idle)
    login, idle, back = steps[walk_away - 1], steps[walk_away], steps[walk_away + 1]
    assert idle.card == login.card  # the card stays in the reader
    assert back.card == ""
    assert back.wait > LASER.idle_logout_minutes * 60  # the hub logs them out first
    assert not any(step.idle for machine in IMPORTED for step in islice(scenario(machine), 12))
