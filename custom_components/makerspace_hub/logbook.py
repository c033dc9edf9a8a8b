"""Logbook lines for the hub's bus events: "Laser cutter: Ada logged in".

Each `makerspace_hub_event` (`bus_events`) becomes one line named after its machine,
printer or recording sensor, linked to the device's event entity (when registered
and enabled) and, through the event's `device_id`, to the device. The logbook does
not translate what integrations describe, so the lines are English, as in core.
A card never appears: not its code, not even its keyed tag.
"""

from collections.abc import Callable, Mapping
import re
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import ATTR_DEVICE_ID, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .bus_events import NAME_KEYS
from .const import (
    ATTR_TYPE,
    DOMAIN,
    EVENT_MAKERSPACE_HUB,
    SUBENTRY_MACHINE,
    SUBENTRY_PRINTER,
    SUBENTRY_RECORDING_SENSOR,
)

type Describe = Callable[[Mapping[str, Any]], str]


def _reason(data: Mapping[str, Any]) -> str:
    return str(data.get("reason") or "").replace("_", " ")


def _member(data: Mapping[str, Any]) -> str:
    return str(data.get("member") or "someone")


def _with(text: str, detail: Any) -> str:
    return f"{text} ({detail})" if detail not in (None, "") else text


def _refused(data: Mapping[str, Any]) -> str:
    card = f"card of {data['member']}" if data.get("member") else "card"
    return _with(f"{card} refused", _reason(data))


def _guessing(data: Mapping[str, Any]) -> str:
    found = re.fullmatch(r"(\d+)_unknown_fobs", str(data.get("reason") or ""))
    unknown = f"{found[1]} unknown cards" if found else "too many unknown cards"
    return f"fob guessing suspected ({unknown}): every card refused for now"


def _percent(data: Mapping[str, Any]) -> Any:
    probability = data.get("probability")
    return f"{probability:g} %" if isinstance(probability, int | float) else None


ACCESS: dict[str, Describe] = {
    "login": lambda d: f"{_member(d)} logged in",
    "logout": lambda d: _with(f"{_member(d)} logged out", _reason(d)),
    "denied": _refused,
    "expired": _refused,
    "unknown_fob": lambda _: "unknown card refused",
    "override_login": lambda d: f"{_member(d)} logged in with the Oops override",
    "warn_only_login": lambda d: f"{_member(d)} logged in without authorization (warn only)",
    "oops": lambda d: "Oops pressed on the board" if d.get("source") == "board" else "Oops set",
    "unoops": lambda _: "Oops cleared",
    "lockout": lambda d: _with("locked out", _reason(d)),
    "unlock": lambda d: "guessing lock ended" if d.get("reason") == "guessing" else "unlocked",
    "reboot": lambda d: _with("board rebooted", _reason(d)),
    "guessing": _guessing,
    "service_due": lambda _: "service due",
    "serviced": lambda _: "serviced",
    "card_enrolled": lambda d: (
        f"card enrolled for {d['member']}" if d.get("member") else "card enrolled"
    ),
}
DETECTION: dict[str, Describe] = {
    "print_started": lambda d: _with("print started", d.get("print")),
    "warning": lambda d: _with("possible failure", _percent(d)),
    "failure": lambda d: _with("failure detected", _percent(d)),
    "paused": lambda _: "print paused",
    "powered_off": lambda _: "printer powered off",
    "ignored": lambda _: "failure alert ignored: not a failure",
    "snoozed": lambda d: (
        f"failure alerts snoozed for {d.get('minutes')} minutes"
        if d.get("minutes")
        else "failure alerts snoozed"
    ),
    "detection_on": lambda _: "failure detection on",
    "detection_off": lambda _: "failure detection off",
}
RECORDING: dict[str, Describe] = {
    "started": lambda _: "recording started",
    "finished": lambda _: "recording finished",
    "failed": lambda _: "recording failed",
}
# The name key of each kind (`bus_events.NAME_KEYS`) -> how its events read.
MESSAGES: dict[str, dict[str, Describe]] = {
    NAME_KEYS[SUBENTRY_MACHINE]: ACCESS,
    NAME_KEYS[SUBENTRY_PRINTER]: DETECTION,
    NAME_KEYS[SUBENTRY_RECORDING_SENSOR]: RECORDING,
}


def describe(data: Mapping[str, Any]) -> tuple[str, str]:
    """Return the (name, message) of a bus event's logbook line."""
    event_type = str(data.get(ATTR_TYPE))
    for name_key, messages in MESSAGES.items():
        if name_key in data:
            name = str(data[name_key])
            if (message := messages.get(event_type)) is not None:
                return name, message(data)
            return name, event_type.replace("_", " ")
    return "Makerspace hub", event_type.replace("_", " ")


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe the hub's bus events to the logbook."""

    @callback
    def async_describe(event: Event) -> dict[str, str]:
        name, message = describe(event.data)
        line = {LOGBOOK_ENTRY_NAME: name, LOGBOOK_ENTRY_MESSAGE: message}
        if entity_id := _event_entity(hass, event.data.get(ATTR_DEVICE_ID)):
            line[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
        return line

    async_describe_event(DOMAIN, EVENT_MAKERSPACE_HUB, async_describe)


@callback
def _event_entity(hass: HomeAssistant, device_id: Any) -> str | None:
    """Return the device's enabled event entity (Access, Detection or Recording)."""
    if not isinstance(device_id, str):
        return None
    return next(
        (
            entry.entity_id
            for entry in er.async_entries_for_device(er.async_get(hass), device_id)
            if entry.platform == DOMAIN and entry.domain == Platform.EVENT
        ),
        None,
    )
