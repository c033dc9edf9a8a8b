"""Shared fixtures: a temp config dir, translation checks on every flow step, hubs."""

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
import json
import logging
from pathlib import Path
from types import MappingProxyType
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import TestClient
from homeassistant import config_entries, data_entry_flow
from homeassistant.config_entries import ConfigSubentry, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import CONF_NAME, CONF_WEBHOOK_ID, DOMAIN
from custom_components.makerspace_hub.hub_options import HubOptions
from tools.fake_ml_api import FakeMlApi

TRANSLATIONS = json.loads(
    (
        Path(__file__).parent.parent / "custom_components" / DOMAIN / "translations" / "en.json"
    ).read_text(encoding="utf-8")
)
HUB_WEBHOOK_ID = "a" * 64


@pytest.fixture(autouse=True)
def home_assistant_for_this_integration(request: pytest.FixtureRequest) -> None:
    """Give a test that runs Home Assistant this checkout's integration and a config dir.

    A test of a pure module (no `hass` among its fixtures) starts no Home Assistant.
    """
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")
        request.getfixturevalue("config_dir")


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Give every test its own, real Home Assistant config directory."""
    path = tmp_path / "config"
    (path / "media").mkdir(parents=True)
    (path / "www").mkdir()
    hass.config.config_dir = str(path)
    hass.config.media_dirs = {"local": str(path / "media")}
    hass.config.allowlist_external_dirs = {str(path / "www"), str(path / "media")}
    return path


def _lookup(tree: dict[str, Any], dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _flow_category(flow: data_entry_flow.FlowHandler) -> str | None:
    if isinstance(flow, config_entries.ConfigSubentryFlow):
        return f"config_subentries.{flow.handler[1]}"
    if isinstance(flow, config_entries.OptionsFlow):
        return "options"
    if isinstance(flow, config_entries.ConfigFlow):
        return "config"
    return None


def check_flow_result_translated(category: str, result: dict[str, Any]) -> None:
    """Fail when a flow shows a step, error, abort or entry text without translation."""
    kind = result["type"]
    missing: list[str] = []

    def need(key: str) -> None:
        if not isinstance(_lookup(TRANSLATIONS, f"{category}.{key}"), str):
            missing.append(f"{category}.{key}")

    step = f"step.{result.get('step_id')}"
    if kind is data_entry_flow.FlowResultType.FORM:
        need(f"{step}.title")
        for error in (result.get("errors") or {}).values():
            need(f"error.{error}")
        schema = result.get("data_schema")
        for marker in schema.schema if schema is not None else ():
            need(f"{step}.data.{marker}")
            selector = schema.schema[marker]
            key = getattr(selector, "config", {}).get("translation_key")
            if key and not _lookup(TRANSLATIONS, f"selector.{key}.options"):
                missing.append(f"selector.{key}")
    elif kind is data_entry_flow.FlowResultType.MENU:
        need(f"{step}.title")
        for option in result["menu_options"]:
            need(f"{step}.menu_options.{option}")
    elif kind is data_entry_flow.FlowResultType.ABORT:
        need(f"abort.{result['reason']}")
    elif kind is data_entry_flow.FlowResultType.CREATE_ENTRY and result.get("description"):
        need(f"create_entry.{result['description']}")
    assert not missing, f"untranslated: {missing}"


@pytest.fixture(autouse=True)
def check_translations() -> Generator[None]:
    """Check every result of this integration's flows against translations/en.json."""
    original = data_entry_flow.FlowManager._async_handle_step

    async def handle_step(
        self: data_entry_flow.FlowManager[Any, Any, Any],
        flow: data_entry_flow.FlowHandler,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        result = await original(self, flow, *args, **kwargs)
        category = _flow_category(flow)
        handler = flow.handler[0] if isinstance(flow.handler, tuple) else flow.handler
        entry = self.hass.config_entries.async_get_entry(handler)
        domain = entry.domain if entry else handler
        if category and domain == DOMAIN:
            check_flow_result_translated(category, result)
        return result

    with patch.object(data_entry_flow.FlowManager, "_async_handle_step", handle_step):
        yield


@pytest.fixture(autouse=True)
def no_deprecations_from_us(caplog: pytest.LogCaptureFixture) -> Generator[None]:
    """Fail a test when Home Assistant reports deprecated use by this integration."""
    yield
    reports = [
        record.getMessage()
        for record in caplog.get_records("call")
        if record.levelno >= logging.WARNING
        and DOMAIN in record.getMessage()
        and any(
            marker in record.getMessage()
            for marker in ("deprecated", "Detected that custom integration", "will stop working")
        )
    ]
    assert not reports, reports


def make_subentry(subentry_type: str, title: str, data: dict[str, Any]) -> ConfigSubentryData:
    """Describe a subentry for a MockConfigEntry."""
    return ConfigSubentryData(
        data=MappingProxyType(data),
        subentry_type=subentry_type,
        title=title,
        unique_id=data.get(CONF_NAME),
    )


def make_hub_entry(
    options: dict[str, Any] | None = None,
    subentries: list[ConfigSubentryData] | None = None,
    name: str = "Test Makerspace",
) -> MockConfigEntry:
    """Return a hub entry as the config flow would store it."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=name,
        unique_id=name.lower().replace(" ", "_"),
        data={CONF_NAME: name, CONF_WEBHOOK_ID: HUB_WEBHOOK_ID},
        options=HubOptions().as_options() | (options or {}),
        subentries_data=subentries or [],
    )


async def setup_hub(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add and set up a hub entry."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def hub(hass: HomeAssistant, config_dir: Path) -> MockConfigEntry:
    """The test makerspace of tests/makerspace.py, set up with its members file."""
    from .makerspace import makerspace_entry, members, write_members  # it builds on this module

    write_members(config_dir, members(dt_util.now().date()))
    return await setup_hub(hass, makerspace_entry())


@pytest.fixture
async def client(hass_client_no_auth: ClientSessionGenerator) -> TestClient:
    """An HTTP client without login, like a board."""
    return await hass_client_no_auth()


def subentry_by_title(entry: config_entries.ConfigEntry, title: str) -> ConfigSubentry:
    """Return the subentry with this title."""
    return next(s for s in entry.subentries.values() if s.title == title)


def find_device(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry | None:
    """Return this integration's device with this identifier, on every supported HA."""
    registry = dr.async_get(hass)
    return next(
        (
            device
            for entry in hass.config_entries.async_entries(DOMAIN)
            for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
            if (DOMAIN, identifier) in device.identifiers
        ),
        None,
    )


def device_subentries(device: dr.DeviceEntry) -> dict[str, set[str | None]]:
    """Return {config entry id: {subentry ids}} of a device on every supported HA.

    Newer Home Assistant gives a device one entry and subentry and deprecates the
    `config_entries_subentries` mapping of the older ones.
    """
    if hasattr(device, "config_subentry_id"):
        return {device.config_entry_id: {device.config_subentry_id}}
    return device.config_entries_subentries


@pytest.fixture
async def start_ml_api(socket_enabled: None) -> AsyncGenerator[Callable[..., Awaitable[FakeMlApi]]]:
    """Start fake Obico ML APIs on loopback ports; all stop after the test."""
    servers: list[FakeMlApi] = []

    async def start(token: str | None = None) -> FakeMlApi:
        server = FakeMlApi(token)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def ml_api(start_ml_api: Callable[..., Awaitable[FakeMlApi]]) -> FakeMlApi:
    """A fake Obico ML API (no token) on a loopback port."""
    return await start_ml_api()
