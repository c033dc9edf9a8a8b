"""Alerts in Home Assistant's language (issue 18): German under `hass.config.language`
"de", English by default, and English for whatever a language lacks.

The alerts come from real happenings: a board's posts (fob guessing), a printer's
failing frames scored by the fake ML API, a hung disk under a machine's state file.
"""

import asyncio
import json
import os
from pathlib import Path
import shutil
import time

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.loader import async_get_integration
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub import alerts
from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.machines.rules import GUESS_LIMIT

from .conftest import make_hub_entry, make_subentry, setup_hub, subentry_by_title
from .makerspace import Board, makerspace_entry, members, write_members
from .printers.conftest import make_shop  # noqa: F401 - the fixture
from .printers.shop import MakeShop, failure
from .slow_disk import SlowDisk


def _notify(hass: HomeAssistant) -> list[ServiceCall]:
    calls: list[ServiceCall] = []

    async def handler(call: ServiceCall) -> None:
        calls.append(call)

    hass.services.async_register("notify", "admins", handler)
    return calls


async def _guess(client: TestClient) -> None:
    """Present more unknown fobs at metal-mill's board than a member ever fumbles."""
    board = Board(client, "metal-mill")
    for code in range(GUESS_LIMIT + 1):
        await board.post(f"{4000000000 + code}")
        await board.post()


@pytest.mark.parametrize(
    ("language", "title", "message"),
    [
        (
            None,  # Home Assistant's default
            "metal-mill: someone may be guessing fob codes",
            (
                "More than 10 unknown cards were presented at metal-mill within 60 s. Its "
                "board refuses every card for 5 minutes (an admin's Clear ends that early)."
            ),
        ),
        (
            "de",
            "metal-mill: Möglicherweise probiert jemand Chip-Codes aus",
            (
                "An metal-mill wurden innerhalb von 60 s mehr als 10 unbekannte Karten "
                "vorgehalten. Das Board weist 5 Minuten lang jede Karte ab (ein Admin kann "
                "das mit „Freigeben“ vorzeitig beenden)."
            ),
        ),
    ],
    ids=["english_by_default", "german"],
)
async def test_a_guessing_alert_in_home_assistants_language(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    language: str | None,
    title: str,
    message: str,
) -> None:
    alerts = _notify(hass)
    write_members(config_dir, members(dt_util.now().date()))
    await setup_hub(hass, makerspace_entry(notify_services=["notify.admins"]))
    if language is not None:
        # Changed after setup (which read the English texts): the alert reads German.
        hass.config.language = language
    await _guess(await hass_client_no_auth())
    await hass.async_block_till_done(wait_background_tasks=True)
    (alert,) = alerts
    assert alert.data == {"title": title, "message": message}


async def test_a_print_failure_alert_and_its_buttons_in_german(
    hass: HomeAssistant,
    make_shop: MakeShop,  # noqa: F811
) -> None:
    hass.config.language = "de"
    shop = await make_shop("prusa")  # notify, with a pause entity: three buttons
    await shop.status("prusa", "printing", filename="benchy.gcode")
    await shop.frames(40)
    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await shop.frames(15)
    (alert,) = shop.notifications
    probability = round(shop.state("event", "prusa", "detection").attributes["probability"])
    assert alert.data["title"] == "prusa: Druck schlägt möglicherweise fehl"
    assert alert.data["message"] == (
        f"benchy.gcode auf prusa: Fehlerwahrscheinlichkeit {probability} %."
    )
    assert [button["title"] for button in alert.data["data"]["actions"]] == [
        "Druck pausieren",
        "Kein Fehler",
        "15 Min. schlummern",
    ]


async def test_a_paused_print_says_so_in_german(
    hass: HomeAssistant,
    make_shop: MakeShop,  # noqa: F811
) -> None:
    hass.config.language = "de"
    shop = await make_shop(("prusa", {"action": "pause"}))
    await shop.status("prusa", "printing", filename="benchy.gcode")
    await shop.frames(40)
    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await shop.frames(15)
    (alert,) = shop.notifications
    (probability,) = [
        data["probability"] for kind, data in shop.events["prusa"] if kind == "failure"
    ]
    assert alert.data["message"] == (
        f"benchy.gcode auf prusa: Fehlerwahrscheinlichkeit {round(probability)} %. "
        "Der Druck wurde pausiert."
    )
    # Pausing already happened: no Pause print button, the other two in German.
    assert [button["title"] for button in alert.data["data"]["actions"]] == [
        "Kein Fehler",
        "15 Min. schlummern",
    ]


async def test_a_save_timeout_alert_in_german(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    from .storage.test_persistence import _change, _held, _slow_disk, _time_passes

    hass.config.language = "de"
    alerts = _notify(hass)
    entry = await setup_hub(
        hass,
        make_hub_entry(
            {"record_usage": False, "notify_services": ["notify.admins"]},
            [make_subentry("machine", "laser", {"name": "laser", "webhook_id": "l" * 64})],
        ),
    )
    disk: SlowDisk = _slow_disk(hass)
    gate = disk.hang("laser.json")
    _change(entry, "laser")
    await _held(hass, disk, "laser.json")
    await _time_passes(hass, 3, freezer)  # the stuck save counts its 1st timeout...
    await _time_passes(hass, 7, freezer)  # ...and its 2nd: the alert
    await hass.async_block_till_done(wait_background_tasks=True)
    gate.set()
    assert await entry.runtime_data.stores[
        subentry_by_title(entry, "laser").subentry_id
    ].async_flush()
    (alert,) = alerts
    assert alert.data == {
        "title": "Erneute Zeitüberschreitung beim Speichern von machine laser",
        "message": (
            "Das Speichern des Zustands von machine laser hat erneut zu lange gedauert "
            "(bisher 2 Zeitüberschreitungen: ein Speichervorgang zählt eine, wenn er länger "
            "als 2 s dauert, und eine weitere alle 8 s, solange er hängt). Der Datenträger "
            "von Home Assistant ist wahrscheinlich langsam oder hängt. Die Maschinen "
            "arbeiten aus dem Arbeitsspeicher weiter."
        ),
    }


async def test_what_a_language_lacks_is_said_in_english(
    hass: HomeAssistant,
    config_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Swiss German that lacks the oops title: that title in English, the rest German.

    Home Assistant reads the integration's translations from its folder; here it
    reads a copy of them with a de-CH.json: the German one without that text. (A
    language of its own: the test harness keeps the translations it read for the
    whole module, so this test's must not be German's.)
    """
    integration = await async_get_integration(hass, DOMAIN)
    copy = tmp_path / "integration" / "translations"
    shutil.copytree(integration.file_path / "translations", copy)
    swiss = json.loads((copy / "de.json").read_text(encoding="utf-8"))
    del swiss["exceptions"]["alert_machine_oops_title"]
    (copy / "de-CH.json").write_text(json.dumps(swiss), encoding="utf-8")
    monkeypatch.setattr(integration, "file_path", copy.parent)
    hass.config.language = "de-CH"

    alerts = _notify(hass)
    write_members(config_dir, [])
    await setup_hub(hass, makerspace_entry(notify_services=["notify.admins"], oops_alerts=True))
    await hass.services.async_call(DOMAIN, "oops", {"machine": "metal-mill"}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    (alert,) = alerts
    assert alert.data["title"] == "metal-mill was oopsed"
    assert alert.data["message"] == (
        "metal-mill: Oops gemeldet. Die Maschine bleibt aus, bis ein Admin das Oops aufhebt."
    )


async def test_a_language_without_a_file_gets_english(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    hass.config.language = "fr"
    alerts = _notify(hass)
    hass.config_entries.async_update_entry(
        hub, options=dict(hub.options) | {"notify_services": ["notify.admins"], "oops_alerts": True}
    )
    await hass.async_block_till_done()
    await hass.services.async_call(DOMAIN, "lockout", {"machine": "hammer"}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    (alert,) = alerts
    assert alert.data == {
        "title": "hammer was locked out",
        "message": "hammer was locked out. It stays off until an admin clears it.",
    }


async def test_an_alert_never_waits_long_on_a_hung_translations_read(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The language changed, and its file hangs (a FIFO nobody writes): the alert goes
    out in the English already read instead of waiting for the disk."""
    integration = await async_get_integration(hass, DOMAIN)
    copy = tmp_path / "integration" / "translations"
    shutil.copytree(integration.file_path / "translations", copy)
    hanging = copy / "de-AT.json"
    os.mkfifo(hanging)
    monkeypatch.setattr(integration, "file_path", copy.parent)
    monkeypatch.setattr(alerts, "TEXTS_TIMEOUT_SEC", 0.1)
    sent = asyncio.Event()
    calls: list[ServiceCall] = []

    async def handler(call: ServiceCall) -> None:
        calls.append(call)
        sent.set()

    hass.services.async_register("notify", "admins", handler)
    hass.config_entries.async_update_entry(
        hub, options=dict(hub.options) | {"notify_services": ["notify.admins"], "oops_alerts": True}
    )
    await hass.async_block_till_done()
    hass.config.language = "de-AT"

    def release() -> bool:
        """Give the hung reader a document; return whether one was reading."""
        for _ in range(1000):
            try:  # opens only while a reader waits on the FIFO
                writer = os.open(hanging, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.01)
                continue
            os.write(writer, b"{}")
            os.close(writer)
            return True
        return False

    try:
        await hass.services.async_call(DOMAIN, "lockout", {"machine": "hammer"}, blocking=True)
        async with asyncio.timeout(30):  # a bound for a broken test, not a measurement
            await sent.wait()
    finally:
        # The alert went out while the translations' read still hung.
        assert await hass.async_add_executor_job(release)
    assert calls[0].data["title"] == "hammer was locked out"
    await hass.async_block_till_done(wait_background_tasks=True)
