"""The saved form of a machine's state: what is written, and what is read back.

Pure Python. `read_state` checks a saved dict field by field (with the shared
validators of `validation`) and returns the fields of a `rules.MachineState`, or
raises `ValueError` / `TypeError` saying what is wrong; the machine then starts
locked out ("state lost") and the message becomes the repair issue's problem text.
`saved_form` turns the state's fields into the dict to write, and `SaveGate` decides
which states are written at all. Nothing here knows the rules: the state class calls
these, not the other way round.

What is never saved: the fob code (the card in the reader is kept as its keyed
digest, and shown as a keyed tag, see `fob_keys`), and what only this run needs
(recent unknown fobs, whether the board posted since the state was loaded).
"""

from collections.abc import Mapping
from typing import Any, TypedDict

from ..validation import (
    read_bool,
    read_float,
    read_mapping,
    read_optional_float,
    read_optional_text,
    read_str_list,
    read_text,
)
from .board_protocol import MAX_LOCKOUT_REASON
from .fob_keys import is_digest, is_tag
from .reboots import MAX_UPTIME_LAG_SEC
from .sessions import CARD_UNKNOWN, NOTICES, Session

# Fields of the state that only the running machine needs: a restart forgets them.
MEMORY_ONLY = ("unknown_fobs", "heard")
# The board's readings: nearly every heartbeat changes them (uptime, WiFi, check-in
# time). A state that changes only these is saved at most every
# READINGS_SAVE_INTERVAL_SEC: an SD card need not be written every second.
READINGS = ("last_checkin", "telemetry", "uptime", "boot_time", "uptime_lag")
READINGS_SAVE_INTERVAL_SEC = 300.0


class SavedState(TypedDict):
    """The fields of a machine's state that are saved (`MachineState` keywords)."""

    oopsed: bool
    locked_out: bool
    lockout_reason: str | None
    state_lost: bool
    card: str | None
    card_tag: str | None
    card_since: float | None
    last_fob: str | None
    notice: str | None
    session: Session | None
    uptime: float | None
    boot_time: float | None
    uptime_lag: float
    throttled_until: float | None
    usage_seconds: float
    relay_on_since: float | None
    idle_since: float | None
    sessions: int
    serviced_at_seconds: float
    service_due_sent: bool
    service_locked: bool
    last_checkin: float | None
    telemetry: dict[str, Any]


def saved_form(fields: dict[str, Any]) -> dict[str, Any]:
    """Return the dict to save (JSON-ready) from a state's fields (`dataclasses.asdict`)."""
    data = {key: value for key, value in fields.items() if key not in MEMORY_ONLY}
    if data.get("session") is not None:
        data["session"] = {
            **data["session"],
            "authorizations": sorted(data["session"]["authorizations"]),
        }
    return data


class SaveGate:
    """Which of a machine's states reach its store.

    A state is written when a saved field other than the READINGS changed since the
    last write, or when only readings changed and READINGS_SAVE_INTERVAL_SEC passed
    (or the write is forced); never when nothing saved changed. The state is judged
    by its keys (`MachineRecord.save_keys`), equal exactly when the saved forms
    would be: a heartbeat costs no saved form, no copy and no comparison of dicts.
    """

    __slots__ = ("_durable", "_readings", "_saved_at")

    def __init__(self) -> None:
        """Nothing written yet: the first state is."""
        self._durable: tuple[Any, ...] | None = None
        self._readings: tuple[Any, ...] | None = None
        self._saved_at = 0.0

    def due(
        self, durable: tuple[Any, ...], readings: tuple[Any, ...], now: float, *, force: bool
    ) -> bool:
        """Return True when the state with these keys is to be written now (monotonic `now`)."""
        if durable == self._durable and (
            readings == self._readings
            or (not force and now - self._saved_at < READINGS_SAVE_INTERVAL_SEC)
        ):
            return False
        self._durable, self._readings, self._saved_at = durable, readings, now
        return True


def read_state(data: Mapping[str, Any]) -> SavedState:
    """Read a saved state; raise ValueError (or TypeError) when it is unusable."""
    session = None
    if data.get("session") is not None:
        session = _read_session(read_mapping(data, "session", {}))
    telemetry = read_mapping(data, "telemetry", {})
    notice = read_optional_text(data, "notice")
    if notice is not None and notice not in NOTICES:
        raise ValueError(f"unknown notice {notice}")
    # A file of an older release has no card: which card is in the reader is unknown.
    card = read_optional_text(data, "card") if "card" in data else CARD_UNKNOWN
    if card not in (None, CARD_UNKNOWN) and not is_digest(card):
        raise ValueError("card must be a card digest")
    last_fob = read_optional_text(data, "last_fob")
    state_lost = read_bool(data, "state_lost", False)
    locked_out = read_bool(data, "locked_out", False)
    if state_lost and not locked_out:
        raise ValueError("state_lost without locked_out")
    # Only a locked-out machine shows a reason; a hand-edited one still fits the display.
    reason = read_optional_text(data, "lockout_reason")
    usage = read_optional_float(data, "usage_seconds") or 0.0
    # A file from before service intervals: the interval counts from the hours used
    # then (an interval switched on later is not overdue at once). Never more than
    # the hours used (`service.serviced` banks a running session's time first).
    serviced_at = read_optional_float(data, "serviced_at_seconds")
    serviced_at = usage if serviced_at is None else min(serviced_at, usage)
    return SavedState(
        oopsed=read_bool(data, "oopsed", False),
        locked_out=locked_out,
        lockout_reason=reason[:MAX_LOCKOUT_REASON] if locked_out and reason else None,
        state_lost=state_lost,
        card=card,
        card_tag=read_optional_text(data, "card_tag"),
        card_since=read_optional_float(data, "card_since"),
        # Older releases kept the last digits of the code: never show those again.
        last_fob=last_fob if is_tag(last_fob) else None,
        notice=notice,
        session=session,
        uptime=read_optional_float(data, "uptime"),
        boot_time=read_optional_float(data, "boot_time"),
        uptime_lag=min(
            max(read_optional_float(data, "uptime_lag") or 0.0, 0.0), MAX_UPTIME_LAG_SEC
        ),
        throttled_until=read_optional_float(data, "throttled_until"),
        usage_seconds=usage,
        relay_on_since=read_optional_float(data, "relay_on_since"),
        idle_since=read_optional_float(data, "idle_since"),
        sessions=int(read_optional_float(data, "sessions") or 0),
        serviced_at_seconds=serviced_at,
        service_due_sent=read_bool(data, "service_due_sent", False),
        service_locked=read_bool(data, "service_locked", False),
        last_checkin=read_optional_float(data, "last_checkin"),
        telemetry=dict(telemetry),
    )


def _read_session(data: Mapping[str, Any]) -> Session:
    return Session(
        kind=read_text(data, "kind"),
        name=read_text(data, "name"),
        started=read_float(data, "started"),
        account_id=read_optional_text(data, "account_id"),
        full_name=read_optional_text(data, "full_name"),
        authorizations=frozenset(read_str_list(data, "authorizations")),
    )
