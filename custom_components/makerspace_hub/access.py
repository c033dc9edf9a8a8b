"""Who may run a machine: the access rules of the board protocol spec.

Pure Python. `MachineState` is one machine's state; every operation takes the
machine's settings, the members and the time, changes the state and returns the
`AccessEvent`s it caused. The board's reply is derived from the state (`reply`),
never stored, so it cannot drift from the flags.

Where this deliberately differs from dm_mac (see the spec): a card swap logs the
first member out before the second card is judged; an always-enabled machine never
powers up while oopsed or locked out; clearing one flag shows the other's screen; a
reboot keeps the oops/lockout screen; a repeated board oops is one event; expired
members are refused; a members reload re-checks running sessions.

Fob codes never stay here in full: the card at the reader is kept as a digest in
memory (to recognise the same card on the next heartbeat) and a masked form.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
import hashlib
from typing import Any

from .board_protocol import (
    ALWAYS_ON,
    EXPIRED,
    IDLE,
    LOCKED_OUT,
    OOPSED,
    OVERRIDE,
    UNAUTHORIZED,
    UNKNOWN_FOB,
    WELCOME,
    BoardUpdate,
    Reply,
    Screen,
)
from .members import Member, Members, mask_fob
from .settings import MachineSettings

# Session kinds.
MEMBER = "member"  # authorized by one of the machine's authorizations
WARN_ONLY = "warn_only"  # let in by unauthorized_warn_only
OVERRIDE_LOGIN = "override"  # oops_override member on an oopsed/locked machine
REMOTE = "remote"  # switched on by a Home Assistant admin
TRACKED = "tracked"  # a card on an always-enabled machine (the relay is on anyway)

# Event sources.
BOARD = "board"
HOME_ASSISTANT = "home_assistant"

NOTICES: Mapping[str, Screen] = {
    "unknown_fob": UNKNOWN_FOB,
    "unauthorized": UNAUTHORIZED,
    "expired": EXPIRED,
}


@dataclass(frozen=True, slots=True)
class Roster:
    """The members as of today: who is known, who has expired."""

    members: Members
    today: date
    grace_days: int

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


def card_hash(fob: str) -> str:
    """Return the digest that recognises a card without keeping its code."""
    return hashlib.sha256(fob.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessEvent:
    """Something that happened at a machine, for the Access event entity."""

    type: str
    source: str = BOARD
    member: str | None = None  # full name
    account_id: str | None = None
    reason: str | None = None
    fob: str | None = None  # masked


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


@dataclass(slots=True, kw_only=True)
class MachineState:
    """One machine's state; the disk keeps a copy (`as_dict` / `from_dict`)."""

    oopsed: bool = False
    locked_out: bool = False
    card: str | None = None  # card_hash of the card at the reader
    card_masked: str | None = None
    card_since: float | None = None
    last_fob: str | None = None  # masked; stays after the card is gone
    notice: str | None = None  # a key of NOTICES, shown until the card goes
    session: Session | None = None
    uptime: float | None = None
    usage_seconds: float = 0.0
    relay_on_since: float | None = None
    sessions: int = 0
    last_checkin: float | None = None
    telemetry: dict[str, float | bool | None] = field(default_factory=dict)

    # --- what the board is told --------------------------------------------------------

    @property
    def flagged(self) -> bool:
        """Return True while oopsed or locked out."""
        return self.oopsed or self.locked_out

    def relay(self, settings: MachineSettings) -> bool:
        """Return whether the machine's relay is on."""
        if settings.always_enabled and not self.flagged:
            return True
        return self.session is not None and self.session.kind != TRACKED

    def screen(self, settings: MachineSettings) -> Screen:
        """Return what the LCD and status LED show."""
        if self.session is not None and self.session.kind in (OVERRIDE_LOGIN, REMOTE):
            return OVERRIDE
        if self.session is not None and self.session.kind in (MEMBER, WARN_ONLY):
            return WELCOME
        if self.oopsed:
            return OOPSED
        if self.locked_out:
            return LOCKED_OUT
        if settings.always_enabled:
            return ALWAYS_ON
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

    # --- changes -------------------------------------------------------------------------

    def _sync_relay(self, settings: MachineSettings, now: float) -> None:
        on = self.relay(settings)
        if on and self.relay_on_since is None:
            self.relay_on_since = now
        elif not on and self.relay_on_since is not None:
            self.usage_seconds += max(now - self.relay_on_since, 0.0)
            self.relay_on_since = None

    def _end_session(self, reason: str, source: str) -> list[AccessEvent]:
        session, self.session = self.session, None
        if session is None:
            return []
        return [
            AccessEvent(
                type="logout",
                source=source,
                member=session.full_name or session.name,
                account_id=session.account_id,
                reason=reason,
            )
        ]

    def _start_session(self, session: Session, event: str, source: str) -> list[AccessEvent]:
        self.session = session
        if session.kind != TRACKED:
            self.sessions += 1
        return [
            AccessEvent(
                type=event,
                source=source,
                member=session.full_name or session.name,
                account_id=session.account_id,
                reason=session.kind,
                fob=self.card_masked if session.kind != REMOTE else None,
            )
        ]

    def apply_update(
        self,
        update: BoardUpdate,
        settings: MachineSettings,
        roster: Roster,
        now: float,
    ) -> list[AccessEvent]:
        """Apply one POST of the board."""
        events: list[AccessEvent] = []
        self.last_checkin = now
        self.telemetry = {
            "wifi_signal_db": update.wifi_signal_db,
            "wifi_signal_percent": update.wifi_signal_percent,
            "internal_temperature_c": update.internal_temperature_c,
            "amps": update.amps,
            "second_relay_state": update.second_relay_state,
        }
        if update.uptime is not None:
            if self.uptime is not None and update.uptime < self.uptime:
                events.append(AccessEvent(type="reboot"))
                events += self._end_session("reboot", BOARD)
                self.notice = None
            self.uptime = update.uptime
        if update.oops:
            events += self.oops(settings, now, BOARD)
        events += self._card(update.fob, settings, roster, now)
        self._sync_relay(settings, now)
        return events

    def _card(
        self,
        fob: str | None,
        settings: MachineSettings,
        roster: Roster,
        now: float,
    ) -> list[AccessEvent]:
        digest = card_hash(fob) if fob else None
        if digest == self.card:
            return []  # a heartbeat: the same card, or still none
        if self.card is None and fob is not None and self._resumes(fob, roster):
            # After a restart the card is not known (its digest is never saved): the
            # member of the running session still holds it.
            self.card, self.card_masked = digest, mask_fob(fob)
            return []
        events: list[AccessEvent] = []
        if fob is None:
            events += self._end_session("card_removed", BOARD)
        else:
            # A card swap (or a card on a remotely enabled machine) is a logout
            # before the new card is judged.
            events += self._end_session("card_swapped", BOARD)
        self.notice = None
        self.card, self.card_masked = digest, mask_fob(fob)
        self.card_since = now if fob else None
        if fob is None:
            return events
        self.last_fob = self.card_masked
        return events + self._judge(fob, settings, roster, now)

    def _resumes(self, fob: str, roster: Roster) -> bool:
        session, member = self.session, roster.by_fob(fob)
        return (
            session is not None and member is not None and session.account_id == member.account_id
        )

    def _judge(
        self, fob: str, settings: MachineSettings, roster: Roster, now: float
    ) -> list[AccessEvent]:
        """Decide about a card just presented (spec rules 1-5)."""
        member = roster.by_fob(fob)
        masked = self.card_masked
        if settings.always_enabled and not self.flagged:
            # Cards are only tracked: the relay is on anyway.
            if member is None:
                return [AccessEvent(type="unknown_fob", fob=masked, reason="always_enabled")]
            if roster.expired(member):
                return [
                    AccessEvent(
                        type="expired",
                        member=member.full_name,
                        account_id=member.account_id,
                        reason="always_enabled",
                        fob=masked,
                    )
                ]
            return self._start_session(Session.of(TRACKED, member, now), "login", BOARD)
        if member is None:
            if not self.flagged:
                self.notice = "unknown_fob"
            return [AccessEvent(type="unknown_fob", fob=masked)]

        def refused(event: str, reason: str) -> list[AccessEvent]:
            return [
                AccessEvent(
                    type=event,
                    member=member.full_name,
                    account_id=member.account_id,
                    reason=reason,
                    fob=masked,
                )
            ]

        if roster.expired(member):
            if not self.flagged:
                self.notice = "expired"
            return refused("expired", "expired")
        if member.oops_override and self.flagged:
            return self._start_session(
                Session.of(OVERRIDE_LOGIN, member, now), "override_login", BOARD
            )
        if self.flagged:
            reason = "oopsed" if self.oopsed else "locked_out"
            return refused("denied", reason)
        if member.holds_any(settings.authorizations_or):
            return self._start_session(Session.of(MEMBER, member, now), "login", BOARD)
        if settings.unauthorized_warn_only:
            return self._start_session(Session.of(WARN_ONLY, member, now), "warn_only_login", BOARD)
        self.notice = "unauthorized"
        return refused("denied", "unauthorized")

    def oops(self, settings: MachineSettings, now: float, source: str) -> list[AccessEvent]:
        """Oops the machine: relay off, session over; only an admin clears it."""
        events = self._end_session("oops", source)
        self.notice = None
        if not self.oopsed:
            self.oopsed = True
            member = events[0].member if events else None
            events.insert(0, AccessEvent(type="oops", source=source, member=member))
        self._sync_relay(settings, now)
        return events

    def set_flags(
        self,
        settings: MachineSettings,
        now: float,
        *,
        oopsed: bool | None = None,
        locked_out: bool | None = None,
    ) -> list[AccessEvent]:
        """Change the oops/lockout flags as a Home Assistant admin."""
        events: list[AccessEvent] = []
        for attribute, wanted, on_event, off_event in (
            ("oopsed", oopsed, "oops", "unoops"),
            ("locked_out", locked_out, "lockout", "unlock"),
        ):
            if wanted is None or getattr(self, attribute) == wanted:
                continue
            setattr(self, attribute, wanted)
            event = on_event if wanted else off_event
            # Like dm_mac, any flag change ends the running session (the card must be
            # presented again), so clearing one flag shows the other flag's screen.
            ended = self._end_session(event, HOME_ASSISTANT)
            member = ended[0].member if ended else None
            events += [AccessEvent(type=event, source=HOME_ASSISTANT, member=member), *ended]
            self.notice = None
        self._sync_relay(settings, now)
        return events

    def remote_enable(self, settings: MachineSettings, name: str, now: float) -> list[AccessEvent]:
        """Switch the relay on without a card, as a Home Assistant admin."""
        if self.oopsed:
            raise AccessRefusedError("machine_oopsed")
        if self.locked_out:
            raise AccessRefusedError("machine_locked_out")
        if self.relay(settings):
            return []
        self.notice = None
        events = self._start_session(
            Session(kind=REMOTE, name=name, started=now, full_name=name),
            "override_login",
            HOME_ASSISTANT,
        )
        self._sync_relay(settings, now)
        return events

    def end_session(self, settings: MachineSettings, now: float) -> list[AccessEvent]:
        """Switch the relay off as a Home Assistant admin; the card must come again."""
        if settings.always_enabled and not self.flagged:
            raise AccessRefusedError("always_enabled")
        events = self._end_session("home_assistant", HOME_ASSISTANT)
        self._sync_relay(settings, now)
        return events

    def recheck(self, settings: MachineSettings, roster: Roster, now: float) -> list[AccessEvent]:
        """Re-judge the running session after the members (or the date) changed."""
        session = self.session
        if session is None or session.account_id is None:
            self._sync_relay(settings, now)
            return []
        member = roster.by_account(session.account_id)
        kind = session.kind
        if member is None:
            reason: str | None = "member_removed"
        elif roster.expired(member):
            reason = "expired"
        elif kind == OVERRIDE_LOGIN:
            reason = None if member.oops_override else "deauthorized"
        elif kind == TRACKED or member.holds_any(settings.authorizations_or):
            reason = None
        elif settings.unauthorized_warn_only:
            reason, kind = None, WARN_ONLY
        else:
            reason = "deauthorized"
        if member is None or reason is not None:
            events = self._end_session(reason or "member_removed", HOME_ASSISTANT)
        else:
            if kind == WARN_ONLY and member.holds_any(settings.authorizations_or):
                kind = MEMBER
            # The member's names and authorizations may have changed.
            self.session = Session.of(kind, member, session.started)
            events = []
        self._sync_relay(settings, now)
        return events

    # --- persistence ---------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """Return the state to save (JSON-ready, no fob codes, no card digest).

        The digest of the card at the reader stays in memory: a digest of a short
        number is easy to reverse. After a restart the card is recognised by the
        member it belongs to (`_resumes`).
        """
        data = asdict(self)
        del data["card"], data["card_masked"], data["card_since"]
        if self.session is not None:
            data["session"]["authorizations"] = sorted(self.session.authorizations)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MachineState":
        """Read a saved state; raise ValueError (or TypeError) when it is unusable."""
        raw_session = data.get("session")
        session = None
        if raw_session is not None:
            if not isinstance(raw_session, Mapping):
                raise TypeError("session must be an object")
            session = Session(
                kind=_str(raw_session, "kind"),
                name=_str(raw_session, "name"),
                started=_float(raw_session, "started"),
                account_id=_opt_str(raw_session, "account_id"),
                full_name=_opt_str(raw_session, "full_name"),
                authorizations=frozenset(_str_list(raw_session, "authorizations")),
            )
        telemetry = data.get("telemetry", {})
        if not isinstance(telemetry, Mapping):
            raise TypeError("telemetry must be an object")
        notice = _opt_str(data, "notice")
        if notice is not None and notice not in NOTICES:
            raise ValueError(f"unknown notice {notice}")
        return cls(
            oopsed=_bool(data, "oopsed"),
            locked_out=_bool(data, "locked_out"),
            last_fob=_opt_str(data, "last_fob"),
            notice=notice,
            session=session,
            uptime=_opt_float(data, "uptime"),
            usage_seconds=_opt_float(data, "usage_seconds") or 0.0,
            relay_on_since=_opt_float(data, "relay_on_since"),
            sessions=int(_opt_float(data, "sessions") or 0),
            last_checkin=_opt_float(data, "last_checkin"),
            telemetry=dict(telemetry),
        )


def _bool(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise TypeError(f"{key} must be true or false")
    return value


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{key} must be text")
    return value


def _str(data: Mapping[str, Any], key: str) -> str:
    if (value := _opt_str(data, key)) is None:
        raise ValueError(f"{key} is missing")
    return value


def _opt_float(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key} must be a number")
    return float(value)


def _float(data: Mapping[str, Any], key: str) -> float:
    if (value := _opt_float(data, key)) is None:
        raise ValueError(f"{key} is missing")
    return value


def _str_list(data: Mapping[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"{key} must be a list of text")
    return value
