"""The webhooks: routing, bad input (a JSON 4xx that changes nothing), never waiting
on the disk, local network only."""

import json
import logging
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.storage.hub_storage import DATA_STORAGE

from ..conftest import HUB_WEBHOOK_ID, setup_hub
from ..makerspace import (
    ADA,
    Board,
    machine_of,
    makerspace_entry,
    members,
    webhook_of,
    write_members,
)
from ..slow_disk import SlowDisk


async def test_machine_webhook_needs_no_machine_name(
    hub: MockConfigEntry, client: TestClient
) -> None:
    url = f"/api/webhook/{webhook_of(hub, 'metal-mill')}"
    await client.post(url, json={"uptime": 1})  # no card yet: the next one is judged
    response = await client.post(url, json={"rfid_value": ADA, "uptime": 2})
    assert response.status == 200
    assert (await response.json())["display"] == "Welcome,\nAda"
    response = await client.post(url, json={"machine_name": "metal-mill", "rfid_value": ADA})
    assert response.status == 200


async def test_a_machine_webhook_cannot_speak_for_another_machine(
    hub: MockConfigEntry, client: TestClient
) -> None:
    hammer = machine_of(hub, "hammer")
    before = hammer.state.as_dict()
    response = await client.post(
        f"/api/webhook/{webhook_of(hub, 'metal-mill')}",
        json={"machine_name": "hammer", "rfid_value": ADA},
    )
    assert response.status == 200
    reply = await response.json()
    assert (reply["relay"], reply["display"]) == (False, "Unknown machine\ncheck its name")
    assert hammer.state.as_dict() == before
    assert machine_of(hub, "metal-mill").state.last_checkin is None


async def test_unknown_extra_keys_are_ignored(hub: MockConfigEntry, client: TestClient) -> None:
    reply = await Board(client, "metal-mill").post(ADA, foo="bar", amps=2.5, nested={"a": [1]})
    assert reply["relay"] is True
    assert machine_of(hub, "metal-mill").state.telemetry["amps"] == 2.5


async def test_a_minimal_post_gets_the_idle_reply(hub: MockConfigEntry, client: TestClient) -> None:
    response = await client.post(
        f"/api/webhook/{HUB_WEBHOOK_ID}", json={"machine_name": "metal-mill"}
    )
    assert await response.json() == {
        "relay": False,
        "display": "Please Insert\nRFID Card",
        "oops_led": False,
        "status_led_rgb": [0.0, 0.0, 0.0],
        "status_led_brightness": 0.0,
        "second_relay": False,
    }


BAD_BODIES: list[tuple[Any, int, str]] = [
    (b"", 400, "request body is not valid JSON"),
    (b"{not json", 400, "request body is not valid JSON"),
    (b"\xff\xfe\x00", 400, "request body is not valid JSON"),
    (b'{"machine_name": "metal-mill", "uptime": NaN}', 400, "request body is not valid JSON"),
    (b"[" * 5000 + b"]" * 5000, 400, "request body must be a JSON object"),
    (b"[" * 200000 + b"]" * 200000, 413, "request body larger than 16384 bytes"),
    (
        b'{"machine_name": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        400,
        "machine_name must be a string",
    ),
    ([1, 2], 400, "request body must be a JSON object"),
    ("text", 400, "request body must be a JSON object"),
    ({}, 400, "machine_name is required"),
    ({"oops": True}, 400, "machine_name is required"),
    ({"machine_name": 7}, 400, "machine_name must be a string"),
    ({"machine_name": "metal-mill", "oops": "yes"}, 400, "oops must be true or false"),
    ({"machine_name": "metal-mill", "rfid_value": 12345678}, 400, "rfid_value must be a string"),
    (
        {"machine_name": "metal-mill", "rfid_value": "12ab"},
        400,
        "rfid_value must be a decimal tag number",
    ),
    (
        {"machine_name": "metal-mill", "rfid_value": "٣٣"},
        400,
        "rfid_value must be a decimal tag number",
    ),
    ({"machine_name": "metal-mill", "uptime": "59"}, 400, "uptime must be a number"),
    ({"machine_name": "metal-mill", "uptime": -1}, 400, "uptime must not be negative"),
    ({"machine_name": "metal-mill", "uptime": True}, 400, "uptime must be a number"),
    ({"machine_name": "metal-mill", "amps": [1]}, 400, "amps must be a number"),
    (
        b'{"machine_name": "metal-mill", "uptime": 1' + b"0" * 400 + b"}",
        400,
        "uptime must be a number",
    ),
    (
        b'{"machine_name": "metal-mill", "wifi_signal_db": 1e400}',
        400,
        "wifi_signal_db must be a number",
    ),
    (
        {"machine_name": "metal-mill", "second_relay_state": 1},
        400,
        "second_relay_state must be true or false",
    ),
]


@pytest.mark.parametrize(("body", "status", "error"), BAD_BODIES)
async def test_bad_input_gets_a_json_error_and_changes_nothing(
    hub: MockConfigEntry,
    client: TestClient,
    caplog: pytest.LogCaptureFixture,
    body: Any,
    status: int,
    error: str,
) -> None:
    board = Board(client, "metal-mill")
    await board.post(ADA)
    mill = machine_of(hub, "metal-mill")
    before = mill.state.as_dict()
    caplog.clear()
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await client.post(
        f"/api/webhook/{HUB_WEBHOOK_ID}", data=data, headers={"Content-Type": "application/json"}
    )
    assert response.status == status
    assert await response.json() == {"error": error}
    assert mill.state.as_dict() == before
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "Traceback" not in caplog.text


async def test_body_size_limit(hub: MockConfigEntry, client: TestClient) -> None:
    url = f"/api/webhook/{HUB_WEBHOOK_ID}"
    fits = json.dumps({"machine_name": "metal-mill", "pad": "x" * (16 * 1024 - 41)})
    assert len(fits) <= 16 * 1024
    assert (
        await client.post(url, data=fits, headers={"Content-Type": "application/json"})
    ).status == 200
    too_big = json.dumps({"machine_name": "metal-mill", "pad": "x" * (16 * 1024)})
    response = await client.post(url, data=too_big, headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert "error" in await response.json()

    async def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(20):
            yield b" " * 1024

    response = await client.post(url, data=chunks(), headers={"Content-Type": "application/json"})
    assert response.status == 413


@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_boards_must_post(hub: MockConfigEntry, client: TestClient, method: str) -> None:
    response = await client.request(method, f"/api/webhook/{HUB_WEBHOOK_ID}")
    assert response.status == 405
    assert await response.json() == {"error": "boards must POST"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_content_must_be_json(
    hub: MockConfigEntry, client: TestClient, content_type: str
) -> None:
    response = await client.post(
        f"/api/webhook/{HUB_WEBHOOK_ID}",
        data=json.dumps({"machine_name": "metal-mill"}),
        headers={"Content-Type": content_type},
    )
    assert response.status == 415
    assert await response.json() == {"error": "send application/json"}


async def test_json_without_a_content_type_is_accepted(
    hub: MockConfigEntry, client: TestClient
) -> None:
    response = await client.post(
        f"/api/webhook/{HUB_WEBHOOK_ID}",
        data=json.dumps({"machine_name": "metal-mill"}).encode(),
        headers={"Content-Type": "application/vnd.board+json; charset=utf-8"},
    )
    assert response.status == 200


async def test_replies_never_wait_on_a_hung_disk(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, config_dir: Path
) -> None:
    disk = SlowDisk()
    hass.data[DATA_STORAGE].writer = disk
    gate = disk.hang("metal-mill.json")
    board = Board(client, "metal-mill")
    try:
        assert (await board.post(ADA))["relay"] is True
        assert await hass.async_add_executor_job(disk.wait_until_held, "metal-mill.json")
        for _ in range(20):
            assert (await board.post(ADA))["relay"] is True
        assert (await board.post())["relay"] is False
        assert disk.writes["metal-mill.json"] == 0
    finally:
        gate.set()
    assert await machine_of(hub, "metal-mill").store.async_flush()
    saved = json.loads(
        (
            config_dir
            / ".storage"
            / "makerspace_hub"
            / hub.entry_id
            / "machine"
            / "metal-mill.json"
        ).read_text()
    )
    assert saved["data"]["session"] is None
    assert saved["data"]["sessions"] == 1


async def test_webhooks_are_local_only_unless_the_hub_allows_the_internet(
    hass: HomeAssistant, config_dir: Path, hass_client_no_auth: ClientSessionGenerator
) -> None:
    # Requests come through a trusted local proxy, which names the real client.
    assert await async_setup_component(
        hass,
        "http",
        {"http": {"use_x_forwarded_for": True, "trusted_proxies": ["127.0.0.1"]}},
    )
    write_members(config_dir, members(dt_util.now().date()))
    entry = await setup_hub(hass, makerspace_entry())
    client = await hass_client_no_auth()
    body = {"machine_name": "metal-mill", "rfid_value": ADA}

    async def post(webhook_id: str, address: str, status: int = 200) -> str:
        response = await client.post(
            f"/api/webhook/{webhook_id}", json=body, headers={"X-Forwarded-For": address}
        )
        assert response.status == status
        return await response.text()

    body = {"machine_name": "metal-mill", "uptime": 100}  # no card yet: the next is judged
    await post(HUB_WEBHOOK_ID, "192.168.1.50")
    body = {"machine_name": "metal-mill", "rfid_value": ADA, "uptime": 100}
    assert "Welcome" in await post(HUB_WEBHOOK_ID, "192.168.1.50")
    mill = machine_of(entry, "metal-mill")
    before = mill.state.as_dict()
    body = {"machine_name": "metal-mill", "oops": True}
    for webhook_id in (HUB_WEBHOOK_ID, webhook_of(entry, "metal-mill")):
        refused = json.loads(await post(webhook_id, "8.8.8.8", 403))
        assert refused == {
            "error": "only the local network may post here (the hub's options can allow the internet)"
        }
    assert mill.state.as_dict() == before
    # With an uptime, as boards send it: after the reload, the first post without one
    # would end the session (a reboot could not be ruled out).
    body = {"machine_name": "metal-mill", "rfid_value": ADA, "uptime": 100}

    hass.config_entries.async_update_entry(
        entry, options=entry.options | {"webhooks_allow_internet": True}
    )
    await hass.async_block_till_done()
    assert "Welcome" in await post(HUB_WEBHOOK_ID, "8.8.8.8")

    # Not running, the stored options decide (unreadable ones: the local network only).
    assert await hass.config_entries.async_unload(entry.entry_id)
    not_running = {
        "relay": False,
        "display": "Hub not running\nplease wait",
        "oops_led": False,
        "status_led_rgb": [1.0, 0.5, 0.0],
        "status_led_brightness": 0.5,
        "second_relay": False,
    }
    assert json.loads(await post(HUB_WEBHOOK_ID, "8.8.8.8")) == not_running
    for options in ({"webhooks_allow_internet": False}, {"expiry_grace_days": "seven"}):
        hass.config_entries.async_update_entry(entry, options=entry.options | options)
        assert "local network" in json.loads(await post(HUB_WEBHOOK_ID, "8.8.8.8", 403))["error"]
        assert json.loads(await post(HUB_WEBHOOK_ID, "192.168.1.50")) == not_running
