"""Bounded, write-behind persistence through a real Home Assistant and real files.

A hung disk is the real atomic writer held on a threading.Event (tests/slow_disk.py).
"""

import asyncio
from collections.abc import Callable
from datetime import timedelta
from functools import partial
import json
import os
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.makerspace_hub.alerts import async_send_alert
from custom_components.makerspace_hub.const import (
    CONF_NAME,
    CONF_NOTIFY_SERVICES,
    CONF_RECORD_USAGE,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from custom_components.makerspace_hub.hub_options import HubOptions
from custom_components.makerspace_hub.machines.board_protocol import BoardUpdate
from custom_components.makerspace_hub.machines.machine import Machine
from custom_components.makerspace_hub.storage.hub_storage import DATA_STORAGE, StateStorage
from custom_components.makerspace_hub.storage.owner_store import OwnerStore
from custom_components.makerspace_hub.storage.state_files import encode_state

from ..conftest import make_hub_entry, make_subentry, setup_hub, subentry_by_title
from ..slow_disk import SlowDisk, set_immutable

MACHINES = ("laser", "mill", "lathe", "saw", "drill")


def _hub(*names: str, **options: Any) -> MockConfigEntry:
    # The machines' state files are what these tests hang; the usage records, which
    # the sessions of `_change` would write, have their own tests (test_usage_hub).
    return make_hub_entry(
        {CONF_RECORD_USAGE: False, **options},
        [
            make_subentry("machine", name, {CONF_NAME: name, CONF_WEBHOOK_ID: f"{name:x<64}"})
            for name in names
        ],
    )


def _store(entry: MockConfigEntry, title: str) -> OwnerStore:
    return entry.runtime_data.stores[subentry_by_title(entry, title).subentry_id]


def _prepared_hub(
    hass: HomeAssistant, config_dir: Path, *names: str
) -> tuple[MockConfigEntry, Path]:
    """Add (not set up) a hub and create its machines' state folder."""
    entry = _hub(*names)
    entry.add_to_hass(hass)
    folder = config_dir / ".storage" / DOMAIN / entry.entry_id / "machine"
    folder.mkdir(parents=True)
    return entry, folder


def _machine(entry: MockConfigEntry, title: str) -> Machine:
    return entry.runtime_data.machines[subentry_by_title(entry, title).subentry_id]


def _change(entry: MockConfigEntry, title: str) -> None:
    """Make one state change the machine saves: a remote session (counted) and its end."""
    machine = _machine(entry, title)
    if machine.state.state_lost:  # an admin checked the machine whose state was lost
        machine.async_set_flags(locked_out=False)
    machine.async_remote_enable("Admin")
    machine.async_end_session()


def _saved(config_dir: Path, entry: MockConfigEntry, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_state_file(config_dir, entry, name).read_text())
    return document


def _state_file(config_dir: Path, entry: MockConfigEntry, name: str) -> Path:
    return config_dir / ".storage" / DOMAIN / entry.entry_id / "machine" / f"{name}.json"


def _slow_disk(hass: HomeAssistant) -> SlowDisk:
    disk = SlowDisk()
    hass.data[DATA_STORAGE].writer = disk
    return disk


async def _held(hass: HomeAssistant, disk: SlowDisk, file_name: str, count: int = 1) -> None:
    assert await hass.async_add_executor_job(disk.wait_until_held, file_name, count)


async def _writes_in_flight(hass: HomeAssistant, disk: SlowDisk, file_name: str) -> int:
    """Return how many writes of `file_name` hang, once a second one had time to start."""
    await hass.async_add_executor_job(partial(disk.wait_until_held, file_name, 2, timeout=0.5))
    return disk.waiting[file_name]


async def _time_passes(hass: HomeAssistant, seconds: float, freezer: Any = None) -> None:
    if freezer is not None:
        freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(hass)
    else:
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done()


def _register_notify(hass: HomeAssistant, name: str, fail: bool = False) -> list[ServiceCall]:
    calls: list[ServiceCall] = []

    async def handler(call: ServiceCall) -> None:
        calls.append(call)
        if fail:
            raise RuntimeError("push gateway down")

    hass.services.async_register("notify", name, handler)
    return calls


async def test_state_survives_reload_and_restart(hass: HomeAssistant, config_dir: Path) -> None:
    entry = await setup_hub(hass, _hub("laser"))
    machine = _machine(entry, "laser")
    machine.async_handle_update(
        BoardUpdate(machine_name="laser", oops=False, fob=None, uptime=59.29)
    )
    machine.async_remote_enable("Ada Admin")
    machine.async_set_flags(locked_out=True)  # ends the session: one session counted
    machine.async_set_flags(oopsed=True)
    state = machine.state.as_dict()
    assert state["oopsed"]
    assert state["sessions"] == 1
    assert await machine.store.async_flush()

    path = _state_file(config_dir, entry, "laser")
    document = _saved(config_dir, entry, "laser")
    assert document["data"] == state
    assert document["version"] == 1
    assert document["kind"] == "machine"
    assert document["save_timeouts"] == 0
    assert path.with_name("laser.json.lock").exists()
    assert not list(path.parent.glob("*.tmp"))

    assert await hass.config_entries.async_reload(entry.entry_id)
    assert _machine(entry, "laser").state.as_dict() == state

    # A restart: a new process knows nothing but the files.
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.data[DATA_STORAGE] = StateStorage(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    assert _machine(entry, "laser").state.as_dict() == state


async def test_pending_state_is_flushed_on_unload_and_on_stop(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry = await setup_hub(hass, _hub("laser", "mill"))
    disk = _slow_disk(hass)
    gate = disk.hang("laser.json")
    _change(entry, "laser")
    await _held(hass, disk, "laser.json")
    _change(entry, "laser")  # waits behind the held write
    gate.set()
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert _saved(config_dir, entry, "laser")["data"]["sessions"] == 2

    assert await hass.config_entries.async_setup(entry.entry_id)
    mill = _store(entry, "mill")
    gate = disk.hang("mill.json")
    _change(entry, "mill")
    await _held(hass, disk, "mill.json")
    _change(entry, "mill")
    gate.set()
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert await mill.async_flush()
    assert _saved(config_dir, entry, "mill")["data"]["sessions"] == 2


async def test_single_flight_and_coalescing_during_a_hang(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry = await setup_hub(hass, _hub("laser"))
    disk = _slow_disk(hass)
    store = _store(entry, "laser")
    gate = disk.hang("laser.json")
    _change(entry, "laser")
    await _held(hass, disk, "laser.json")

    for _ in range(50):
        _change(entry, "laser")
        await asyncio.sleep(0)
    # A 9 s hang: one timeout (a save still stuck counts again 10 s after it started).
    await _time_passes(hass, 9)

    assert await _writes_in_flight(hass, disk, "laser.json") == 1
    assert store.save_timeouts == 1
    assert store.hung
    assert disk.writes["laser.json"] == 0

    gate.set()
    assert await store.async_flush()
    document = _saved(config_dir, entry, "laser")
    assert document["data"]["sessions"] == 51
    assert document["save_timeouts"] == 1
    assert disk.writes["laser.json"] == 2  # the held write and one coalesced write
    assert not store.hung


async def test_the_loop_runs_and_other_owners_save_during_a_hang(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry = await setup_hub(hass, _hub("laser", "mill"))
    disk = _slow_disk(hass)
    gate = disk.hang("laser.json")
    ticks = 0
    ticking = True

    async def tick() -> None:
        # The loop keeps running its callbacks while the laser's write hangs; how
        # fast is the benchmark's business (scripts/bench), not this test's.
        nonlocal ticks
        while ticking:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    _change(entry, "laser")
    await _held(hass, disk, "laser.json")
    await _time_passes(hass, 3)
    during_hang = ticks
    mill = _store(entry, "mill")
    for _ in range(20):
        _change(entry, "mill")
        assert await mill.async_flush()
    ticking = False
    await ticker

    assert _store(entry, "laser").hung
    assert during_hang > 0
    assert ticks > during_hang  # it went on ticking while the mill saved, still hung
    assert _saved(config_dir, entry, "mill")["data"]["sessions"] == 20
    gate.set()
    assert await _store(entry, "laser").async_flush()


async def test_a_reload_during_a_hang_keeps_the_newest_state_and_one_thread(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry = await setup_hub(hass, _hub("laser"))
    disk = _slow_disk(hass)
    gate = disk.hang("laser.json")
    _change(entry, "laser")
    await _held(hass, disk, "laser.json")
    _change(entry, "laser")

    # The unload's flush is bounded: it gives up after STATE_SAVE_TIMEOUT_SEC.
    assert await hass.config_entries.async_reload(entry.entry_id)
    store = _store(entry, "laser")
    assert _machine(entry, "laser").state.sessions == 2
    _change(entry, "laser")
    assert await _writes_in_flight(hass, disk, "laser.json") == 1
    gate.set()
    assert await store.async_flush()
    assert _saved(config_dir, entry, "laser")["data"]["sessions"] == 3


async def _hang_and_time_out(
    hass: HomeAssistant,
    disk: SlowDisk,
    entry: MockConfigEntry,
    names: tuple[str, ...],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Make a save of each machine hang past the deadline, then let the disk recover."""
    gates = [disk.hang(f"{name}.json") for name in names]
    for name in names:
        _change(entry, name)
        await _held(hass, disk, f"{name}.json")
    await _time_passes(hass, 3, freezer)
    for gate in gates:
        gate.set()
    for name in names:
        assert await _store(entry, name).async_flush()
    await _time_passes(hass, 6, freezer)  # the fleet alert gathers owners for 5 s


def _titled(calls: list[ServiceCall], prefix: str) -> list[ServiceCall]:
    return [call for call in calls if call.data["title"].startswith(prefix)]


async def test_owner_alert_exactly_on_the_second_timeout(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    calls = _register_notify(hass, "admins")
    entry = await setup_hub(hass, _hub("laser", **{CONF_NOTIFY_SERVICES: ["notify.admins"]}))
    disk = _slow_disk(hass)

    await _hang_and_time_out(hass, disk, entry, ("laser",), freezer)
    assert _store(entry, "laser").save_timeouts == 1
    assert calls == []

    await _hang_and_time_out(hass, disk, entry, ("laser",), freezer)
    assert _store(entry, "laser").save_timeouts == 2
    assert len(calls) == 1
    assert calls[0].data["title"] == "Saving the state of machine laser timed out again"
    assert "slow or hung" in calls[0].data["message"]
    assert "2 timeouts" in calls[0].data["message"]

    await _hang_and_time_out(hass, disk, entry, ("laser",), freezer)
    assert _store(entry, "laser").save_timeouts == 3
    assert len(calls) == 1


async def test_a_save_that_stays_stuck_alerts_a_one_machine_hub(
    hass: HomeAssistant, config_dir: Path, freezer: FrozenDateTimeFactory
) -> None:
    calls = _register_notify(hass, "admins")
    entry = await setup_hub(hass, _hub("laser", **{CONF_NOTIFY_SERVICES: ["notify.admins"]}))
    disk = _slow_disk(hass)
    store = _store(entry, "laser")
    gate = disk.hang("laser.json")
    _change(entry, "laser")
    await _held(hass, disk, "laser.json")

    await _time_passes(hass, 3, freezer)
    assert store.save_timeouts == 1
    assert calls == []
    for _ in range(5):  # the machine keeps changing meanwhile: still one write
        _change(entry, "laser")
    # 10 s into the hang the same save counts its 2nd timeout: the owner alert fires,
    # although no other owner exists to make a fleet alert.
    await _time_passes(hass, 7, freezer)
    assert store.save_timeouts == 2
    assert [call.data["title"] for call in calls] == [
        "Saving the state of machine laser timed out again"
    ]
    assert "2 timeouts" in calls[0].data["message"]
    assert await _writes_in_flight(hass, disk, "laser.json") == 1

    await _time_passes(hass, 8, freezer)  # 18 s: counted again, alerted once
    assert store.save_timeouts == 3
    assert len(calls) == 1
    assert await _writes_in_flight(hass, disk, "laser.json") == 1
    assert disk.writes["laser.json"] == 0

    gate.set()
    assert await store.async_flush()
    await _time_passes(hass, 30, freezer)  # the count stopped with the save
    assert store.save_timeouts == 3
    assert not store.hung
    document = _saved(config_dir, entry, "laser")
    assert document["save_timeouts"] == 3
    assert document["data"]["sessions"] == 6
    assert disk.writes["laser.json"] == 2  # the stuck write and one coalesced write


async def test_a_removed_machine_stops_counting_its_stuck_save(
    hass: HomeAssistant, config_dir: Path, freezer: FrozenDateTimeFactory
) -> None:
    calls = _register_notify(hass, "admins")
    entry = await setup_hub(
        hass, _hub("laser", "mill", **{CONF_NOTIFY_SERVICES: ["notify.admins"]})
    )
    disk = _slow_disk(hass)
    mill = _store(entry, "mill")
    gate = disk.hang("mill.json")
    _change(entry, "mill")
    await _held(hass, disk, "mill.json")
    await _time_passes(hass, 3, freezer)
    assert mill.save_timeouts == 1

    hass.config_entries.async_remove_subentry(entry, subentry_by_title(entry, "mill").subentry_id)
    await hass.async_block_till_done()
    for _ in range(3):
        # The laser's saves run in real threads: let them land before time jumps.
        assert await _store(entry, "laser").async_flush()
        await _time_passes(hass, 8, freezer)
    assert mill.save_timeouts == 1
    assert calls == []
    assert entry.runtime_data.storage.save_timeouts == 0  # forgotten with the machine

    gate.set()
    assert not await mill.async_flush()  # waits for the stuck save; retired: no more
    # The file is deleted from the save's done callback: a background executor job.
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not _state_file(config_dir, entry, "mill").exists()


async def test_fleet_alert_once_per_cooldown(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    calls = _register_notify(hass, "admins")
    entry = await setup_hub(hass, _hub(*MACHINES, **{CONF_NOTIFY_SERVICES: ["notify.admins"]}))
    disk = _slow_disk(hass)

    # The real incident: every machine hits its FIRST timeout at the same moment.
    await _hang_and_time_out(hass, disk, entry, MACHINES, freezer)
    fleet = _titled(calls, "State storage is slow or hung")
    assert len(fleet) == 1
    assert _titled(calls, "Saving the state of") == []
    message = fleet[0].data["message"]
    assert "5 owners" in message
    for name in MACHINES:
        assert f"machine {name}" in message

    # Inside the cooldown: per-owner alerts (2nd timeouts), but no second fleet alert.
    await _time_passes(hass, 100, freezer)
    await _hang_and_time_out(hass, disk, entry, MACHINES, freezer)
    assert len(_titled(calls, "State storage is slow or hung")) == 1
    assert len(_titled(calls, "Saving the state of")) == 5

    # After the cooldown: the fleet alert fires again.
    await _time_passes(hass, 300, freezer)
    await _hang_and_time_out(hass, disk, entry, MACHINES[:2], freezer)
    assert len(_titled(calls, "State storage is slow or hung")) == 2


async def test_one_failing_notify_service_does_not_stop_the_others(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    broken = _register_notify(hass, "broken", fail=True)
    working = _register_notify(hass, "admins")
    entry = await setup_hub(
        hass,
        _hub(
            "laser",
            "mill",
            **{CONF_NOTIFY_SERVICES: ["notify.broken", "notify.gone", "notify.admins"]},
        ),
    )
    disk = _slow_disk(hass)
    await _hang_and_time_out(hass, disk, entry, ("laser", "mill"), freezer)
    assert len(broken) == 1
    assert len(working) == 1
    assert not hass.states.async_entity_ids("persistent_notification")


async def test_alerts_become_persistent_notifications_without_notify_services(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    entry = await setup_hub(hass, _hub("laser", "mill"))
    disk = _slow_disk(hass)
    created: list[dict[str, Any]] = []
    from homeassistant.components import persistent_notification

    remove = persistent_notification.async_register_callback(
        hass, lambda kind, notifications: created.extend(notifications.values())
    )
    await _hang_and_time_out(hass, disk, entry, ("laser", "mill"), freezer)
    remove()
    titles = [n["title"] for n in created]
    assert "State storage is slow or hung" in titles
    # One notification per hub and kind of alert, named as before the AlertSender.
    fleet = next(n for n in created if n["title"] == "State storage is slow or hung")
    assert fleet["notification_id"] == f"{DOMAIN}_{entry.entry_id}_fleet"


async def test_a_reload_hands_the_storage_the_new_notify_services(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    calls = _register_notify(hass, "admins")
    entry = await setup_hub(hass, _hub("laser", "mill"))
    storage = entry.runtime_data.storage
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_NOTIFY_SERVICES: ["notify.admins"]}
    )
    await hass.async_block_till_done()
    assert entry.runtime_data.storage is storage  # the storage outlives the reload...
    disk = _slow_disk(hass)
    await _hang_and_time_out(hass, disk, entry, ("laser", "mill"), freezer)
    # ...and alerts through the options of the hub built by it.
    assert len(_titled(calls, "State storage is slow or hung")) == 1


async def test_storage_entities_and_repair_issue_follow_the_health(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    entry = await setup_hub(hass, _hub("laser", "mill"))
    disk = _slow_disk(hass)
    registry = er.async_get(hass)
    problem = registry.async_get_entity_id(
        "binary_sensor", DOMAIN, f"{entry.entry_id}_hub_state_storage"
    )
    total = registry.async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}_hub_state_save_timeouts"
    )
    laser_id = subentry_by_title(entry, "laser").subentry_id
    laser = registry.async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}_{laser_id}_state_save_timeouts"
    )
    assert problem
    assert total
    assert laser
    assert registry.async_get(laser).entity_category == "diagnostic"
    assert hass.states.get(problem).state == "off"
    assert hass.states.get(total).state == "0"

    gate = disk.hang("laser.json")
    _change(entry, "laser")
    await _held(hass, disk, "laser.json")
    await _time_passes(hass, 3, freezer)
    assert hass.states.get(problem).state == "on"
    assert hass.states.get(problem).attributes["hung_saves"] == 1
    assert hass.states.get(total).state == "1"
    assert hass.states.get(laser).state == "1"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"storage_slow_{entry.entry_id}")
    assert issue is not None

    gate.set()
    assert await _store(entry, "laser").async_flush()
    await hass.async_block_till_done()
    # Healthy again, but the timeout was less than 10 minutes ago.
    assert hass.states.get(problem).state == "on"
    assert hass.states.get(problem).attributes["hung_saves"] == 0

    await _time_passes(hass, 601, freezer)
    assert hass.states.get(problem).state == "off"
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"storage_slow_{entry.entry_id}") is None
    assert hass.states.get(total).state == "1"  # a lifetime count


async def test_a_corrupt_file_is_set_aside_and_the_owner_starts_from_defaults(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry, folder = _prepared_hub(hass, config_dir, "laser", "mill")
    (folder / "laser.json").write_text('{"version": 1, "data": {"oopsed": tru')
    (folder / "mill.json").write_text(
        json.dumps({"version": 1, "save_timeouts": 4, "data": {"oopsed": True}})
    )
    await setup_hub(hass, entry)

    assert not _machine(entry, "laser").state.oopsed  # safe defaults...
    assert _machine(entry, "laser").reply.relay is False
    # ...and locked out: whether it was under maintenance is unknown.
    assert _machine(entry, "laser").state.locked_out
    assert _machine(entry, "laser").reply.display == "State lost:\nadmin must check"
    assert _machine(entry, "mill").state.oopsed
    assert _store(entry, "mill").save_timeouts == 4
    (aside,) = folder.glob("laser.json.corrupt-*")
    assert aside.read_text() == '{"version": 1, "data": {"oopsed": tru'
    # The machine saved its safe defaults in the file's place.
    assert await _store(entry, "laser").async_flush()
    assert json.loads((folder / "laser.json").read_text())["data"]["oopsed"] is False
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"state_file_set_aside_{entry.entry_id}_machine_laser"
    )
    assert issue is not None
    assert issue.translation_placeholders["file"] == str(aside)

    # The owner saves normally afterwards.
    _change(entry, "laser")
    assert await _store(entry, "laser").async_flush()
    assert json.loads((folder / "laser.json").read_text())["data"]["sessions"] == 1


async def test_a_newer_file_is_set_aside_not_overwritten(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry, folder = _prepared_hub(hass, config_dir, "laser")
    newer = json.dumps({"version": 2, "data": {"future": True}})
    (folder / "laser.json").write_text(newer)
    await setup_hub(hass, entry)
    _change(entry, "laser")
    assert await _store(entry, "laser").async_flush()
    (aside,) = folder.glob("laser.json.v2-*")
    assert aside.read_text() == newer
    assert ir.async_get(hass).async_get_issue(
        DOMAIN, f"state_file_set_aside_{entry.entry_id}_machine_laser"
    )


def _make_read_only(path: Path) -> Callable[[], None]:
    """Make a folder read-only, even for root; return the undo."""
    path.chmod(0o555)
    probe = path / ".probe"
    try:
        probe.touch()
    except PermissionError:
        return lambda: path.chmod(0o755)
    probe.unlink()
    set_immutable(path, True)
    return lambda: set_immutable(path, False)


async def test_a_read_only_folder_keeps_state_in_memory_and_recovers(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry = await setup_hub(hass, _hub("laser"))
    folder = _state_file(config_dir, entry, "laser").parent
    assert await _store(entry, "laser").async_flush()  # the setup saved the defaults
    undo = _make_read_only(folder)
    try:
        store = _store(entry, "laser")
        _machine(entry, "laser").async_set_flags(oopsed=True)
        assert not await store.async_flush()
        await hass.async_block_till_done()
        assert _machine(entry, "laser").state.oopsed  # nothing lost that was in memory
        assert store.data is not None
        assert store.data["oopsed"]
        assert store.last_error
        issue = ir.async_get(hass).async_get_issue(DOMAIN, f"storage_failing_{entry.entry_id}")
        assert issue is not None
        assert issue.translation_placeholders["owners"] == "machine laser"
        problem = er.async_get(hass).async_get_entity_id(
            "binary_sensor", DOMAIN, f"{entry.entry_id}_hub_state_storage"
        )
        assert hass.states.get(problem).state == "on"
        assert hass.states.get(problem).attributes["failing"] == ["machine laser"]
    finally:
        undo()
    # The folder is writable again: the periodic retry writes the newest state.
    await _time_passes(hass, 31)
    assert await store.async_flush()
    assert _saved(config_dir, entry, "laser")["data"]["oopsed"]
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"storage_failing_{entry.entry_id}") is None


async def test_a_missing_folder_is_created(hass: HomeAssistant, config_dir: Path) -> None:
    folder = config_dir / ".storage" / DOMAIN
    assert not folder.exists()
    entry = await setup_hub(hass, _hub("laser"))
    assert await _store(entry, "laser").async_flush()
    assert _state_file(config_dir, entry, "laser").exists()


async def test_renamed_and_removed_owners_move_and_delete_their_files(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry = await setup_hub(hass, _hub("laser", "mill"))
    _machine(entry, "laser").async_set_flags(locked_out=True)
    _change(entry, "mill")
    assert await entry.runtime_data.storage.async_flush()

    laser = subentry_by_title(entry, "laser")
    hass.config_entries.async_update_subentry(
        entry, laser, title="laser-2", data={**laser.data, CONF_NAME: "laser-2"}
    )
    await hass.async_block_till_done()
    assert entry.runtime_data.machines[laser.subentry_id].state.locked_out
    assert await entry.runtime_data.storage.async_flush()
    await hass.async_block_till_done()
    assert _saved(config_dir, entry, "laser-2")["data"]["locked_out"]
    assert not _state_file(config_dir, entry, "laser").exists()

    hass.config_entries.async_remove_subentry(entry, subentry_by_title(entry, "mill").subentry_id)
    await hass.async_block_till_done()
    assert not _state_file(config_dir, entry, "mill").exists()


async def test_deleting_the_hub_deletes_its_state(hass: HomeAssistant, config_dir: Path) -> None:
    entry = await setup_hub(hass, _hub("laser"))
    _change(entry, "laser")
    assert await _store(entry, "laser").async_flush()
    folder = config_dir / ".storage" / DOMAIN / entry.entry_id
    assert folder.exists()
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not folder.exists()


async def test_a_file_that_can_be_neither_read_nor_moved_is_never_overwritten(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry = _hub("laser")
    entry.add_to_hass(hass)
    folder = config_dir / ".storage" / DOMAIN / entry.entry_id / "machine"
    (folder / "laser.json").mkdir(parents=True)  # unreadable as a file
    (folder / "laser.json" / "keep").write_text("precious")
    undo = _make_read_only(folder)
    try:
        await setup_hub(hass, entry)
        store = _store(entry, "laser")
        assert not _machine(entry, "laser").state.oopsed
        assert not store.writable
        issue = ir.async_get(hass).async_get_issue(
            DOMAIN, f"state_file_unusable_{entry.entry_id}_machine_laser"
        )
        assert issue is not None
        assert issue.translation_placeholders["file"] == str(folder / "laser.json")
        _change(entry, "laser")
        assert not await store.async_flush()
        assert _machine(entry, "laser").state.sessions == 1
    finally:
        undo()
    assert (folder / "laser.json" / "keep").read_text() == "precious"


async def test_data_the_machine_cannot_use_is_set_aside(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry, folder = _prepared_hub(hass, config_dir, "laser")
    (folder / "laser.json").write_bytes(encode_state("machine", "laser", {"oopsed": "maybe"}, 0))
    await setup_hub(hass, entry)
    assert not _machine(entry, "laser").state.oopsed
    (aside,) = folder.glob("laser.json.corrupt-*")
    assert json.loads(aside.read_text())["data"] == {"oopsed": "maybe"}
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"state_file_set_aside_{entry.entry_id}_machine_laser"
    )
    assert issue is not None
    assert issue.translation_placeholders["problem"] == "oopsed must be true or false"
    assert await _store(entry, "laser").async_flush()
    assert _saved(config_dir, entry, "laser")["data"]["oopsed"] is False


async def test_data_the_machine_cannot_use_that_cannot_be_moved_is_never_overwritten(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry, folder = _prepared_hub(hass, config_dir, "laser")
    rejected = encode_state("machine", "laser", {"oopsed": "maybe"}, 0)
    (folder / "laser.json").write_bytes(rejected)
    undo = _make_read_only(folder)
    try:
        await setup_hub(hass, entry)
        store = _store(entry, "laser")
        assert not _machine(entry, "laser").state.oopsed
        assert not store.writable
        issue = ir.async_get(hass).async_get_issue(
            DOMAIN, f"state_file_unusable_{entry.entry_id}_machine_laser"
        )
        assert issue is not None
        assert issue.translation_placeholders["file"] == str(folder / "laser.json")
        assert issue.translation_placeholders["problem"] == "oopsed must be true or false"
        _change(entry, "laser")
        assert not await store.async_flush()
    finally:
        undo()
    assert (folder / "laser.json").read_bytes() == rejected
    assert not list(folder.glob("laser.json.corrupt-*"))


async def test_a_hung_read_at_setup_retries_and_reuses_the_same_read(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry, folder = _prepared_hub(hass, config_dir, "laser")
    fifo = folder / "laser.json"
    os.mkfifo(fifo)  # reading blocks until someone writes: a hung disk

    setup = hass.async_create_task(hass.config_entries.async_setup(entry.entry_id))
    await asyncio.sleep(0.2)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    assert not await setup
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "slow or hung" in (entry.reason or "")

    def disk_answers() -> None:
        with fifo.open("wb") as writer:
            writer.write(encode_state("machine", "laser", {"oopsed": True}, 0))

    # One answer for one read: a second read started by the retry would hang.
    await hass.async_add_executor_job(disk_answers)
    await hass.async_block_till_done()  # the first read completes
    await _time_passes(hass, 90)
    async with entry.setup_lock:  # the retry holds it until its setup is done
        pass
    assert entry.state is ConfigEntryState.LOADED
    assert _machine(entry, "laser").state.oopsed


async def test_deleting_a_hub_forgets_its_repair_issues(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry, folder = _prepared_hub(hass, config_dir, "laser")
    (folder / "laser.json").write_text("garbage")
    await setup_hub(hass, entry)
    issue_id = f"state_file_set_aside_{entry.entry_id}_machine_laser"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_alert_data_reaches_the_notify_services(hass: HomeAssistant) -> None:
    calls = _register_notify(hass, "admins")
    sent = await async_send_alert(
        hass,
        HubOptions(notify_services=("notify.admins",)),
        title="t",
        message="m",
        notification_id="x",
        actions=[{"action": "IGNORE", "title": "Ignore"}],
    )
    assert sent == 1
    assert calls[0].data == {"title": "t", "message": "m"}  # buttons are for the app only
