"""Who may make a machine usable again: the rule, and the check of the calling user.

The rule (README, Safety): stopping a machine (Oops, relay off, lockout) is for
everyone. Making it usable (relay on, unlock, unoops, clear) is for Home Assistant
admins and for calls without a user (automations, scripts they run, notification
buttons handled by automations); other users only when the hub's
`non_admins_make_usable` option is on. A user id that names no active user is
unknown, and unknown is "no", whatever the option says.

The user is checked per call (the entity's context, the action call's context), not
with `async_register_admin_service`: that guards a whole domain's action, not one
operation of an entity, and it drops action responses on Home Assistant 2025.4.
"""

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError

from ..const import DOMAIN
from ..hub_options import HubOptions

if TYPE_CHECKING:
    from .machine import Machine


class CallerKind(StrEnum):
    """What kind of caller asked for an operation."""

    AUTOMATION = "automation"  # no user in the context
    ADMIN = "admin"
    USER = "user"  # an active user who is not an admin
    UNKNOWN = "unknown"  # a user id that names no active user


@dataclass(frozen=True, kw_only=True)
class Caller:
    """The caller of one operation, and the user's name when there is a user."""

    kind: CallerKind
    name: str | None = None


def may_make_usable(kind: CallerKind, *, non_admins_make_usable: bool) -> bool:
    """Return True when this caller may switch on, unlock, unoops or clear a machine."""
    if kind is CallerKind.USER:
        return non_admins_make_usable
    return kind in (CallerKind.AUTOMATION, CallerKind.ADMIN)


async def async_identify(hass: HomeAssistant, context: Context | None) -> Caller:
    """Return who is calling, as far as Home Assistant knows the context's user."""
    user_id = context.user_id if context is not None else None
    if user_id is None:
        return Caller(kind=CallerKind.AUTOMATION)
    user = await hass.auth.async_get_user(user_id)
    # A deactivated user keeps their id in old contexts but is nobody any more.
    if user is None or not user.is_active:
        return Caller(kind=CallerKind.UNKNOWN)
    return Caller(kind=CallerKind.ADMIN if user.is_admin else CallerKind.USER, name=user.name)


def check_make_usable(caller: Caller, options: HubOptions, machine: str) -> None:
    """Raise a translated error unless `caller` may make `machine` usable on this hub."""
    if not may_make_usable(caller.kind, non_admins_make_usable=options.non_admins_make_usable):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="admin_required",
            translation_placeholders={"machine": machine},
        )


def check_machine_usable(caller: Caller, machine: "Machine") -> None:
    """Raise a translated error unless `caller` may make `machine` usable."""
    check_make_usable(caller, machine.options, machine.settings.display_name)


async def async_require_machine_usable(
    hass: HomeAssistant, context: Context | None, machine: "Machine"
) -> Caller:
    """Return the caller of a make-usable operation on `machine`; raise if refused."""
    caller = await async_identify(hass, context)
    check_machine_usable(caller, machine)
    return caller


async def async_require_machine_admin(
    hass: HomeAssistant, context: Context | None, machine: "Machine"
) -> Caller:
    """Return the caller, an admin or an automation; raise otherwise, whatever the option.

    For what a hub's `non_admins_make_usable` does not hand to every user: saying a
    machine was serviced (it postpones a service lockout).
    """
    caller = await async_identify(hass, context)
    options = replace(machine.options, non_admins_make_usable=False)
    check_make_usable(caller, options, machine.settings.display_name)
    return caller
