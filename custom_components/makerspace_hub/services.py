"""Actions: machines, members, card enrollment, usage reports, printers' snoozes.

A lockout may carry a `reason` (16 characters, one display line) shown on the board:
printable ASCII only, the only characters the board's LCD shows.

Machine actions take machine devices or entities as target (areas, floors and
labels work too), or a `machine` field with a machine's name or alias (case-insensitive).
Errors a user can cause are translated ServiceValidationErrors. Unoops, unlock and
clear make a machine usable again and are for admins and automations (see `authority`);
oops and lockout are for everyone. Enrolling a card (`machines.enrollment`) answers
with the card's full code: it is for admins and automations only, whatever the hub's
`non_admins_make_usable` option says (that option is about switching machines on);
so is the usage report (`machines.usage_report`), which names members.
"""

from functools import partial
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .const import DOMAIN
from .machines.authority import CallerKind, async_identify, check_machine_usable
from .machines.board_protocol import MAX_LOCKOUT_REASON, is_displayable
from .machines.usage_report import as_utc, csv_link
from .printers.print_watch import MAX_SNOOZE_MINUTES, SNOOZE_BUTTON_MINUTES
from .targets import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_MACHINE,
    MACHINE_SCHEMA,
    PRINTER_SCHEMA,
    hubs_of_call,
    invalid,
    machines_of_call,
    printers_of_call,
)

ATTR_REASON = "reason"
LOCKOUT_SCHEMA = MACHINE_SCHEMA.extend({vol.Optional(ATTR_REASON): cv.string})
RELOAD_SCHEMA = vol.Schema({vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string})
ATTR_TIMEOUT = "timeout"
ENROLL_SCHEMA = MACHINE_SCHEMA.extend(
    {
        vol.Optional(ATTR_TIMEOUT, default=60): vol.All(
            vol.Coerce(float), vol.Range(min=5, max=600)
        ),
    }
)
ATTR_START = "start"
ATTR_END = "end"
ATTR_MEMBER = "member"
ATTR_CSV = "csv"
USAGE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_START): cv.datetime,
        vol.Required(ATTR_END): cv.datetime,
        vol.Optional(ATTR_MACHINE): vol.All(cv.string, vol.Strip, vol.Length(min=1)),
        vol.Optional(ATTR_MEMBER): vol.All(cv.string, vol.Strip, vol.Length(min=1)),
        vol.Optional(ATTR_CSV, default=False): cv.boolean,
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)
ATTR_MINUTES = "minutes"
SNOOZE_SCHEMA = PRINTER_SCHEMA.extend(
    {
        vol.Optional(ATTR_MINUTES, default=SNOOZE_BUTTON_MINUTES): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=MAX_SNOOZE_MINUTES)
        ),
    }
)
# Enrolling a card and reading usage show what only admins may see; snoozing failure
# detection lets a print fail unwatched.
ADMIN_CALLERS = frozenset({CallerKind.ADMIN, CallerKind.AUTOMATION})

# action -> the flags it sets
FLAG_ACTIONS: dict[str, dict[str, bool]] = {
    "oops": {"oopsed": True},
    "unoops": {"oopsed": False},
    "lockout": {"locked_out": True},
    "unlock": {"locked_out": False},
    "clear": {"oopsed": False, "locked_out": False},
}
MAKE_USABLE_ACTIONS = frozenset({"unoops", "unlock", "clear"})


def _lockout_reason(call: ServiceCall) -> str | None:
    """Return the lockout reason to show (None: none), or refuse what the LCD cannot show."""
    raw = call.data.get(ATTR_REASON, "")
    if not is_displayable(raw):
        # Checked before stripping: a newline or tab is refused, not trimmed away.
        raise invalid("lockout_reason_invalid")
    reason: str | None = raw.strip() or None
    if reason is not None and len(reason) > MAX_LOCKOUT_REASON:
        raise invalid("lockout_reason_too_long", max=str(MAX_LOCKOUT_REASON))
    return reason


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, in async_setup)."""

    async def set_flags(call: ServiceCall) -> None:
        # Who is calling is known before the machines are: no await between choosing
        # the machines and changing them.
        caller = await async_identify(hass, call.context)
        reason = _lockout_reason(call)
        machines = machines_of_call(hass, call)
        if call.service in MAKE_USABLE_ACTIONS:
            # Every machine is checked before any changes: a refusal changes none of them.
            for machine in machines:
                check_machine_usable(caller, machine)
        for machine in machines:
            machine.async_set_flags(**FLAG_ACTIONS[call.service], reason=reason)

    for action in FLAG_ACTIONS:
        schema = LOCKOUT_SCHEMA if action == "lockout" else MACHINE_SCHEMA
        hass.services.async_register(DOMAIN, action, set_flags, schema=schema)

    async def reload_users(call: ServiceCall) -> ServiceResponse:
        entries = hubs_of_call(hass, call)
        totals: dict[str, Any] = {"removed": 0, "updated": 0, "added": 0}
        for entry in entries:
            changes = await entry.runtime_data.members_file.async_load()
            for key, count in changes.items():
                totals[key] += count
        return totals

    hass.services.async_register(
        DOMAIN,
        "reload_users",
        reload_users,
        schema=RELOAD_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )

    async def enroll_card(call: ServiceCall) -> ServiceResponse:
        if (await async_identify(hass, call.context)).kind not in ADMIN_CALLERS:
            raise invalid("enroll_admin_required")
        machines = machines_of_call(hass, call)
        if len(machines) != 1:
            raise invalid("enroll_one_machine")
        card = await machines[0].async_enroll(call.data[ATTR_TIMEOUT])
        return card.response()

    hass.services.async_register(
        DOMAIN,
        "enroll_card",
        enroll_card,
        schema=ENROLL_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )

    hass.services.async_register(
        DOMAIN,
        "usage_report",
        partial(_usage_report, hass),
        schema=USAGE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN, "snooze_detection", partial(_snooze_detection, hass), schema=SNOOZE_SCHEMA
    )


async def _usage_report(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    """Answer with the sessions and totals of a period (admins and automations)."""
    if (await async_identify(hass, call.context)).kind not in ADMIN_CALLERS:
        raise invalid("usage_admin_required")
    entries = hubs_of_call(hass, call)
    if len(entries) != 1:
        raise invalid("usage_one_hub")
    hub = entries[0].runtime_data
    start, end = as_utc(call.data[ATTR_START]), as_utc(call.data[ATTR_END])
    if end <= start:
        raise invalid("usage_period_invalid")
    machine_ids = None
    if (wanted := call.data.get(ATTR_MACHINE)) is not None:
        match = next((m for m in hub.machines.values() if m.matches(wanted)), None)
        if match is None:
            raise invalid("unknown_machine", machine=wanted)
        machine_ids = [match.subentry_id]
    account_id = call.data.get(ATTR_MEMBER)
    report = await hub.usage.async_report(
        start.timestamp(), end.timestamp(), machine_ids=machine_ids, account_id=account_id
    )
    response = report.as_json()
    if call.data[ATTR_CSV]:
        response["csv_url"] = csv_link(
            hass, hub.entry_id, start, end, machine_ids=machine_ids, account_id=account_id
        )
    return response


async def _snooze_detection(hass: HomeAssistant, call: ServiceCall) -> None:
    """Hold printers' failure actions for a while (admins and automations)."""
    if (await async_identify(hass, call.context)).kind not in ADMIN_CALLERS:
        raise invalid("snooze_admin_required")
    printers = printers_of_call(hass, call)
    idle = [printer.name for printer in printers if not printer.job.active]
    if idle:
        raise invalid("snooze_not_printing", printer=", ".join(idle))
    for printer in printers:
        printer.async_snooze(call.data[ATTR_MINUTES])
