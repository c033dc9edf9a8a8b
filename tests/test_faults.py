"""Faults of the world around a hub, each visible while it lasts and survived without a restart.

Every fault is real: a fake ML API (tools/fake_ml_api.py, loopback HTTP) that stalls,
fails, babbles, refuses the token or is gone; a camera that raises; a notify service
that is missing, raises or never answers; a state folder that refuses writes. Each
test shows the fault (an entity unavailable or on, a counter, a repair issue, one log
line) and then removes it: time moves on and the same running hub recovers by itself,
never reloaded.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, ServiceCall, State
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.hub import MakerspaceHub
from custom_components.makerspace_hub.printers.printer import Printer
from tools.fake_ml_api import FakeMlApi

from .conftest import make_hub_entry, make_subentry, setup_hub
from .fake_printers import PrinterCamera, async_setup_printer_world
from .makerspace import (
    ADA,
    OOPSED,
    Board,
    machine_of,
    makerspace_entry,
    members,
    screen,
    welcome,
    write_members,
)
from .slow_disk import set_immutable

TOKEN = "obico-token-for-fault-tests"
STATUS = "sensor.prusa_status"

type StartMlApi = Callable[..., Awaitable[FakeMlApi]]


def printer_subentry(**changes: Any) -> ConfigSubentryData:
    """Return the printer `prusa`, watched through `camera.prusa_cam`."""
    return make_subentry(
        "printer",
        "prusa",
        {
            "name": "prusa",
            "camera_entity": "camera.prusa_cam",
            "status_entity": STATUS,
            "printing_states": ["printing"],
            "paused_states": ["paused"],
            "action": "notify",
            "pause_entity": "input_button.prusa_pause",
            "sensitivity": 1.0,
            "poll_interval": 10,
        }
        | changes,
    )


async def settle(condition: Callable[[], bool]) -> None:
    """Let real I/O (loopback HTTP, save threads) run until `condition` holds."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition did not come true within 5 s")


@dataclass
class PrintShop:
    """A running hub with the printer `prusa`, a fake ML API and `notify.admins`."""

    hass: HomeAssistant
    entry: MockConfigEntry
    ml_api: FakeMlApi
    camera: PrinterCamera
    client: TestClient
    notifications: list[ServiceCall]

    @property
    def hub(self) -> MakerspaceHub:
        return self.entry.runtime_data

    @property
    def printer(self) -> Printer:
        return next(iter(self.hub.printers.values()))

    def state(self, platform: str, key: str, *, hub: bool = False) -> State:
        owner = "hub" if hub else self.printer.subentry_id
        entity_id = er.async_get(self.hass).async_get_entity_id(
            platform, DOMAIN, f"{self.entry.entry_id}_{owner}_{key}"
        )
        assert entity_id
        state = self.hass.states.get(entity_id)
        assert state is not None
        return state

    async def later(self, seconds: float, *, wait: bool = True) -> None:
        """Move time on; with `wait`, until the frames it started are done."""
        # Saves run in real threads: let them land first, or the jump would be
        # taken for a hung disk.
        assert await self.hub.storage.async_flush()
        async_fire_time_changed(self.hass, dt_util.utcnow() + timedelta(seconds=seconds))
        await self.hass.async_block_till_done(wait_background_tasks=wait)

    async def frames(self, count: int) -> None:
        """Let `count` poll intervals pass."""
        for _ in range(count):
            await self.later(10.5)

    async def status(self, state: str) -> None:
        self.hass.states.async_set(STATUS, state)
        await self.hass.async_block_till_done(wait_background_tasks=True)


async def open_print_shop(
    hass: HomeAssistant,
    client_factory: ClientSessionGenerator,
    ml_api: FakeMlApi,
    *,
    machines: Iterable[ConfigSubentryData] = (),
    **options: Any,
) -> PrintShop:
    """Set up a hub with the printer `prusa` (and `machines`) using `ml_api`."""
    world = await async_setup_printer_world(hass, "prusa")
    hass.states.async_set(STATUS, "idle")
    notifications: list[ServiceCall] = []

    async def admins(call: ServiceCall) -> None:
        notifications.append(call)

    hass.services.async_register("notify", "admins", admins)
    hub_options = {
        "ml_api_url": ml_api.url,
        "notify_services": ["notify.admins"],
        **({"ml_api_token": ml_api.token} if ml_api.token else {}),
        **options,
    }
    entry = await setup_hub(hass, make_hub_entry(hub_options, [*machines, printer_subentry()]))
    # The ML API fetches snapshots from Home Assistant's HTTP server, which listens
    # once a client exists.
    client: TestClient = await client_factory()
    base = str(client.make_url("")).rstrip("/")
    hass.config_entries.async_update_entry(
        entry, options=entry.options | {"snapshot_base_url": base}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    return PrintShop(hass, entry, ml_api, world["cameras"]["prusa"], client, notifications)


def messages(caplog: pytest.LogCaptureFixture, start: str) -> list[int]:
    """Return the levels of the records whose message starts with `start`."""
    return [r.levelno for r in caplog.records if r.getMessage().startswith(start)]


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return every record at ERROR or above (an unhandled exception lands here)."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


# --- the ML API -----------------------------------------------------------------------


# fault -> what the hub's ML API sensor shows as the last error
ML_API_FAULTS = {
    "timeout": "timed out",
    "server_error": "/p/ answered 500",
    "garbage": "not JSON",
    "token_rejected": "the token was rejected",
    "down": "Cannot connect to host",
}


async def break_ml_api(api: FakeMlApi, fault: str) -> None:
    """Make the fake ML API misbehave."""
    if fault == "timeout":
        api.delay = 40  # longer than the 30 s a prediction may take
    elif fault == "server_error":
        api.predict_status, api.predict_body = 500, "Internal Server Error"
    elif fault == "garbage":
        api.predict_body = "<html><body>502 Bad Gateway</body></html>"
    elif fault == "token_rejected":
        api.token = "rotated-on-the-server"
    else:
        await api.stop()


async def mend_ml_api(api: FakeMlApi, fault: str) -> FakeMlApi | None:
    """End the fault; return the server started again on the same port (`down`)."""
    api.delay = 0
    api.predict_status = api.predict_body = None
    api.token = TOKEN
    if fault != "down":
        return None
    again = FakeMlApi(TOKEN)
    await again.start(URL(api.url).port or 0)
    return again


async def faulty_frame(shop: PrintShop, fault: str) -> None:
    """Let one poll interval pass while the ML API misbehaves."""
    if fault != "timeout":
        await shop.frames(1)
        return
    asked = len(shop.ml_api.requests)
    await shop.later(10.5, wait=False)
    await settle(lambda: len(shop.ml_api.requests) > asked)  # the frame waits on the server
    await shop.later(32)  # the hub gives up on it


@pytest.mark.parametrize("fault", ML_API_FAULTS)
async def test_an_ml_api_fault_pauses_detection_until_it_ends(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    start_ml_api: StartMlApi,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    api = await start_ml_api(token=TOKEN)
    shop = await open_print_shop(hass, hass_client_no_auth, api)
    hub = shop.hub
    await shop.status("printing")
    await shop.frames(2)
    fed = shop.printer.detector.current_frame_num
    assert fed == 3
    assert shop.state("binary_sensor", "ml_api", hub=True).state == "on"
    caplog.clear()

    await break_ml_api(api, fault)
    for _ in range(3):
        await faulty_frame(shop, fault)

    # Visible: detection is unavailable (never a false failure), the hub's ML API
    # sensor is off, one warning, a repair issue for the token; nothing was fed.
    for platform, key in (
        ("sensor", "detection"),
        ("binary_sensor", "print_failure"),
        ("sensor", "frames"),
    ):
        assert shop.state(platform, key).state == STATE_UNAVAILABLE
    api_sensor = shop.state("binary_sensor", "ml_api", hub=True)
    assert api_sensor.state == "off"
    assert ML_API_FAULTS[fault] in api_sensor.attributes["last_error"]
    assert shop.printer.detector.current_frame_num == fed
    assert shop.notifications == []
    assert messages(caplog, "Print failure detection pauses") == [logging.WARNING]
    issue_id = f"ml_api_token_rejected_{shop.entry.entry_id}"
    assert (ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None) == (
        fault == "token_rejected"
    )
    assert errors(caplog) == []

    again = await mend_ml_api(api, fault)
    try:
        # 45 s on: the next frame; the stalled answers of `timeout` end too (the
        # hub gave up on them long ago).
        await shop.later(45)
        assert shop.printer.detector.current_frame_num == fed + 1
        assert shop.state("sensor", "detection").state == "warming_up"
        assert shop.state("sensor", "frames").state == str(fed + 1)
        assert shop.state("binary_sensor", "ml_api", hub=True).state == "on"
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
        assert len([r for r in caplog.records if r.getMessage().endswith(" no more")]) == 1
        assert messages(caplog, "Print failure detection pauses") == [logging.WARNING]
        assert errors(caplog) == []
        # The same hub recovered: no reload, no restart.
        assert shop.entry.state is ConfigEntryState.LOADED
        assert shop.entry.runtime_data is hub
    finally:
        if again is not None:
            await again.stop()


# --- the camera -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(HomeAssistantError("camera unplugged"), id="home_assistant_error"),
        pytest.param(
            OSError("No route to host"),
            id="os_error",
        ),
    ],
)
async def test_a_camera_that_raises_is_counted_and_recovers(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    ml_api: FakeMlApi,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    shop = await open_print_shop(hass, hass_client_no_auth, ml_api)
    hub = shop.hub
    await shop.status("printing")
    await shop.frames(1)
    fed = shop.printer.detector.current_frame_num
    predictions = len(ml_api.fetched_images)
    caplog.clear()

    async def raising(width: int | None = None, height: int | None = None) -> bytes:
        raise error

    # The camera is a test double (outside the project): make it raise.
    shop.camera.async_camera_image = raising  # type: ignore[method-assign]
    await shop.frames(3)

    assert shop.state("sensor", "camera_errors").state == "3"
    assert str(error) in shop.state("sensor", "last_error").state
    assert len(ml_api.fetched_images) == predictions  # no frame, no prediction
    assert shop.printer.detector.current_frame_num == fed
    # A camera fault is not a print failure, nor the ML API's fault.
    assert shop.state("sensor", "detection").state == "warming_up"
    assert shop.state("binary_sensor", "print_failure").state == "off"
    warned = [
        r.levelno for r in caplog.records if "no snapshot from camera.prusa_cam" in r.getMessage()
    ]
    assert warned == [logging.WARNING]
    assert errors(caplog) == []

    del shop.camera.async_camera_image  # the class's own method again
    await shop.frames(1)
    assert shop.printer.detector.current_frame_num == fed + 1
    assert shop.state("sensor", "camera_errors").state == "3"  # a lifetime count
    assert messages(caplog, "prusa: snapshots from camera.prusa_cam work again") == [logging.INFO]
    assert shop.entry.runtime_data is hub


# --- notify services ------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["missing", "raises", "hangs"])
async def test_a_notify_fault_keeps_the_alert_and_recovers(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    write_members(config_dir, members(dt_util.now().date()))
    entry = await setup_hub(
        hass, makerspace_entry(oops_alerts=True, notify_services=["notify.admins"])
    )
    hub = entry.runtime_data
    sent: list[ServiceCall] = []
    broken = True

    async def admins(call: ServiceCall) -> None:
        if broken and fault == "raises":
            raise HomeAssistantError("push service is down")
        if broken and fault == "hangs":
            await asyncio.Event().wait()  # never answers
        sent.append(call)

    if fault != "missing":
        hass.services.async_register("notify", "admins", admins)
    kept: list[str] = []

    def follow(kind: Any, notifications: dict[str, Any]) -> None:
        if kind == persistent_notification.UpdateType.ADDED:
            kept.extend(note["title"] for note in notifications.values())

    stop_following = persistent_notification.async_register_callback(hass, follow)

    async def alerts_done() -> None:
        assert await hub.storage.async_flush()
        await hass.async_block_till_done()
        # 31 s on: an alert that waits on a notify service gives up after 30 s.
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
        await hass.async_block_till_done(wait_background_tasks=True)

    board = Board(await hass_client_no_auth(), "metal-mill")
    caplog.clear()
    assert screen(await board.post(ADA)) == welcome("Ada")
    # The board is answered at once, whatever the alert it causes goes through.
    assert screen(await board.post(ADA, oops=True)) == OOPSED
    await alerts_done()

    assert sent == []
    assert kept == ["metal-mill was oopsed"]  # kept as a persistent notification
    assert messages(caplog, "Could not send an alert through notify.admins") == [logging.WARNING]

    if fault == "missing":
        hass.services.async_register("notify", "admins", admins)
    broken = False
    await hass.services.async_call(DOMAIN, "lockout", {"machine": "metal-mill"}, blocking=True)
    await alerts_done()
    stop_following()

    assert [call.data["title"] for call in sent] == ["metal-mill was locked out"]
    assert kept == ["metal-mill was oopsed"]  # no fallback needed any more
    assert messages(caplog, "Could not send an alert through") == [logging.WARNING]
    assert errors(caplog) == []
    assert entry.runtime_data is hub


# --- the state folder -----------------------------------------------------------------


def _refuses_new_files(folders: list[Path]) -> bool:
    for folder in folders:
        probe = folder / ".probe"
        try:
            probe.touch()
        except OSError:
            continue
        probe.unlink()
        return False
    return True


def make_unwritable(folder: Path) -> Callable[[], None]:
    """Make `folder` and every folder in it refuse new files; return the undo.

    Permission bits (0o555) do not bind root, which these tests often run as; the
    immutable attribute does. Where neither works (no CAP_LINUX_IMMUTABLE, a
    filesystem without attributes), a file takes the folder's place: writes into
    it fail just the same.
    """
    folders = [folder, *sorted(path for path in folder.rglob("*") if path.is_dir())]

    def chmod_back() -> None:
        for path in folders:
            path.chmod(0o755)

    for path in folders:
        path.chmod(0o555)
    if _refuses_new_files(folders):
        return chmod_back
    chmod_back()

    frozen: list[Path] = []

    def thaw() -> None:
        for path in frozen:
            set_immutable(path, False)

    try:
        for path in folders:
            set_immutable(path, True)
            frozen.append(path)
    except OSError:
        pass
    if frozen == folders and _refuses_new_files(folders):
        return thaw
    thaw()

    aside = folder.with_name(folder.name + ".aside")
    folder.rename(aside)
    folder.write_text("not a folder")

    def put_back() -> None:
        folder.unlink()
        aside.rename(folder)

    return put_back


async def test_a_read_only_state_folder_is_reported_and_saving_resumes_by_itself(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    write_members(config_dir, members(dt_util.now().date()))
    entry = await setup_hub(hass, makerspace_entry())
    hub = entry.runtime_data
    assert await hub.storage.async_flush()  # the setup saved every machine's defaults
    folder = config_dir / ".storage" / DOMAIN / entry.entry_id
    state_file = folder / "machine" / "metal-mill.json"
    store = machine_of(entry, "metal-mill").store
    problem = er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{entry.entry_id}_hub_state_storage"
    )
    assert problem
    issue_id = f"storage_failing_{entry.entry_id}"
    board = Board(await hass_client_no_auth(), "metal-mill")
    caplog.clear()

    undo = make_unwritable(folder)
    try:
        # The board is answered from memory.
        assert screen(await board.post(ADA)) == welcome("Ada")
        assert not await store.async_flush()
        for _ in range(2):  # retried every 30 s, in vain
            async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
            await hass.async_block_till_done()
            assert not await store.async_flush()
        await hass.async_block_till_done()
        assert hass.states.get(problem).state == "on"
        assert hass.states.get(problem).attributes["failing"] == ["machine metal-mill"]
        issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.translation_placeholders["owners"] == "machine metal-mill"
        assert messages(caplog, "Cannot save the state of machine metal-mill") == [logging.ERROR]
        assert screen(await board.post(ADA)) == welcome("Ada")
    finally:
        undo()

    # Writable again: the next retry writes the newest state, nobody flushes.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done()
    await settle(lambda: store.last_error is None and not store.pending)
    await hass.async_block_till_done()
    saved = json.loads(state_file.read_text())
    assert saved["data"]["session"]["name"] == "Ada"
    assert hass.states.get(problem).state == "off"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert messages(caplog, "Saving the state of machine metal-mill works again") == [logging.INFO]
    assert messages(caplog, "Cannot save the state") == [logging.ERROR]
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is hub
