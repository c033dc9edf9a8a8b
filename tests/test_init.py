"""Setting up a hub: devices per subentry, reloads on change, broken configuration."""

from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, issue_registry as ir

from custom_components.makerspace_hub import async_remove_config_entry_device
from custom_components.makerspace_hub.const import (
    CONF_ALIAS,
    CONF_AUTHORIZATIONS_OR,
    CONF_CAMERA_ENTITY,
    CONF_EXPIRY_GRACE_DAYS,
    CONF_KIND,
    CONF_NAME,
    CONF_STATUS_ENTITY,
    CONF_WEBHOOK_ID,
    DOMAIN,
)

from .conftest import (
    device_subentries,
    find_device,
    make_hub_entry,
    make_subentry,
    setup_hub,
    subentry_by_title,
)

MILL: dict[str, Any] = {
    CONF_NAME: "metal-mill",
    CONF_AUTHORIZATIONS_OR: ["Metal Mill"],
    CONF_WEBHOOK_ID: "b" * 64,
}
HIVE: dict[str, Any] = {CONF_NAME: "hive", CONF_KIND: "camera", CONF_CAMERA_ENTITY: "camera.hive"}
PRUSA: dict[str, Any] = {
    CONF_NAME: "Prusa",
    CONF_CAMERA_ENTITY: "camera.prusa",
    CONF_STATUS_ENTITY: "sensor.prusa",
}


def _hub_with_everything() -> Any:
    return make_hub_entry(
        subentries=[
            make_subentry("machine", "Bridgeport mill", MILL | {CONF_ALIAS: "Bridgeport mill"}),
            make_subentry("recording_sensor", "hive", HIVE),
            make_subentry("printer", "Prusa", PRUSA),
        ]
    )


async def test_setup_creates_the_hub_and_one_device_per_subentry(hass: HomeAssistant) -> None:
    entry = await setup_hub(hass, _hub_with_everything())
    assert entry.state is ConfigEntryState.LOADED
    registry = dr.async_get(hass)
    hub_device = find_device(hass, entry.entry_id)
    assert hub_device is not None
    assert hub_device.name == "Test Makerspace"
    assert hub_device.entry_type is dr.DeviceEntryType.SERVICE

    children = {
        device.name: device
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
        if device.id != hub_device.id
    }
    assert set(children) == {"Bridgeport mill", "hive", "Prusa"}
    for title, model in (
        ("Bridgeport mill", "RFID machine access"),
        ("hive", "Scheduled recording sensor"),
        ("Prusa", "3D printer failure detection"),
    ):
        device = children[title]
        subentry = subentry_by_title(entry, title)
        assert device.via_device_id == hub_device.id
        assert device.identifiers == {(DOMAIN, subentry.subentry_id)}
        assert device_subentries(device) == {entry.entry_id: {subentry.subentry_id}}
        assert device.model == model

    hub = entry.runtime_data
    assert [m.name for m in hub.machines.values()] == ["metal-mill"]
    assert [s.name for s in hub.recording_sensors.values()] == ["hive"]
    assert [p.name for p in hub.printers.values()] == ["Prusa"]


async def test_adding_and_removing_a_subentry_keeps_devices_in_step(hass: HomeAssistant) -> None:
    entry = await setup_hub(
        hass, make_hub_entry(subentries=[make_subentry("machine", "metal-mill", MILL)])
    )
    registry = dr.async_get(hass)

    lathe = ConfigSubentry(
        data={CONF_NAME: "lathe", CONF_WEBHOOK_ID: "c" * 64},  # type: ignore[arg-type]
        subentry_type="machine",
        title="lathe",
        unique_id="lathe",
    )
    hass.config_entries.async_add_subentry(entry, lathe)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert find_device(hass, lathe.subentry_id) is not None
    assert {m.name for m in entry.runtime_data.machines.values()} == {"metal-mill", "lathe"}

    mill = subentry_by_title(entry, "metal-mill")
    hass.config_entries.async_remove_subentry(entry, mill.subentry_id)
    await hass.async_block_till_done()
    assert find_device(hass, mill.subentry_id) is None
    assert {m.name for m in entry.runtime_data.machines.values()} == {"lathe"}
    assert len(dr.async_entries_for_config_entry(registry, entry.entry_id)) == 2


async def test_a_subentry_added_while_the_hub_sets_up_is_not_missed(
    hass: HomeAssistant,
) -> None:
    entry = make_hub_entry(subentries=[make_subentry("machine", "metal-mill", MILL)])
    entry.add_to_hass(hass)
    lathe = ConfigSubentry(
        data={CONF_NAME: "lathe", CONF_WEBHOOK_ID: "c" * 64},  # type: ignore[arg-type]
        subentry_type="machine",
        title="lathe",
        unique_id="lathe",
    )

    @callback
    def add_lathe(_event: Event) -> None:
        # The hub's devices are synced halfway through its setup, before it listens
        # for changes: an admin adding a machine at that moment.
        if not entry.subentries.get(lathe.subentry_id):
            hass.config_entries.async_add_subentry(entry, lathe)

    hass.bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, add_lathe)
    await hass.config_entries.async_setup(entry.entry_id)  # the first setup, then a reload
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert {m.name for m in entry.runtime_data.machines.values()} == {"metal-mill", "lathe"}


async def test_reconfigured_title_renames_the_device(hass: HomeAssistant) -> None:
    entry = await setup_hub(
        hass, make_hub_entry(subentries=[make_subentry("machine", "metal-mill", MILL)])
    )
    mill = subentry_by_title(entry, "metal-mill")
    hass.config_entries.async_update_subentry(
        entry, mill, title="Bridgeport", data=MILL | {CONF_ALIAS: "Bridgeport"}
    )
    await hass.async_block_till_done()
    device = find_device(hass, mill.subentry_id)
    assert device is not None
    assert device.name == "Bridgeport"
    assert entry.runtime_data.machines[mill.subentry_id].settings.display_name == "Bridgeport"


async def test_stale_devices_are_removed_at_setup(hass: HomeAssistant) -> None:
    entry = make_hub_entry()
    entry.add_to_hass(hass)
    registry = dr.async_get(hass)
    stale = registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "gone-subentry")}
    )
    await setup_hub(hass, entry)
    assert registry.async_get(stale.id) is None


async def test_options_change_reloads_with_the_new_settings(hass: HomeAssistant) -> None:
    entry = await setup_hub(hass, make_hub_entry())
    first = entry.runtime_data
    hass.config_entries.async_update_entry(
        entry, options=entry.options | {CONF_EXPIRY_GRACE_DAYS: 30}
    )
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not first
    assert entry.runtime_data.options.expiry_grace_days == 30


async def test_unload(hass: HomeAssistant) -> None:
    entry = await setup_hub(hass, _hub_with_everything())
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED


async def test_an_invalid_subentry_is_skipped_with_a_repair_issue(hass: HomeAssistant) -> None:
    broken = make_subentry("machine", "Broken", {CONF_NAME: "Not A Board Name"})
    entry = await setup_hub(
        hass, make_hub_entry(subentries=[broken, make_subentry("machine", "metal-mill", MILL)])
    )
    assert entry.state is ConfigEntryState.LOADED
    assert [m.name for m in entry.runtime_data.machines.values()] == ["metal-mill"]

    broken_id = subentry_by_title(entry, "Broken").subentry_id
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"invalid_subentry_{broken_id}")
    assert issue is not None
    assert issue.translation_placeholders == {"title": "Broken", "field": CONF_NAME}

    # Fixing it clears the issue.
    hass.config_entries.async_update_subentry(
        entry, entry.subentries[broken_id], data={CONF_NAME: "fixed", CONF_WEBHOOK_ID: "d" * 64}
    )
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"invalid_subentry_{broken_id}") is None
    assert {m.name for m in entry.runtime_data.machines.values()} == {"metal-mill", "fixed"}

    # Removing the hub forgets its issues.
    hass.config_entries.async_update_subentry(
        entry, entry.subentries[broken_id], data={CONF_NAME: "Broken Again"}
    )
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"invalid_subentry_{broken_id}") is not None
    await hass.config_entries.async_remove(entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"invalid_subentry_{broken_id}") is None


async def test_an_unknown_subentry_type_is_ignored(hass: HomeAssistant) -> None:
    entry = await setup_hub(
        hass, make_hub_entry(subentries=[make_subentry("laser_tag", "Arena", {CONF_NAME: "arena"})])
    )
    assert entry.state is ConfigEntryState.LOADED
    hub = entry.runtime_data
    assert not hub.machines
    assert not hub.recording_sensors
    assert not hub.printers


async def test_invalid_stored_options_fail_setup_with_a_clear_error(hass: HomeAssistant) -> None:
    entry = make_hub_entry({CONF_EXPIRY_GRACE_DAYS: "seven"})
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert (
        entry.reason
        == "The hub's stored option expiry_grace_days is not valid; open the hub's options and save them again"
    )


async def test_only_orphaned_devices_may_be_deleted(hass: HomeAssistant) -> None:
    entry = await setup_hub(
        hass, make_hub_entry(subentries=[make_subentry("machine", "metal-mill", MILL)])
    )
    registry = dr.async_get(hass)
    hub_device = find_device(hass, entry.entry_id)
    mill_device = find_device(hass, subentry_by_title(entry, "metal-mill").subentry_id)
    orphan = registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "long-gone")}
    )
    assert hub_device
    assert mill_device
    assert not await async_remove_config_entry_device(hass, entry, hub_device)
    assert not await async_remove_config_entry_device(hass, entry, mill_device)
    assert await async_remove_config_entry_device(hass, entry, orphan)


async def test_the_daily_recheck_timer_ends_with_home_assistant(hass: HomeAssistant) -> None:
    """Home Assistant stops without unloading hubs: their daily timer must not outlive it."""
    from homeassistant.const import EVENT_HOMEASSISTANT_STOP
    from homeassistant.core import CoreState

    from custom_components.makerspace_hub import _until_stop

    cancelled: list[str] = []
    remove = _until_stop(hass, lambda: cancelled.append("running"))
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    remove()  # the hub unloads later: nothing left to cancel
    assert cancelled == ["running"]
    # A hub whose setup ends while Home Assistant is already stopping.
    hass.set_state(CoreState.stopping)
    _until_stop(hass, lambda: cancelled.append("stopping"))
    hass.set_state(CoreState.running)
    assert cancelled == ["running", "stopping"]
