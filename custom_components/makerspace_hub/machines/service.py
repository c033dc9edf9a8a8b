"""Service intervals: hours of use until a machine is due for service (pure).

A machine with `service_interval_hours` (0 = off) counts its relay-on hours since
the last service (`serviced_at_seconds`, the usage seconds when an admin pressed
Serviced; while the interval is off it follows the usage, so an interval switched
on starts then). When the hours run out: one `service_due` event per interval and,
with `lock_out_when_service_due`, a lockout with the reason SERVICE_DUE_REASON —
only while the relay is off, so a running session (a cut) is never stopped: the
lockout waits for the session to end. An always-enabled machine's relay never goes
off by itself, so it only gets the event. Serviced starts a new interval; it does
not unlock (unlocking a machine is an admin's separate act).

The lockout goes through `MachineState.set_flags`, which only ever takes power away.
"""

from dataclasses import replace

from .rules import MachineState
from .sessions import HOME_ASSISTANT, AccessEvent
from .settings import MachineSettings

SERVICE_DUE = "service_due"
SERVICED = "serviced"
SERVICE_DUE_REASON = "Service due"  # the display's second line (16 characters at most)


def hours_until_service(interval_hours: int, used_seconds: float, serviced_at: float) -> float:
    """Return the hours of use left in the interval (negative: overdue)."""
    return interval_hours - (used_seconds - serviced_at) / 3600


def hours_left(state: MachineState, settings: MachineSettings, now: float) -> float | None:
    """Return the hours of use left (None: the machine has no service interval)."""
    if not settings.service_interval_hours:
        return None
    return hours_until_service(
        settings.service_interval_hours, state.usage_hours(now) * 3600, state.serviced_at_seconds
    )


def check_service(state: MachineState, settings: MachineSettings, now: float) -> list[AccessEvent]:
    """Note a service that came due; lock the machine out once its relay is off."""
    if not settings.service_interval_hours:
        state.serviced_at_seconds = state.usage_seconds
        state.service_due_sent = state.service_locked = False
        return []
    left = hours_left(state, settings, now)
    if left is None or left > 0:
        # Not due (again: Serviced, or a longer interval): the next run-out counts anew.
        state.service_due_sent = state.service_locked = False
        return []
    events: list[AccessEvent] = []
    if not state.service_due_sent:
        state.service_due_sent = True
        member = state.session.full_name or state.session.name if state.session else None
        events.append(AccessEvent(type=SERVICE_DUE, source=HOME_ASSISTANT, member=member))
    if _lockout_pending(state, settings) and not state.relay(settings):
        events += _lock_out(state, settings, now)  # never mid-cut: once the relay is off
    return events


def lock_before_card(
    state: MachineState, settings: MachineSettings, digest: str | None, now: float
) -> list[AccessEvent]:
    """Lock out before a post whose card (`digest`) ends the session, if a lockout waits.

    The session ends anyway (its card is leaving): locking out first means no other
    card starts the overdue machine in the same post (a card swap).
    """
    leaving = digest != state.card and state.session is not None
    if not leaving or settings.always_enabled or not _lockout_pending(state, settings):
        return []
    return _lock_out(state, settings, now)


def _lockout_pending(state: MachineState, settings: MachineSettings) -> bool:
    # Due and noted (check_service), not done yet. An admin's lockout (and its reason)
    # may already be in place: it stays, and the service lockout follows the unlock.
    return (
        settings.lock_out_when_service_due
        and state.service_due_sent
        and not state.service_locked
        and not state.locked_out
    )


def _lock_out(state: MachineState, settings: MachineSettings, now: float) -> list[AccessEvent]:
    state.service_locked = True
    return [
        replace(event, reason=SERVICE_DUE) if event.type == "lockout" else event
        for event in state.set_flags(settings, now, locked_out=True, reason=SERVICE_DUE_REASON)
    ]


def serviced(state: MachineState, now: float) -> list[AccessEvent]:
    """Start a new interval at the hours used now (the lockout, if any, stays).

    A running session's time so far is banked first, so that `serviced_at_seconds`
    never exceeds the saved `usage_seconds` (`state_file` clamps it to that).
    """
    if state.relay_on_since is not None:
        state.usage_seconds += max(now - state.relay_on_since, 0.0)
        state.relay_on_since = now
    state.serviced_at_seconds = state.usage_seconds
    state.service_due_sent = state.service_locked = False
    return [AccessEvent(type=SERVICED, source=HOME_ASSISTANT)]
