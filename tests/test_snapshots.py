"""Snapshots of every platform's entities on a demo-sized makerspace.

Per platform, a table of chosen fields of each entity registry entry and a table of
the states. Later changes must not move an entity id or a unique id, nor change a
translation key, a class, a unit or a category by accident: such a change shows as
a snapshot diff to review (`pytest tests/test_snapshots.py --snapshot-update`
rewrites tests/__snapshots__/test_snapshots.ambr). No state may show a fob code or
a webhook id.

Only fields that read the same on every supported Home Assistant are kept (a whole
registry entry is not: newer releases add fields). The random config entry and
subentry ids become "ENTRY" and "<subentry title>"; times are frozen, so the
timestamps the entities show are the same on every run.
"""

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from pathlib import Path
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.makerspace_hub.const import CONF_WEBHOOK_ID
from tools.fake_ml_api import FakeMlApi

from .conftest import HUB_WEBHOOK_ID, make_hub_entry, make_subentry, setup_hub
from .fake_printers import async_setup_printer_world
from .makerspace import ADA, MACHINES, Board, members, write_members

PLATFORMS = ("binary_sensor", "button", "event", "image", "lock", "sensor", "switch")
NOW = "2026-06-01 09:58:30"  # a Monday, inside the recording sensors' window
PRINTERS = ("prusa", "voron")
FOB_TAG = re.compile(r"\bfob-[0-9a-f]{8}\b")
# An image entity's access token is random and rotates; its form stays.
IMAGE_TOKEN = re.compile(r"(?<=token=)[0-9a-f]+|^[0-9a-f]{48,64}$")
REGISTRY_FIELDS = (
    "unique_id",
    "translation_key",
    "device_class",
    "original_device_class",
    "capabilities",
    "unit_of_measurement",
    "entity_category",
    "disabled_by",
    "hidden_by",
)


def printer_subentry(name: str, action: str) -> Any:
    return make_subentry(
        "printer",
        name,
        {
            "name": name,
            "camera_entity": f"camera.{name}_cam",
            "status_entity": f"sensor.{name}_status",
            "printing_states": ["printing"],
            "paused_states": ["paused"],
            "action": action,
            "pause_entity": f"input_button.{name}_pause",
            "sensitivity": 1.0,
            "poll_interval": 10,
        },
    )


def recording_subentry(name: str, kind: str, **data: Any) -> Any:
    return make_subentry(
        "recording_sensor",
        name,
        {
            "name": name,
            "kind": kind,
            "capture_window_start": "08:00:00",
            "capture_window_end": "20:00:00",
            "capture_duration_seconds": 60,
            "capture_interval_seconds": 300,
            "auto_start": True,
        }
        | data,
    )


@pytest.fixture
async def makerspace(
    hass: HomeAssistant,
    config_dir: Path,
    freezer: FrozenDateTimeFactory,
    ml_api: FakeMlApi,
    hass_client_no_auth: ClientSessionGenerator,
) -> MockConfigEntry:
    """Four machines, two printers, two recording sensors; Ada on the metal mill."""
    freezer.move_to(datetime.fromisoformat(NOW).replace(tzinfo=dt_util.get_default_time_zone()))
    write_members(config_dir, members(dt_util.now().date()))
    await async_setup_printer_world(hass, *PRINTERS)
    for name in PRINTERS:
        hass.states.async_set(f"sensor.{name}_status", "idle")
    hass.states.async_set("sensor.hive_temperature", "21.5")
    hass.services.async_register("notify", "pixel", lambda call: None)
    subentries = [
        *MACHINES,  # metal mill, hammer (warn only), compressor (always on), saw (2 relays)
        printer_subentry("prusa", "pause"),
        printer_subentry("voron", "notify"),
        recording_subentry("hive", "samples", entities=["sensor.hive_temperature"]),
        recording_subentry("workbench", "camera", camera_entity="camera.prusa_cam"),
    ]
    options = {"ml_api_url": ml_api.url, "notify_services": ["notify.pixel"]}
    entry = await setup_hub(hass, make_hub_entry(options, subentries))
    client = await hass_client_no_auth()  # once the webhooks' HTTP server exists
    await Board(client, "metal-mill").post(ADA)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


def _plain(value: Any, names: Mapping[str, str]) -> Any:
    """Return `value` with enums as values, times as text and random ids as names."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        # Newer Home Assistant keys attributes and capabilities with StrEnums.
        return {_plain(key, names): _plain(item, names) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, names) for item in value]
    if isinstance(value, str):
        for random_id, name in names.items():
            value = value.replace(random_id, name)
        # A keyed fob tag depends on the installation's random secret; its form stays.
        value = FOB_TAG.sub("fob-<tag>", value)
        value = IMAGE_TOKEN.sub("<token>", value)
    return value


def _stable_names(entry: MockConfigEntry, ml_api: FakeMlApi, config_dir: Path) -> dict[str, str]:
    names = {entry.entry_id: "ENTRY", ml_api.url: "<ML API>", str(config_dir): "<config>"}
    names |= {s.subentry_id: f"<{s.title}>" for s in entry.subentries.values()}
    return names


def _secrets(entry: MockConfigEntry) -> set[str]:
    """Return every fob code and webhook id of the makerspace (in any form)."""
    codes = {fob for m in members(dt_util.now().date()) for fob in m["fob_codes"]}
    webhooks = {HUB_WEBHOOK_ID} | {
        str(s.data[CONF_WEBHOOK_ID]) for s in entry.subentries.values() if CONF_WEBHOOK_ID in s.data
    }
    return codes | {code.lstrip("0") for code in codes} | webhooks


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_entities_of_each_platform(
    hass: HomeAssistant,
    makerspace: MockConfigEntry,
    ml_api: FakeMlApi,
    config_dir: Path,
    snapshot: SnapshotAssertion,
    platform: str,
) -> None:
    entries = sorted(
        (
            entry
            for entry in er.async_entries_for_config_entry(er.async_get(hass), makerspace.entry_id)
            if entry.domain == platform
        ),
        key=lambda entry: entry.entity_id,
    )
    assert entries
    registry = {e.entity_id: {name: getattr(e, name) for name in REGISTRY_FIELDS} for e in entries}
    states: dict[str, dict[str, Any] | None] = {}
    for e in entries:
        state = hass.states.get(e.entity_id)  # None: disabled by default
        states[e.entity_id] = (
            None if state is None else {"state": state.state, "attributes": dict(state.attributes)}
        )
    shown = repr(states)
    leaked = sorted(secret for secret in _secrets(makerspace) if secret in shown)
    assert not leaked, f"secrets in states: {leaked}"
    names = _stable_names(makerspace, ml_api, config_dir)
    assert _plain(registry, names) == snapshot(name="registry")
    assert _plain(states, names) == snapshot(name="states")
