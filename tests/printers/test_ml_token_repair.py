"""The rejected-token repair: its fix flow asks for the new token, checks it, saves it.

Through a real hub and the fake ML API, and through Home Assistant's repairs HTTP API
as the frontend drives it (`/api/repairs/issues/fix`), with an admin's login.
"""

import json
import logging
import re
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.makerspace_hub.const import CONF_ML_API_TOKEN, CONF_ML_API_URL, DOMAIN

from ..conftest import TRANSLATIONS
from .shop import MakeShop, Shop

OLD_TOKEN = "old-token-0123456789abcdef"
NEW_TOKEN = "new-token-fedcba9876543210"
WRONG_TOKEN = "wrong-token-5555555555555"
FIX_FLOW = TRANSLATIONS["issues"]["ml_api_token_rejected"]["fix_flow"]


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", text))


def _check_translated(result: dict[str, Any]) -> None:
    """Fail when the frontend would show an untranslated text or a raw placeholder."""
    if result["type"] == "abort":
        assert isinstance(FIX_FLOW["abort"][result["reason"]], str)
        return
    if result["type"] == "create_entry":
        assert result["description"] is None  # the frontend's own "Repaired" text
        return
    assert result["type"] == "form", result
    step = FIX_FLOW["step"][result["step_id"]]
    given = set(result["description_placeholders"] or {})
    assert step["title"]
    assert _placeholders(step["description"]) <= given
    for field in result["data_schema"]:
        assert step["data"][field["name"]]
        assert step["data_description"][field["name"]]
    for error in (result["errors"] or {}).values():
        assert _placeholders(FIX_FLOW["error"][error]) <= given


async def _rejected_shop(hass: HomeAssistant, make_shop: MakeShop) -> tuple[Shop, str]:
    """Return a printing shop whose ML API has just changed its token, and the issue id."""
    # The repairs API first: Home Assistant's HTTP server takes no routes once it listens.
    assert await async_setup_component(hass, "repairs", {})
    shop = await make_shop("prusa", token=OLD_TOKEN)
    shop.ml_api.token = NEW_TOKEN  # set anew on the server
    await shop.status("prusa", "printing")
    await shop.frames(1)
    issue_id = f"ml_api_token_rejected_{shop.entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    assert shop.state("sensor", "prusa", "detection").state == "unavailable"
    return shop, issue_id


async def _start(client: TestClient, issue_id: str) -> dict[str, Any]:
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert response.status == 200, await response.text()
    result: dict[str, Any] = await response.json()
    _check_translated(result)
    return result


async def _send(client: TestClient, flow_id: str, token: str) -> dict[str, Any]:
    response = await client.post(
        f"/api/repairs/issues/fix/{flow_id}", json={CONF_ML_API_TOKEN: token}
    )
    assert response.status == 200, await response.text()
    result: dict[str, Any] = await response.json()
    _check_translated(result)
    return result


async def test_the_new_token_is_asked_checked_and_saved(
    hass: HomeAssistant,
    make_shop: MakeShop,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    shop, issue_id = await _rejected_shop(hass, make_shop)
    entry = shop.entry
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.data == {"entry_id": entry.entry_id}
    hub_before = entry.runtime_data
    client = await hass_client()

    form = await _start(client, issue_id)
    assert form["step_id"] == "token"
    assert [field["name"] for field in form["data_schema"]] == [CONF_ML_API_TOKEN]
    assert form["data_schema"][0]["required"]
    assert form["data_schema"][0]["selector"]["text"]["type"] == "password"
    assert form["description_placeholders"] == {"hub": entry.title, "url": shop.ml_api.url}
    assert form["errors"] in ({}, None)

    # A wrong token: the ML API rejects it too; nothing is saved, the issue stays.
    wrong = await _send(client, form["flow_id"], WRONG_TOKEN)
    assert wrong["type"] == "form"
    assert wrong["errors"] == {CONF_ML_API_TOKEN: "ml_api_invalid_token"}
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options[CONF_ML_API_TOKEN] == OLD_TOKEN
    assert entry.runtime_data is hub_before  # not reloaded
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    # The right one: saved in the hub's options, the hub reloads, the issue is gone.
    done = await _send(client, form["flow_id"], f"  {NEW_TOKEN} ")
    assert done["type"] == "create_entry"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options[CONF_ML_API_TOKEN] == NEW_TOKEN  # read like the options flow: stripped
    assert entry.options[CONF_ML_API_URL] == shop.ml_api.url
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not hub_before  # reloaded with the new token
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None

    # Detection works again: the reloaded hub's requests carry the new token.
    scored = len([path for path in shop.ml_api.requests if path.startswith("/p/?img=")])
    await shop.frames(2)
    assert len([path for path in shop.ml_api.requests if path.startswith("/p/?img=")]) > scored
    assert shop.state("sensor", "prusa", "detection").state == "warming_up"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    # No reauthentication (it would stop the machines too) was ever started.
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)

    # No token in full in the flow's answers, the issue or the log.
    everything = json.dumps([form, wrong, done]) + caplog.text
    everything += json.dumps(
        [
            (i.data, i.translation_placeholders)
            for i in ir.async_get(hass).issues.values()
            if i.domain == DOMAIN
        ]
    )
    for token in (OLD_TOKEN, NEW_TOKEN, WRONG_TOKEN):
        assert token not in everything


async def test_an_unreachable_ml_api_saves_nothing(
    hass: HomeAssistant, make_shop: MakeShop, hass_client: ClientSessionGenerator
) -> None:
    shop, issue_id = await _rejected_shop(hass, make_shop)
    entry = shop.entry
    client = await hass_client()
    form = await _start(client, issue_id)

    port = URL(shop.ml_api.url).port
    assert port is not None
    await shop.ml_api.stop()
    down = await _send(client, form["flow_id"], NEW_TOKEN)
    assert down["type"] == "form"
    assert down["errors"] == {"base": "ml_api_cannot_connect"}
    assert entry.options[CONF_ML_API_TOKEN] == OLD_TOKEN
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    # Something else answers there: not an Obico ML API.
    await shop.ml_api.start(port)
    shop.ml_api.health_body = "hello"
    other = await _send(client, form["flow_id"], NEW_TOKEN)
    assert other["errors"] == {"base": "ml_api_not_obico"}
    assert entry.options[CONF_ML_API_TOKEN] == OLD_TOKEN

    # Back: the same flow goes on and saves.
    shop.ml_api.health_body = "ok"
    assert (await _send(client, form["flow_id"], NEW_TOKEN))["type"] == "create_entry"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options[CONF_ML_API_TOKEN] == NEW_TOKEN


async def test_a_hub_without_ml_api_meanwhile_aborts(
    hass: HomeAssistant, make_shop: MakeShop, hass_client: ClientSessionGenerator
) -> None:
    shop, issue_id = await _rejected_shop(hass, make_shop)
    entry = shop.entry
    client = await hass_client()
    form = await _start(client, issue_id)
    # The admin removes the ML API in the hub's options while the repair is open.
    options = {
        key: value
        for key, value in entry.options.items()
        if key not in (CONF_ML_API_URL, CONF_ML_API_TOKEN)
    }
    hass.config_entries.async_update_entry(entry, options=options)
    await hass.async_block_till_done(wait_background_tasks=True)

    aborted = await _send(client, form["flow_id"], NEW_TOKEN)
    assert aborted["type"] == "abort"
    assert aborted["reason"] == "ml_api_not_configured"
    assert CONF_ML_API_TOKEN not in entry.options


async def test_only_the_token_issue_is_fixable(hass: HomeAssistant, make_shop: MakeShop) -> None:
    shop = await make_shop("prusa", snapshot_base_url="http://127.0.0.1:9")
    await shop.status("prusa", "printing")
    await shop.frames(1)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"ml_api_cannot_fetch_snapshots_{shop.entry.entry_id}"
    )
    assert issue is not None
    assert not issue.is_fixable
