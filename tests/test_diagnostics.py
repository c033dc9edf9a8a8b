"""Diagnostics: the hub's configuration with every secret redacted."""

import json

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import (
    CONF_AUTHORIZATIONS_OR,
    CONF_ML_API_TOKEN,
    CONF_ML_API_URL,
    CONF_NAME,
    CONF_WEBHOOK_ID,
)

from .conftest import HUB_WEBHOOK_ID, make_hub_entry, make_subentry, setup_hub

MACHINE_WEBHOOK_ID = "b" * 64
TOKEN = "obico-token-1234567890"


async def test_diagnostics_redact_webhooks_and_tokens(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "diagnostics", {})
    entry = await setup_hub(
        hass,
        make_hub_entry(
            {CONF_ML_API_URL: "http://127.0.0.1:3333", CONF_ML_API_TOKEN: TOKEN},
            subentries=[
                make_subentry(
                    "machine",
                    "metal-mill",
                    {
                        CONF_NAME: "metal-mill",
                        CONF_AUTHORIZATIONS_OR: ["Metal Mill"],
                        CONF_WEBHOOK_ID: MACHINE_WEBHOOK_ID,
                    },
                )
            ],
        ),
    )
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    dumped = json.dumps(diagnostics)
    for secret in (HUB_WEBHOOK_ID, MACHINE_WEBHOOK_ID, TOKEN):
        assert secret not in dumped
    stored = diagnostics["entry"]
    assert stored["data"] == {CONF_NAME: "Test Makerspace", CONF_WEBHOOK_ID: "**REDACTED**"}
    assert stored["options"][CONF_ML_API_TOKEN] == "**REDACTED**"
    assert stored["options"][CONF_ML_API_URL] == "http://127.0.0.1:3333"
    (machine,) = stored["subentries"]
    assert machine["data"][CONF_WEBHOOK_ID] == "**REDACTED**"
    assert machine["data"][CONF_AUTHORIZATIONS_OR] == ["Metal Mill"]
    assert diagnostics["running"] == {
        "machines": ["metal-mill"],
        "recording_sensors": [],
        "printers": [],
    }
