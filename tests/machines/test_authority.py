"""Who may make a machine usable: the rule, and who Home Assistant says is calling."""

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.makerspace_hub.hub_options import HubOptions
from custom_components.makerspace_hub.machines.authority import (
    Caller,
    CallerKind,
    async_identify,
    check_make_usable,
    may_make_usable,
)


@pytest.mark.parametrize(
    ("kind", "option_off", "option_on"),
    [
        (CallerKind.AUTOMATION, True, True),
        (CallerKind.ADMIN, True, True),
        (CallerKind.USER, False, True),
        (CallerKind.UNKNOWN, False, False),  # unknown is "no", whatever the option says
    ],
)
def test_the_rule(kind: CallerKind, option_off: bool, option_on: bool) -> None:
    assert may_make_usable(kind, non_admins_make_usable=False) is option_off
    assert may_make_usable(kind, non_admins_make_usable=True) is option_on


def test_a_refusal_is_translated_and_names_the_machine() -> None:
    with pytest.raises(ServiceValidationError) as err:
        check_make_usable(Caller(kind=CallerKind.USER, name="Tablet"), HubOptions(), "Table saw")
    assert err.value.translation_key == "admin_required"
    assert err.value.translation_placeholders == {"machine": "Table saw"}
    check_make_usable(
        Caller(kind=CallerKind.USER), HubOptions(non_admins_make_usable=True), "Table saw"
    )


async def test_who_is_calling(
    hass: HomeAssistant,
    hass_admin_user: MockUser,
    hass_owner_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    member = await hass.auth.async_create_user("Shop tablet", group_ids=[GROUP_ID_USER])
    retired = await hass.auth.async_create_user("Former admin", group_ids=[GROUP_ID_USER])
    await hass.auth.async_deactivate_user(retired)

    async def kind(user_id: str | None) -> CallerKind:
        return (await async_identify(hass, Context(user_id=user_id))).kind

    assert (await async_identify(hass, None)).kind is CallerKind.AUTOMATION
    assert await kind(None) is CallerKind.AUTOMATION
    assert await async_identify(hass, Context(user_id=hass_admin_user.id)) == Caller(
        kind=CallerKind.ADMIN, name=hass_admin_user.name
    )
    assert await kind(hass_owner_user.id) is CallerKind.ADMIN
    assert await kind(member.id) is CallerKind.USER
    assert await kind(hass_read_only_user.id) is CallerKind.USER
    assert await kind("0123456789abcdef") is CallerKind.UNKNOWN
    assert await kind(retired.id) is CallerKind.UNKNOWN
