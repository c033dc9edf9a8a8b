"""Diagnostics, and a scan that no secret leaks into states, events, diagnostics or logs."""

import json
import logging
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import (
    CONF_ML_API_TOKEN,
    CONF_ML_API_URL,
    CONF_NAME,
    CONF_WEBHOOK_ID,
)
from custom_components.makerspace_hub.machines.installation import async_get_fob_keys

from .conftest import HUB_WEBHOOK_ID, find_device, make_hub_entry, setup_hub, subentry_by_title
from .makerspace import (
    ADA,
    KENNETH,
    UNKNOWN,
    Board,
    machine_of,
    makerspace_entry,
    members,
    webhook_of,
    write_members,
)

TOKEN = "obico-token-1234567890"


async def test_diagnostics_redact_webhooks_tokens_and_cards(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "diagnostics", {})
    write_members(config_dir, members(dt_util.now().date()))
    entry = await setup_hub(
        hass,
        makerspace_entry(**{CONF_ML_API_URL: "http://127.0.0.1:3333", CONF_ML_API_TOKEN: TOKEN}),
    )
    await Board(await hass_client_no_auth(), "metal-mill").post(ADA)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    stored = diagnostics["entry"]
    assert stored["data"] == {CONF_NAME: "Test Makerspace", CONF_WEBHOOK_ID: "**REDACTED**"}
    assert stored["options"][CONF_ML_API_TOKEN] == "**REDACTED**"
    assert stored["options"][CONF_ML_API_URL] == "http://127.0.0.1:3333"
    assert all(s["data"][CONF_WEBHOOK_ID] == "**REDACTED**" for s in stored["subentries"])
    assert diagnostics["hub"]["members"]["count"] == 6
    mill = next(m for m in diagnostics["machines"] if m["name"] == "metal-mill")
    assert mill["reply"]["display"] == "Welcome,\n**REDACTED**"
    assert mill["state"]["card"] == "**REDACTED**"  # the keyed digest is saved, not shown
    keys = await async_get_fob_keys(hass)
    assert mill["card"] == keys.tag("0012345678")
    # Who runs the machine is personal data: redacted in a download meant to be shared.
    session = mill["state"]["session"]
    assert {session[key] for key in ("name", "full_name", "account_id")} == {"**REDACTED**"}
    assert "Ada" not in json.dumps(diagnostics["machines"])
    usage = diagnostics["hub"]["usage_records"]
    assert (usage["recording"], usage["retention_days"]) == (True, 1096)
    assert usage["database"] == str(config_dir / "makerspace_hub" / "usage.db")
    assert (usage["waiting_to_be_written"], usage["save_timeouts"]) == (0, 0)

    device = find_device(hass, subentry_by_title(entry, "metal-mill").subentry_id)
    assert device is not None
    per_device = await get_diagnostics_for_device(hass, hass_client, entry, device)
    assert per_device["machine"]["name"] == "metal-mill"
    assert per_device["subentry"][CONF_WEBHOOK_ID] == "**REDACTED**"
    hub_device = find_device(hass, entry.entry_id)
    assert hub_device is not None
    assert (
        "members" in (await get_diagnostics_for_device(hass, hass_client, entry, hub_device))["hub"]
    )


async def test_no_secret_in_states_events_diagnostics_or_logs(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    assert await async_setup_component(hass, "diagnostics", {})
    write_members(config_dir, members(dt_util.now().date()))
    entry = await setup_hub(
        hass, makerspace_entry(**{CONF_ML_API_URL: "http://127.0.0.1:9", CONF_ML_API_TOKEN: TOKEN})
    )
    client = await hass_client_no_auth()
    for name, cards in (
        ("metal-mill", [ADA, KENNETH, UNKNOWN]),
        ("hammer", [KENNETH]),
        ("compressor", [ADA]),
    ):
        board = Board(client, name)
        for card in cards:
            await board.post(card)
            await board.post(card, oops=True)
            await board.post()
            machine_of(entry, name).async_set_flags(oopsed=False)
    await hass.async_block_till_done()

    secrets = {
        TOKEN,
        HUB_WEBHOOK_ID,
        *(webhook_of(entry, name) for name in ("metal-mill", "hammer", "compressor", "saw")),
    }
    for card in (ADA, KENNETH, UNKNOWN):
        secrets |= {card, card.rjust(10, "0")}
    exposed = [json.dumps(state.as_dict(), default=str) for state in hass.states.async_all()]
    exposed.append(
        json.dumps(await get_diagnostics_for_config_entry(hass, hass_client, entry), default=str)
    )
    exposed += [
        json.dumps(await get_diagnostics_for_device(hass, hass_client, entry, device), default=str)
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    ]
    # Home Assistant keeps aiohttp's access log at WARNING; only the test server logs it.
    exposed += [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.INFO and r.name != "aiohttp.access"
    ]
    text = "\n".join(exposed)
    assert "Welcome" in text or "login" in text  # the scenario did run
    leaked = [secret for secret in secrets if secret in text]
    assert not leaked


async def test_printer_diagnostics_include_recent_frames(
    hass: HomeAssistant, config_dir: Path, hass_client: ClientSessionGenerator
) -> None:
    from .printers.shop import printer_subentry

    assert await async_setup_component(hass, "diagnostics", {})
    entry = await setup_hub(hass, make_hub_entry(subentries=[printer_subentry("prusa")]))
    printer = next(iter(entry.runtime_data.printers.values()))
    printer.detector.add_frame(0.4)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    (shown,) = diagnostics["printers"]
    assert shown["name"] == "prusa"
    assert shown["detector"]["lifetime_frame_num"] == 1
    assert shown["recent_frames"] == []
    assert shown["available"] is False  # no ML API configured
    device = find_device(hass, subentry_by_title(entry, "prusa").subentry_id)
    assert device is not None
    per_device = await get_diagnostics_for_device(hass, hass_client, entry, device)
    assert per_device["printer"]["name"] == "prusa"
