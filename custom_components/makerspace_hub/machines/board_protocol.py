"""The boards' wire format: what a board POSTs and what it gets back (board protocol spec).

Pure Python. `parse_board_update` turns a request body into a `BoardUpdate` or
raises `BoardRequestError` with the HTTP status and a message for the board's log;
unknown extra keys are ignored. `Reply.as_json` is always exactly the six keys;
`LastReply` encodes a board's reply once until it changes (a board hears the same
reply post after post), `reply_body` the few replies given without a machine.
"""

from dataclasses import dataclass
from functools import lru_cache
import json
import math
import re
from typing import Any

from .members import normalize_fob

MAX_BODY_BYTES = 16 * 1024
_TAG_RE = re.compile(r"^[0-9]{1,32}$")

# (display, status LED colour, status LED brightness) of each screen.
IDLE = ("Please Insert\nRFID Card", (0.0, 0.0, 0.0), 0.0)
WELCOME = ("Welcome,\n{name}", (0.0, 1.0, 0.0), 0.5)
OVERRIDE = ("OVERRIDE BY\n{name}", (0.0, 1.0, 0.0), 0.5)
ALWAYS_ON = ("Always On", (0.0, 1.0, 0.0), 0.5)
UNKNOWN_FOB = ("Unknown RFID", (1.0, 0.0, 0.0), 0.5)
UNAUTHORIZED = ("Unauthorized", (1.0, 0.5, 0.0), 0.5)
EXPIRED = ("Membership\nExpired", (1.0, 0.5, 0.0), 0.5)
# A session that ended by itself (session_limits): the card must come out and in again.
IDLE_LOGGED_OUT = ("Logged out: idle\nre-insert card", (1.0, 0.5, 0.0), 0.5)
SESSION_TIME_UP = ("Session time up\nre-insert card", (1.0, 0.5, 0.0), 0.5)
OOPSED = ("Oops!! Please\ncheck/post Slack", (1.0, 0.0, 0.0), 0.5)
LOCKED_OUT = ("Down for\nmaintenance", (1.0, 0.5, 0.0), 0.5)
# Not in dm_mac: a locked-out machine whose saved state could not be read, and a board
# refusing every card after too many unknown fobs (safety spec).
STATE_LOST = ("State lost:\nadmin must check", (1.0, 0.5, 0.0), 0.5)
THROTTLED = ("Too many cards\ntry again later", (1.0, 0.0, 0.0), 0.5)
# Answers given without a running machine (`board_gate`): relay off, session ended.
HUB_STARTING = ("Hub starting\nplease wait", (1.0, 0.5, 0.0), 0.5)
HUB_NOT_RUNNING = ("Hub not running\nplease wait", (1.0, 0.5, 0.0), 0.5)
HUB_RETRYING = ("Hub not ready\nretrying soon", (1.0, 0.5, 0.0), 0.5)
HUB_FAILED = ("Hub failed\nask an admin", (1.0, 0.0, 0.0), 0.5)
MACHINE_NOT_SET_UP = ("Machine setup\nneeds an admin", (1.0, 0.0, 0.0), 0.5)
NEW_URL_NEEDED = ("New URL\nneeded", (1.0, 0.0, 0.0), 0.5)
# A board whose machine_name the hub does not know (a renamed or removed machine, a
# copied URL): relay off rather than a 4xx, on which a board keeps a relay on.
UNKNOWN_MACHINE = ("Unknown machine\ncheck its name", (1.0, 0.0, 0.0), 0.5)
# An admin's card enrollment (`enrollment`), relay off: waiting for a card to arrive,
# then that card, captured and not judged, until it is taken out.
ENROLL_WAITING = ("Enroll: present\nnew card", (1.0, 0.5, 0.0), 0.5)
CARD_CAPTURED = ("Card captured\nremove card", (0.0, 0.0, 1.0), 0.5)

type Screen = tuple[str, tuple[float, float, float], float]
MAX_LOCKOUT_REASON = 16  # one line of the 16x2 display
# The LCD shows printable ASCII only: no accents, emoji, newlines or tabs.
_DISPLAYABLE_RE = re.compile(r"[\x20-\x7e]*")


def is_displayable(text: str) -> bool:
    """Return True when the board's LCD can show every character of `text`."""
    return _DISPLAYABLE_RE.fullmatch(text) is not None


def locked_out_screen(reason: str | None) -> Screen:
    """Return the lockout screen, an admin's reason instead of "maintenance"."""
    if not reason:
        return LOCKED_OUT
    # The display text is formatted with the member's name: braces stay braces.
    line = reason[:MAX_LOCKOUT_REASON].replace("{", "{{").replace("}", "}}")
    return (f"Down for\n{line}", LOCKED_OUT[1], LOCKED_OUT[2])


class BoardRequestError(ValueError):
    """A request the server refuses: `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        """Describe the refusal."""
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardUpdate:
    """One validated POST of a board."""

    machine_name: str | None
    oops: bool
    fob: str | None  # zero-padded to 10 characters; None = no card
    uptime: float | None = None
    wifi_signal_db: float | None = None
    wifi_signal_percent: float | None = None
    internal_temperature_c: float | None = None
    amps: float | None = None
    second_relay_state: bool | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What the board should do now."""

    relay: bool
    screen: Screen
    oops_led: bool
    second_relay: bool
    name: str = ""

    @property
    def display(self) -> str:
        """Return the LCD text (16x2, lines separated by a newline)."""
        return self.screen[0].format(name=self.name)

    def as_json(self) -> dict[str, Any]:
        """Return exactly the six keys a board reads."""
        return {
            "relay": self.relay,
            "display": self.display,
            "oops_led": self.oops_led,
            "status_led_rgb": list(self.screen[1]),
            "status_led_brightness": self.screen[2],
            "second_relay": self.second_relay,
        }


# Replies given without a machine (`board_gate`'s screens, no name): a handful.
REPLY_BODIES_KEPT = 32


@lru_cache(maxsize=REPLY_BODIES_KEPT)
def reply_body(reply: Reply) -> bytes:
    """Return the reply's JSON (`Reply.as_json`), UTF-8 encoded."""
    return json.dumps(reply.as_json()).encode()


class LastReply:
    """A board's last reply and its JSON, encoded again only when the reply changes.

    One per machine rather than a cache of all replies: a reply greets its member by
    name, and replies kept for long would only add to what the garbage collector walks.
    """

    __slots__ = ("_body", "_reply")

    def __init__(self) -> None:
        """Nothing answered yet."""
        self._reply: Reply | None = None
        self._body = b""

    def body(self, reply: Reply) -> bytes:
        """Return the reply's JSON (`Reply.as_json`), UTF-8 encoded."""
        if reply != self._reply:
            self._reply, self._body = reply, json.dumps(reply.as_json()).encode()
        return self._body


def _number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BoardRequestError(400, f"{key} must be a number")
    try:
        number = float(value)  # a JSON integer may be too large for a float
    except OverflowError as err:
        raise BoardRequestError(400, f"{key} must be a number") from err
    if not math.isfinite(number):
        raise BoardRequestError(400, f"{key} must be a number")
    return number


def _bool(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise BoardRequestError(400, f"{key} must be true or false")
    return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def parse_board_update(raw: bytes) -> BoardUpdate:
    """Validate a board's request body."""
    if len(raw) > MAX_BODY_BYTES:
        raise BoardRequestError(413, f"request body larger than {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as err:
        raise BoardRequestError(400, "request body is not valid JSON") from err
    if not isinstance(body, dict):
        raise BoardRequestError(400, "request body must be a JSON object")
    machine_name = body.get("machine_name")
    if machine_name is not None and not isinstance(machine_name, str):
        raise BoardRequestError(400, "machine_name must be a string")
    rfid_value = body.get("rfid_value")
    if rfid_value is not None and not isinstance(rfid_value, str):
        raise BoardRequestError(400, "rfid_value must be a string")
    if rfid_value and not _TAG_RE.fullmatch(rfid_value):
        raise BoardRequestError(400, "rfid_value must be a decimal tag number")
    uptime = _number(body, "uptime")
    if uptime is not None and uptime < 0:
        raise BoardRequestError(400, "uptime must not be negative")
    return BoardUpdate(
        machine_name=machine_name,
        oops=bool(_bool(body, "oops")),
        fob=normalize_fob(rfid_value) if rfid_value else None,
        uptime=uptime,
        wifi_signal_db=_number(body, "wifi_signal_db"),
        wifi_signal_percent=_number(body, "wifi_signal_percent"),
        internal_temperature_c=_number(body, "internal_temperature_c"),
        amps=_number(body, "amps"),
        second_relay_state=_bool(body, "second_relay_state"),
    )
