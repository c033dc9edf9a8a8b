"""Actions: oops/unoops/lockout/unlock/clear by target or name, who may call them,
reload_users, alerts."""

from pathlib import Path

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.auth.models import User
from homeassistant.components import persistent_notification
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
    label_registry as lr,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
import voluptuous as vol

from custom_components.makerspace_hub.const import DOMAIN

from .conftest import find_device, make_hub_entry, setup_hub, subentry_by_title
from .makerspace import (
    machine,
    machine_of,
    makerspace_entry,
    member,
    members,
    write_members,
)


@pytest.fixture
async def hub(hass: HomeAssistant, config_dir: Path) -> MockConfigEntry:
    """The test makerspace."""
    write_members(config_dir, members(dt_util.now().date()))
    return await setup_hub(hass, makerspace_entry(oops_alerts=True))


def _flags(hub: MockConfigEntry, name: str) -> tuple[bool, bool]:
    state = machine_of(hub, name).state
    return state.oopsed, state.locked_out


async def _call(
    hass: HomeAssistant, action: str, user_id: str | None = None, **data: object
) -> None:
    await hass.services.async_call(
        DOMAIN, action, data, blocking=True, context=Context(user_id=user_id)
    )


@pytest.fixture
async def member_user(hass: HomeAssistant, hass_owner_user: MockUser) -> User:
    """A Home Assistant user who is not an admin (a member's account, a shop tablet).

    Created after the owner: the first user of an installation becomes its owner.
    """
    return await hass.auth.async_create_user("Shop tablet", group_ids=[GROUP_ID_USER])


async def test_actions_by_name_or_alias_ignoring_case(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    await _call(hass, "oops", machine="METAL-MILL")
    assert _flags(hub, "metal-mill") == (True, False)
    await _call(hass, "lockout", machine=" metal-mill ")
    assert _flags(hub, "metal-mill") == (True, True)
    await _call(hass, "unoops", machine="metal-mill")
    assert _flags(hub, "metal-mill") == (False, True)
    await _call(hass, "unlock", machine="metal-mill")
    assert _flags(hub, "metal-mill") == (False, False)
    await _call(hass, "lockout", machine="metal-mill")
    await _call(hass, "oops", machine="metal-mill")
    await _call(hass, "clear", machine="metal-mill")
    assert _flags(hub, "metal-mill") == (False, False)


async def test_actions_by_alias(hass: HomeAssistant, config_dir: Path) -> None:
    write_members(config_dir, [])
    entry = await setup_hub(
        hass, make_hub_entry(subentries=[machine("laser", alias="Glowforge Pro")])
    )
    await _call(hass, "lockout", machine="glowforge pro")
    assert _flags(entry, "laser") == (False, True)


async def test_actions_by_device_entity_area_and_label(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    hammer = find_device(hass, subentry_by_title(hub, "hammer").subentry_id)
    assert hammer is not None
    await hass.services.async_call(DOMAIN, "oops", target={"device_id": hammer.id}, blocking=True)
    assert _flags(hub, "hammer") == (True, False)

    lock = er.async_get(hass).async_get_entity_id(
        "lock", DOMAIN, f"{hub.entry_id}_{subentry_by_title(hub, 'saw').subentry_id}_lockout"
    )
    await hass.services.async_call(DOMAIN, "lockout", target={"entity_id": lock}, blocking=True)
    assert _flags(hub, "saw") == (False, True)

    shop = ar.async_get(hass).async_create("Metal shop")
    mill = find_device(hass, subentry_by_title(hub, "metal-mill").subentry_id)
    assert mill is not None
    dr.async_get(hass).async_update_device(mill.id, area_id=shop.id)
    await hass.services.async_call(DOMAIN, "lockout", target={"area_id": shop.id}, blocking=True)
    assert _flags(hub, "metal-mill") == (False, True)

    floor = fr.async_get(hass).async_create("Basement")
    cellar = ar.async_get(hass).async_create("Cellar", floor_id=floor.floor_id)
    saw = find_device(hass, subentry_by_title(hub, "saw").subentry_id)
    assert saw is not None
    dr.async_get(hass).async_update_device(saw.id, area_id=cellar.id)
    await hass.services.async_call(
        DOMAIN, "oops", target={"floor_id": floor.floor_id}, blocking=True
    )
    assert _flags(hub, "saw") == (True, True)

    label = lr.async_get(hass).async_create("Compressed air")
    compressor = find_device(hass, subentry_by_title(hub, "compressor").subentry_id)
    assert compressor is not None
    dr.async_get(hass).async_update_device(compressor.id, labels={label.label_id})
    await hass.services.async_call(
        DOMAIN, "oops", target={"label_id": label.label_id}, blocking=True
    )
    assert _flags(hub, "compressor") == (True, False)


def _stop_everything(hub: MockConfigEntry) -> None:
    for running in hub.runtime_data.machines.values():
        running.async_set_flags(oopsed=True, locked_out=True)


@pytest.mark.parametrize("action", ["unoops", "unlock", "clear"])
async def test_only_admins_and_automations_make_a_machine_usable(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    member_user: User,
    hass_read_only_user: MockUser,
    hass_admin_user: MockUser,
    action: str,
) -> None:
    _stop_everything(hub)
    for user_id in (member_user.id, hass_read_only_user.id, "no-such-user"):
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, action, user_id, machine="metal-mill")
        assert err.value.translation_key == "admin_required"
        assert str(err.value) == (
            "Only a Home Assistant administrator may make metal-mill usable again "
            "(switch it on, unlock, unoops or clear it). Anyone may stop it"
        )
        assert _flags(hub, "metal-mill") == (True, True)  # refused before any change
    await _call(hass, action, hass_admin_user.id, machine="metal-mill")
    made_usable = _flags(hub, "metal-mill")
    assert made_usable != (True, True)
    # An automation (no user in the context) may do the same.
    await _call(hass, action, machine="hammer")
    assert _flags(hub, "hammer") == made_usable


async def test_the_refusal_names_the_machine_by_its_alias(
    hass: HomeAssistant, config_dir: Path, member_user: User
) -> None:
    write_members(config_dir, [])
    entry = await setup_hub(
        hass, make_hub_entry(subentries=[machine("laser", alias="Glowforge Pro")])
    )
    await _call(hass, "lockout", machine="laser")
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "unlock", member_user.id, machine="laser")
    assert err.value.translation_placeholders == {"machine": "Glowforge Pro"}
    assert _flags(entry, "laser") == (False, True)


async def test_a_refused_action_on_several_machines_changes_none(
    hass: HomeAssistant, hub: MockConfigEntry, member_user: User, hass_admin_user: MockUser
) -> None:
    _stop_everything(hub)
    label = lr.async_get(hass).async_create("Woodshop")
    for name in ("hammer", "saw"):
        device = find_device(hass, subentry_by_title(hub, name).subentry_id)
        assert device is not None
        dr.async_get(hass).async_update_device(device.id, labels={label.label_id})
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "clear",
            target={"label_id": label.label_id},
            blocking=True,
            context=Context(user_id=member_user.id),
        )
    assert {name: _flags(hub, name) for name in ("hammer", "saw")} == {
        "hammer": (True, True),
        "saw": (True, True),
    }
    await hass.services.async_call(
        DOMAIN,
        "clear",
        target={"label_id": label.label_id},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert _flags(hub, "hammer") == _flags(hub, "saw") == (False, False)


async def test_everyone_may_stop_a_machine(
    hass: HomeAssistant, hub: MockConfigEntry, member_user: User, hass_read_only_user: MockUser
) -> None:
    await _call(hass, "oops", member_user.id, machine="metal-mill")
    await _call(hass, "lockout", member_user.id, machine="metal-mill")
    assert _flags(hub, "metal-mill") == (True, True)
    await _call(hass, "oops", hass_read_only_user.id, machine="hammer")
    await _call(hass, "lockout", "no-such-user", machine="saw")
    assert _flags(hub, "hammer") == (True, False)
    assert _flags(hub, "saw") == (False, True)


async def test_the_hub_option_lets_non_admins_make_machines_usable(
    hass: HomeAssistant, config_dir: Path, member_user: User
) -> None:
    write_members(config_dir, [])
    entry = await setup_hub(hass, makerspace_entry(non_admins_make_usable=True))
    _stop_everything(entry)
    await _call(hass, "unoops", member_user.id, machine="metal-mill")
    await _call(hass, "unlock", member_user.id, machine="metal-mill")
    await _call(hass, "clear", member_user.id, machine="hammer")
    assert _flags(entry, "metal-mill") == _flags(entry, "hammer") == (False, False)
    # A user id that names no user is still refused: unknown is "no".
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "clear", "no-such-user", machine="saw")
    assert err.value.translation_key == "admin_required"
    assert _flags(entry, "saw") == (True, True)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"machine": "laser-cutter"}, "unknown_machine"),
        ({"entity_id": "light.kitchen"}, "unknown_machine"),
        ({}, "no_machine"),
    ],
)
async def test_action_errors(
    hass: HomeAssistant, hub: MockConfigEntry, data: dict[str, str], key: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "oops", data, blocking=True)
    assert err.value.translation_key == key


async def test_an_action_on_a_device_that_is_not_a_machine(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    hub_device = find_device(hass, hub.entry_id)
    assert hub_device is not None
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "oops", target={"device_id": hub_device.id}, blocking=True
        )
    assert err.value.translation_key == "not_a_machine"
    assert str(err.value) == f"The device {hub_device.id} is not a machine of Makerspace Hub"


async def test_oops_and_lockout_alerts(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    created: list[dict[str, str]] = []
    persistent_notification.async_register_callback(
        hass, lambda _kind, notes: created.extend(notes.values())
    )
    await _call(hass, "oops", machine="metal-mill")
    await _call(hass, "lockout", machine="hammer")
    await hass.async_block_till_done()
    titles = {note["title"] for note in created}
    assert {"metal-mill was oopsed", "hammer was locked out"} <= titles


async def test_no_alerts_unless_enabled(hass: HomeAssistant, config_dir: Path) -> None:
    calls: list[ServiceCall] = []

    async def notify(call: ServiceCall) -> None:
        calls.append(call)

    hass.services.async_register("notify", "admins", notify)
    write_members(config_dir, [])
    await setup_hub(hass, makerspace_entry(notify_services=["notify.admins"]))
    await _call(hass, "oops", machine="metal-mill")
    await hass.async_block_till_done()
    assert calls == []


async def test_reload_users_returns_the_changes(
    hass: HomeAssistant, hub: MockConfigEntry, config_dir: Path
) -> None:
    today = dt_util.now().date()
    changed = members(today)[1:]  # Ada leaves
    changed[0]["preferred_name"] = "Ken"  # Kenneth changes his name
    changed.append(member("7", "Nia", ["0011111111"], ["Metal Mill"]))
    write_members(config_dir, changed)
    response = await hass.services.async_call(
        DOMAIN, "reload_users", {}, blocking=True, return_response=True
    )
    assert response == {"removed": 1, "updated": 1, "added": 1}
    response = await hass.services.async_call(
        DOMAIN,
        "reload_users",
        {"config_entry_id": hub.entry_id},
        blocking=True,
        return_response=True,
    )
    assert response == {"removed": 0, "updated": 0, "added": 0}


async def test_reload_users_errors(
    hass: HomeAssistant, hub: MockConfigEntry, config_dir: Path
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "reload_users", {"config_entry_id": "nope"}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "unknown_hub"
    write_members(config_dir, "[{]")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(DOMAIN, "reload_users", {}, blocking=True)
    assert err.value.translation_key == "users_file_invalid"
    assert len(hub.runtime_data.members_file.members) == 6  # the members in use stay
    (config_dir / "makerspace_hub" / "users.json").unlink()
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(DOMAIN, "reload_users", {}, blocking=True)
    assert err.value.translation_key == "users_file_missing"
    assert len(hub.runtime_data.members_file.members) == 6  # kept for a 10-minute grace


async def test_reload_users_without_a_loaded_hub(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    assert await hass.config_entries.async_unload(hub.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "reload_users", {}, blocking=True)
    assert err.value.translation_key == "no_hub"


@pytest.mark.parametrize("machine", ["", "   "])
async def test_an_empty_machine_name_is_refused(
    hass: HomeAssistant, hub: MockConfigEntry, machine: str
) -> None:
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(DOMAIN, "clear", {"machine": machine}, blocking=True)
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(DOMAIN, "clear", {"entity_id": "all"}, blocking=True)
