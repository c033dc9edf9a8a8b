"""The words the access rules speak in: sessions, the roster, access events.

Pure Python, data only. A `Session` is who runs a machine now (its kind says why
they may); the `Roster` is who is known today and how their cards are keyed; an
`AccessEvent` is what an operation of `rules.MachineState` caused, for the Access
event entity (a logout carries the `EndedSession`, for the usage records);
`AccessRefusedError` is an admin operation that is not possible now.
The operations themselves live in `rules`, the saved form in `state_file`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from .board_protocol import (
    EXPIRED,
    IDLE_LOGGED_OUT,
    SESSION_TIME_UP,
    UNAUTHORIZED,
    UNKNOWN_FOB,
    Screen,
)
from .fob_keys import FobKeys
from .members import Member, Members

# Session kinds.
MEMBER = "member"  # authorized by one of the machine's authorizations
WARN_ONLY = "warn_only"  # let in by unauthorized_warn_only
OVERRIDE_LOGIN = "override"  # oops_override member on an oopsed/locked machine
REMOTE = "remote"  # switched on by a Home Assistant admin
TRACKED = "tracked"  # a card on an always-enabled machine (the relay is on anyway)

# Event sources.
BOARD = "board"
HOME_ASSISTANT = "home_assistant"

# The card in the reader when it cannot be known (a state file of an older release,
# a board told relay off before its machine ran): whatever card the board reports
# next is taken as already there, never judged; it must be taken out and presented.
CARD_UNKNOWN = "unknown"

# Why a card was refused, shown on the LCD until the card goes.
NOTICES: Mapping[str, Screen] = {
    "unknown_fob": UNKNOWN_FOB,
    "unauthorized": UNAUTHORIZED,
    "expired": EXPIRED,
    "idle": IDLE_LOGGED_OUT,
    "max_session": SESSION_TIME_UP,
}


@dataclass(frozen=True, slots=True)
class Roster:
    """The members as of today: who is known, who has expired; and the fob keys."""

    members: Members
    today: date
    grace_days: int
    keys: FobKeys

    def by_fob(self, fob: str) -> Member | None:
        """Return the member holding a fob."""
        return self.members.by_fob.get(fob)

    def by_account(self, account_id: str) -> Member | None:
        """Return the member with this account id."""
        return self.members.by_account.get(account_id)

    def expired(self, member: Member) -> bool:
        """Return True when the member's membership has run out."""
        return member.is_expired(self.today, self.grace_days)


class AccessRefusedError(Exception):
    """An admin operation is not possible now; `reason` is a translation key."""

    def __init__(self, reason: str) -> None:
        """Name the reason."""
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessEvent:
    """Something that happened at a machine, for the Access event entity."""

    type: str
    source: str = BOARD
    member: str | None = None  # full name
    account_id: str | None = None
    reason: str | None = None
    fob: str | None = None  # the card's tag, never its code
    ended: "EndedSession | None" = None  # a logout's session, for the usage records


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """Who runs the machine now, and since when."""

    kind: str
    name: str  # shown on the LCD
    started: float
    account_id: str | None = None
    full_name: str | None = None
    authorizations: frozenset[str] = frozenset()

    @classmethod
    def of(cls, kind: str, member: Member, now: float) -> "Session":
        """Start a member's session."""
        return cls(
            kind=kind,
            name=member.preferred_name,
            started=now,
            account_id=member.account_id,
            full_name=member.full_name,
            authorizations=member.authorizations,
        )


@dataclass(frozen=True, slots=True)
class EndedSession:
    """A session that ended, and when."""

    session: Session
    ended: float

    @classmethod
    def of(
        cls, session: Session, now: float, last_checkin: float | None, *, heard: bool
    ) -> "EndedSession":
        """Return a session that ends now, seen by a machine whose board was `heard`.

        Before the board is heard from after a restart (and during its first post)
        the session ended while Home Assistant was down: at the board's last check-in
        before it, the last time the machine was known to run.
        """
        if heard or last_checkin is None:
            return cls(session, now)
        return cls(session, min(max(last_checkin, session.started), now))
