"""Actions: stop or free machines, reload the members, enroll a card, report usage.

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

from collections.abc import Iterable
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_AREA_ID,
    ATTR_DEVICE_ID,
    ATTR_ENTITY_ID,
    ATTR_FLOOR_ID,
    ATTR_LABEL_ID,
)
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    area_registry as ar,
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
import voluptuous as vol

from .const import DOMAIN
from .hub import MakerspaceConfigEntry
from .machines.authority import CallerKind, async_identify, check_machine_usable
from .machines.board_protocol import MAX_LOCKOUT_REASON, is_displayable
from .machines.machine import Machine
from .machines.usage_report import as_utc, csv_link

ATTR_MACHINE = "machine"
ATTR_CONFIG_ENTRY_ID = "config_entry_id"

_IDS = vol.All(cv.ensure_list, [cv.string])
MACHINE_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_MACHINE): vol.All(cv.string, vol.Strip, vol.Length(min=1)),
        vol.Optional(ATTR_ENTITY_ID): cv.entity_ids,
        vol.Optional(ATTR_DEVICE_ID): _IDS,
        vol.Optional(ATTR_AREA_ID): _IDS,
        vol.Optional(ATTR_FLOOR_ID): _IDS,
        vol.Optional(ATTR_LABEL_ID): _IDS,
    }
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
# Enrolling a card and reading usage show what only admins may see.
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


def _hubs(hass: HomeAssistant) -> list[MakerspaceConfigEntry]:
    return [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _devices_of(hass: HomeAssistant, call: ServiceCall) -> tuple[set[str], set[str]]:
    """Return (devices named directly or through entities, devices of areas/labels)."""
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    direct = set(call.data.get(ATTR_DEVICE_ID, []))
    for entity_id in call.data.get(ATTR_ENTITY_ID, []):
        entry = entities.async_get(entity_id)
        if entry is None or entry.device_id is None:
            raise _invalid("unknown_machine", machine=entity_id)
        direct.add(entry.device_id)
    grouped: set[str] = set()
    areas = set(call.data.get(ATTR_AREA_ID, []))
    for floor_id in call.data.get(ATTR_FLOOR_ID, []):
        areas.update(area.id for area in ar.async_entries_for_floor(ar.async_get(hass), floor_id))
    for area_id in areas:
        grouped.update(device.id for device in dr.async_entries_for_area(devices, area_id))
        grouped.update(
            entry.device_id
            for entry in er.async_entries_for_area(entities, area_id)
            if entry.device_id
        )
    for label_id in call.data.get(ATTR_LABEL_ID, []):
        grouped.update(device.id for device in dr.async_entries_for_label(devices, label_id))
        grouped.update(
            entry.device_id
            for entry in er.async_entries_for_label(entities, label_id)
            if entry.device_id
        )
    return direct, grouped


def _subentry_ids(hass: HomeAssistant, device_ids: Iterable[str]) -> dict[str, set[str]]:
    registry = dr.async_get(hass)
    found: dict[str, set[str]] = {}
    for device_id in device_ids:
        device = registry.async_get(device_id)
        found[device_id] = {
            identifier
            for domain, identifier in (device.identifiers if device else ())
            if domain == DOMAIN
        }
    return found


def _hubs_of_call(hass: HomeAssistant, call: ServiceCall) -> list[MakerspaceConfigEntry]:
    """Return the running hub the call names, or every running hub; raise if none."""
    entries = _hubs(hass)
    if (entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID)) is not None:
        entries = [entry for entry in entries if entry.entry_id == entry_id]
        if not entries:
            raise _invalid("unknown_hub", hub=entry_id)
    if not entries:
        raise _invalid("no_hub")
    return entries


@callback
def machines_of_call(hass: HomeAssistant, call: ServiceCall) -> list[Machine]:
    """Return the machines an action call targets; raise a clear error otherwise."""
    machines = {
        subentry_id: machine
        for entry in _hubs(hass)
        for subentry_id, machine in entry.runtime_data.machines.items()
    }
    chosen: dict[str, Machine] = {}
    if (wanted := call.data.get(ATTR_MACHINE)) is not None:
        match = next((m for m in machines.values() if m.matches(wanted)), None)
        if match is None:
            raise _invalid("unknown_machine", machine=wanted)
        chosen[match.subentry_id] = match
    direct, grouped = _devices_of(hass, call)
    for device_id, identifiers in _subentry_ids(hass, direct | grouped).items():
        hits = [machines[i] for i in identifiers if i in machines]
        if not hits and device_id in direct:
            raise _invalid("not_a_machine", device=device_id)
        chosen.update((machine.subentry_id, machine) for machine in hits)
    if not chosen:
        raise _invalid("no_machine")
    return list(chosen.values())


def _lockout_reason(call: ServiceCall) -> str | None:
    """Return the lockout reason to show (None: none), or refuse what the LCD cannot show."""
    raw = call.data.get(ATTR_REASON, "")
    if not is_displayable(raw):
        # Checked before stripping: a newline or tab is refused, not trimmed away.
        raise _invalid("lockout_reason_invalid")
    reason: str | None = raw.strip() or None
    if reason is not None and len(reason) > MAX_LOCKOUT_REASON:
        raise _invalid("lockout_reason_too_long", max=str(MAX_LOCKOUT_REASON))
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
        entries = _hubs_of_call(hass, call)
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
            raise _invalid("enroll_admin_required")
        machines = machines_of_call(hass, call)
        if len(machines) != 1:
            raise _invalid("enroll_one_machine")
        card = await machines[0].async_enroll(call.data[ATTR_TIMEOUT])
        return card.response()

    hass.services.async_register(
        DOMAIN,
        "enroll_card",
        enroll_card,
        schema=ENROLL_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )

    async def usage_report(call: ServiceCall) -> ServiceResponse:
        if (await async_identify(hass, call.context)).kind not in ADMIN_CALLERS:
            raise _invalid("usage_admin_required")
        entries = _hubs_of_call(hass, call)
        if len(entries) != 1:
            raise _invalid("usage_one_hub")
        hub = entries[0].runtime_data
        start, end = as_utc(call.data[ATTR_START]), as_utc(call.data[ATTR_END])
        if end <= start:
            raise _invalid("usage_period_invalid")
        machine_ids = None
        if (wanted := call.data.get(ATTR_MACHINE)) is not None:
            match = next((m for m in hub.machines.values() if m.matches(wanted)), None)
            if match is None:
                raise _invalid("unknown_machine", machine=wanted)
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

    hass.services.async_register(
        DOMAIN,
        "usage_report",
        usage_report,
        schema=USAGE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
