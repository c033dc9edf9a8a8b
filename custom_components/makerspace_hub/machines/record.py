"""One machine's state as a record: what it holds, and what that tells the board.

Pure Python. `MachineRecord` holds the fields (saved and read back through
`state_file`) and derives the board's six outputs from them (`reply`): derived,
never stored, so the reply cannot drift from the flags. The operations that change
the fields are `rules.MachineState`, a subclass: use that one.

The relay is on only if one of these holds (the safety spec's invariant, README
"Safety"): a card session of a member the machine lets in, whose card was presented
since the board's last reboot and the last relay-off, and is still in the reader,
on a machine neither oopsed, locked out (or "state lost") nor throttled; an override
login by an `oops_override` member (not while throttled); an always-enabled machine
that is neither oopsed nor locked out; an admin's remote enable on a machine neither
oopsed nor locked out. `relay` checks the flags itself as well, so that no record
(a restored backup, a hand-edited file) can power a flagged or throttled machine.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from operator import attrgetter
from typing import Any, Self

from .board_protocol import (
    ALWAYS_ON,
    IDLE,
    OOPSED,
    OVERRIDE,
    STATE_LOST,
    THROTTLED,
    WELCOME,
    Reply,
    Screen,
    locked_out_screen,
)
from .sessions import (
    CARD_UNKNOWN,
    MEMBER,
    NOTICES,
    OVERRIDE_LOGIN,
    REMOTE,
    TRACKED,
    WARN_ONLY,
    Session,
)
from .settings import MachineSettings
from .state_file import MEMORY_ONLY, READINGS, read_state, saved_form


@dataclass(slots=True, kw_only=True)
class MachineRecord:
    """One machine's state; the disk keeps a copy (`as_dict` / `from_dict`)."""

    oopsed: bool = False
    locked_out: bool = False
    lockout_reason: str | None = None  # shown on the display's second line
    state_lost: bool = False  # locked out because the saved state could not be read
    # Keyed digest of the card in the reader; unknown until the board first posts.
    card: str | None = CARD_UNKNOWN
    card_tag: str | None = None
    card_since: float | None = None
    last_fob: str | None = None  # tag; stays after the card is gone
    notice: str | None = None  # a key of NOTICES, shown until the card goes
    session: Session | None = None
    uptime: float | None = None
    boot_time: float | None = None  # check-in time - uptime (wall clock)
    uptime_lag: float = 0.0
    throttled_until: float | None = None  # wall clock; None: not throttled
    usage_seconds: float = 0.0
    relay_on_since: float | None = None
    idle_since: float | None = None  # the session's machine idle since (session_limits)
    sessions: int = 0
    # Service interval (`service`): the usage seconds at the last service, and whether
    # this interval's `service_due` event and lockout happened.
    serviced_at_seconds: float = 0.0
    service_due_sent: bool = False
    service_locked: bool = False
    last_checkin: float | None = None
    telemetry: dict[str, float | bool | None] = field(default_factory=dict)
    # Memory only: when recent unknown fobs were presented, and whether the board
    # posted since this state was loaded (a restart forgets both).
    unknown_fobs: list[float] = field(default_factory=list)
    heard: bool = False

    @classmethod
    def lost(cls) -> Self:
        """Return the state of a machine whose saved state cannot be used: locked out.

        The card in its reader is unknown as well: it must be presented again.
        """
        return cls(locked_out=True, state_lost=True, card=CARD_UNKNOWN)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read a saved state; raise ValueError (or TypeError) when it is unusable."""
        return cls(**read_state(data))

    def as_dict(self) -> dict[str, Any]:
        """Return the state to save (JSON-ready; the card only as its keyed digest)."""
        # What `dataclasses.asdict` gives, without deep-copying every plain value:
        # only the session and the telemetry are containers.
        data = {name: getattr(self, name) for name in _SAVED}
        data["session"] = None if self.session is None else asdict(self.session)
        data["telemetry"] = dict(self.telemetry)
        return saved_form(data)

    def save_keys(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """Return (the saved fields but the READINGS, the READINGS), for `SaveGate`.

        Two states have equal keys exactly when their saved forms (`as_dict`) are
        equal: the same fields, compared by value (the telemetry copied, as the
        next post replaces it).
        """
        return _durable(self), (
            self.last_checkin,
            dict(self.telemetry),
            self.uptime,
            self.boot_time,
            self.uptime_lag,
        )

    # --- what the board is told --------------------------------------------------------

    @property
    def flagged(self) -> bool:
        """Return True while oopsed or locked out (or in "state lost", a lockout)."""
        return self.oopsed or self.locked_out

    @property
    def throttled(self) -> bool:
        """Return True while the board refuses every card (fob guessing)."""
        return self.throttled_until is not None

    def relay(self, settings: MachineSettings) -> bool:
        """Return whether the machine's relay is on.

        Sessions exist only while the rules allow them (every change that ends the
        right ends the session), so the relay is on for a session or an unflagged
        always-enabled machine, and for nothing else.
        """
        if settings.always_enabled and not self.flagged:
            return True
        session = self.session
        if session is None or session.kind == TRACKED:
            return False
        # Sessions end whenever their right ends; the flags are checked here as well,
        # so that no state (a restored backup, a hand-edited file) can power a
        # flagged or throttled machine but an override.
        if session.kind == OVERRIDE_LOGIN:
            return not self.throttled
        if self.flagged:
            return False
        return session.kind == REMOTE or not self.throttled

    def screen(self, settings: MachineSettings) -> Screen:
        """Return what the LCD and status LED show."""
        if self.session is not None and self.session.kind in (OVERRIDE_LOGIN, REMOTE):
            return OVERRIDE
        if self.session is not None and self.session.kind in (MEMBER, WARN_ONLY):
            return WELCOME
        if self.oopsed:
            return OOPSED
        if self.locked_out:
            if self.state_lost:
                return STATE_LOST
            return locked_out_screen(self.lockout_reason)
        if settings.always_enabled:
            return ALWAYS_ON
        if self.throttled:
            return THROTTLED
        if self.notice is not None:
            return NOTICES[self.notice]
        return IDLE

    def second_relay(self, settings: MachineSettings) -> str | None:
        """Return the second relay's decision (spec rule 9).

        None: off without a decision; `always_enabled`, `granted`, `warn`: on;
        `denied`: off.
        """
        rules = settings.second_relay
        if rules is None or not self.relay(settings):
            return None
        if rules.always_enabled:
            return "always_enabled"
        if self.session is None or self.session.account_id is None:
            return None  # nobody identified: fail closed
        if any(name in self.session.authorizations for name in rules.authorizations_or):
            return "granted"
        return "warn" if rules.unauthorized_warn_only else "denied"

    def reply(self, settings: MachineSettings) -> Reply:
        """Return the six outputs for the board."""
        return Reply(
            relay=self.relay(settings),
            screen=self.screen(settings),
            oops_led=self.oopsed,
            second_relay=self.second_relay(settings) in ("always_enabled", "granted", "warn"),
            name=self.session.name if self.session else "",
        )

    def usage_hours(self, now: float) -> float:
        """Return the total hours the relay was on, including a running session."""
        running = now - self.relay_on_since if self.relay_on_since is not None else 0.0
        return (self.usage_seconds + max(running, 0.0)) / 3600


# The fields `as_dict` saves, and those of them that are not READINGS.
_SAVED = tuple(f.name for f in fields(MachineRecord) if f.name not in MEMORY_ONLY)
_durable = attrgetter(*(name for name in _SAVED if name not in READINGS))
