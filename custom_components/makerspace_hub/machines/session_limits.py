"""When a session ends by itself: idle for too long, or on for too long (pure).

Both limits are a machine's settings, 0 meaning never (`idle_logout_minutes`,
`max_session_minutes`). Idle is what the board reports: a current below the
machine's `idle_current_amps`. A board that does not report current is never idle,
so boards without a current sensor are not affected.

Either way the session ends as a logout (reason `idle` or `max_session`), the relay
goes off, and the card still in the reader starts nothing: the member takes it out
and presents it again.

The clock may lie: a start or an idle time later than now (a clock set back, a
hand-edited state file) is taken as now, and kept, so that both limits count from
then instead of never being reached.
"""

from dataclasses import replace

from .sessions import Session
from .settings import MachineSettings

IDLE_LOGOUT = "idle"
MAX_SESSION = "max_session"


def idle_since(
    amps: float | None, settings: MachineSettings, since: float | None, now: float
) -> float | None:
    """Return since when the running machine has been idle (None: not idle, or unknown)."""
    if not settings.idle_logout_minutes or amps is None or amps >= settings.idle_current_amps:
        return None
    return now if since is None else min(since, now)


def limit_reached(
    started: float, idle: float | None, settings: MachineSettings, now: float
) -> str | None:
    """Return why a session that started at `started` must end now (None: it need not)."""
    if idle is not None and now - idle >= settings.idle_logout_minutes * 60:
        return IDLE_LOGOUT
    if settings.max_session_minutes and now - started >= settings.max_session_minutes * 60:
        return MAX_SESSION
    return None


def apply_limits(
    session: Session, amps: float | None, settings: MachineSettings, since: float | None, now: float
) -> tuple[Session, float | None, str | None]:
    """Return the running session and its idle start as of now, and why it must end.

    The reason is None when the session need not end. A session that started later
    than now starts now.
    """
    if session.started > now:
        session = replace(session, started=now)
    idle = idle_since(amps, settings, since, now)
    return session, idle, limit_reached(session.started, idle, settings, now)
