"""Who may run a machine: the access rules of the board protocol and safety specs.

Pure Python. `MachineState` is one machine's state; every operation takes the
machine's settings, the members and the time, changes the state and returns the
`AccessEvent`s it caused. The board's reply is derived from the state (`reply`),
never stored, so it cannot drift from the flags.

The relay is on only if one of these holds (the safety spec's invariant, README
"Safety"): a card session of a member the machine lets in, whose card was presented
since the board's last reboot and the last relay-off, and is still in the reader,
on a machine neither oopsed, locked out (or "state lost") nor throttled; an override
login by an `oops_override` member (not while throttled); an always-enabled machine
that is neither oopsed nor locked out; an admin's remote enable on a machine neither
oopsed nor locked out. Every unknown is a "no": a card that is not the saved one, a
boot time that moved (either way), a state file that cannot be read (`lost`).

Where this deliberately differs from dm_mac (see the spec): a card swap logs the
first member out before the second card is judged; an always-enabled machine never
powers up while oopsed or locked out; clearing one flag shows the other's screen; a
reboot keeps the oops/lockout screen; a repeated board oops is one event; expired
members are refused; a members reload re-checks running sessions; a reboot is also
seen by the board's boot time (check-in time - uptime) moving, across restarts too;
more than GUESS_LIMIT unknown fobs within GUESS_WINDOW_SEC make the board refuse
every card for GUESS_LOCK_SEC.

Fob codes never stay here: the card at the reader is kept as a keyed digest (saved,
to recognise the same card after a restart) and shown as a keyed tag (`fob_keys`).
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from .board_protocol import (
    ALWAYS_ON,
    EXPIRED,
    IDLE,
    LOCKED_OUT,
    OOPSED,
    OVERRIDE,
    STATE_LOST,
    THROTTLED,
    UNAUTHORIZED,
    UNKNOWN_FOB,
    WELCOME,
    BoardUpdate,
    Reply,
    Screen,
)
from .fob_keys import FobKeys, is_digest, is_tag
from .members import Member, Members
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

# How far a board's boot time (check-in time - uptime) may move between posts
# without counting as a reboot: request delays and clock drift, plus how stale the
# board's uptime reading was seen to be (`uptime_lag`, learned per board: firmware
# that refreshes its uptime every minute would otherwise look like it rebooted).
BOOT_TIME_TOLERANCE_SEC = 10.0
MAX_UPTIME_LAG_SEC = 120.0
# Only posts this close together teach the uptime lag: a board cannot reboot and
# post again with a higher uptime within it unless it had just booted.
UPTIME_LAG_LEARN_SEC = 30.0

# Fob guessing (safety spec): more than GUESS_LIMIT unknown fobs within
# GUESS_WINDOW_SEC make the board refuse every card for GUESS_LOCK_SEC.
GUESS_LIMIT = 10
GUESS_WINDOW_SEC = 60.0
GUESS_LOCK_SEC = 300.0

# The card in the reader when it cannot be known (a state file of an older release,
# a board told relay off before its machine ran): whatever card the board reports
# next is taken as already there, never judged; it must be taken out and presented.
CARD_UNKNOWN = "unknown"

NOTICES: Mapping[str, Screen] = {
    "unknown_fob": UNKNOWN_FOB,
    "unauthorized": UNAUTHORIZED,
    "expired": EXPIRED,
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
    sessions: int = 0
    last_checkin: float | None = None
    telemetry: dict[str, float | bool | None] = field(default_factory=dict)
    # Memory only: when recent unknown fobs were presented, and whether the board
    # posted since this state was loaded (a restart forgets both).
    unknown_fobs: list[float] = field(default_factory=list)
    heard: bool = False

    @classmethod
    def lost(cls) -> "MachineState":
        """Return the state of a machine whose saved state cannot be used: locked out.

        The card in its reader is unknown as well: it must be presented again.
        """
        return cls(locked_out=True, state_lost=True, card=CARD_UNKNOWN)

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
            return STATE_LOST if self.state_lost else LOCKED_OUT
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
                fob=self.card_tag if session.kind != REMOTE else None,
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
        if self.throttled_until is not None and now >= self.throttled_until:
            self.throttled_until = None
        previous_checkin, self.last_checkin = self.last_checkin, now
        self.telemetry = {
            "wifi_signal_db": update.wifi_signal_db,
            "wifi_signal_percent": update.wifi_signal_percent,
            "internal_temperature_c": update.internal_temperature_c,
            "amps": update.amps,
            "second_relay_state": update.second_relay_state,
        }
        first, self.heard = not self.heard, True
        if update.uptime is not None:
            reboot = self._check_boot(update.uptime, now, previous_checkin, first=first)
        else:
            # No uptime on the first post after a restart: a reboot cannot be ruled out.
            reboot = "boot_unknown" if first and self.session is not None else None
        if reboot is not None:
            events += self._rebooted(reboot)
        if update.oops:
            events += self.oops(settings, now, BOARD)
        events += self._card(update.fob, settings, roster, now)
        self._sync_relay(settings, now)
        return events

    def _check_boot(
        self, uptime: float, now: float, previous_checkin: float | None, *, first: bool
    ) -> str | None:
        """Return why the session must end as after a reboot (None: it need not).

        Rebooted: the uptime went down (dm_mac's rule), or the boot time moved
        later (the board rebooted while Home Assistant did not hear from it, e.g.
        during a restart). Unknown, on the first post after a restart: the boot time
        moved earlier (the clock is behind the one that saved it, e.g. a Raspberry
        Pi without a clock before it synchronised, which could hide a reboot), or no
        boot time was saved (a state file of an older release) while a session runs.
        Within one run an earlier boot time is only a stale uptime reading.
        """
        boot = now - uptime
        reason: str | None = None
        tolerance = BOOT_TIME_TOLERANCE_SEC + self.uptime_lag
        if self.uptime is not None and uptime < self.uptime:
            reason = "reboot"
        elif self.boot_time is None:
            reason = "boot_unknown" if self.session is not None else None
        elif boot > self.boot_time + tolerance:
            reason = "reboot"
        elif first and boot < self.boot_time - tolerance:
            reason = "clock_changed"
        if (
            reason is None
            and self.uptime is not None
            and previous_checkin is not None
            and 0 <= now - previous_checkin <= UPTIME_LAG_LEARN_SEC
        ):
            lag = abs((now - previous_checkin) - (uptime - self.uptime))
            self.uptime_lag = min(max(self.uptime_lag, lag), MAX_UPTIME_LAG_SEC)
        self.uptime, self.boot_time = uptime, boot
        return reason

    def _rebooted(self, reason: str) -> list[AccessEvent]:
        """End the session of a board that rebooted (or may have)."""
        self.notice = None
        # The card the rebooted board holds was not presented since the reboot: the
        # machine must not start by itself when power returns.
        self.card = CARD_UNKNOWN
        return [AccessEvent(type="reboot", reason=reason), *self._end_session("reboot", BOARD)]

    def _card(
        self,
        fob: str | None,
        settings: MachineSettings,
        roster: Roster,
        now: float,
    ) -> list[AccessEvent]:
        digest = roster.keys.digest(fob) if fob else None
        if digest == self.card:
            return []  # a heartbeat: the same card (saved across restarts), or still none
        unknown = self.card == CARD_UNKNOWN
        self.card, self.card_tag = digest, roster.keys.tag(fob) if fob else None
        self.card_since = now if fob else None
        if unknown:
            # Now known, but not presented: a card session cannot rest on it. An
            # admin's remote enable never did.
            if self.session is not None and self.session.kind == REMOTE:
                return []
            return self._end_session("card_unknown", BOARD)
        # A card removed, or swapped (also on a remotely enabled machine): a logout
        # before any new card is judged.
        events = self._end_session("card_removed" if fob is None else "card_swapped", BOARD)
        self.notice = None
        if fob is None:
            return events
        self.last_fob = self.card_tag
        return events + self._judge(fob, settings, roster, now)

    def _judge(
        self, fob: str, settings: MachineSettings, roster: Roster, now: float
    ) -> list[AccessEvent]:
        """Decide about a card just presented (spec rules 1-5, and guessing)."""
        if self.throttled:
            return []  # refused without an event: one `guessing` event said it all
        member = roster.by_fob(fob)
        tag = self.card_tag
        if member is None and (guessing := self._count_unknown(now)) is not None:
            return [guessing]
        if settings.always_enabled and not self.flagged:
            return self._track(member, roster, now)
        if member is None:
            if not self.flagged:
                self.notice = "unknown_fob"
            return [AccessEvent(type="unknown_fob", fob=tag)]

        def refused(event: str, reason: str) -> list[AccessEvent]:
            return [
                AccessEvent(
                    type=event,
                    member=member.full_name,
                    account_id=member.account_id,
                    reason=reason,
                    fob=tag,
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
            reason = "oopsed" if self.oopsed else "state_lost" if self.state_lost else "locked_out"
            return refused("denied", reason)
        if member.holds_any(settings.authorizations_or):
            return self._start_session(Session.of(MEMBER, member, now), "login", BOARD)
        if settings.unauthorized_warn_only:
            return self._start_session(Session.of(WARN_ONLY, member, now), "warn_only_login", BOARD)
        self.notice = "unauthorized"
        return refused("denied", "unauthorized")

    def _track(self, member: Member | None, roster: Roster, now: float) -> list[AccessEvent]:
        """Note a card on an always-enabled machine: the relay is on anyway."""
        if member is None:
            return [AccessEvent(type="unknown_fob", fob=self.card_tag, reason="always_enabled")]
        if roster.expired(member):
            return [
                AccessEvent(
                    type="expired",
                    member=member.full_name,
                    account_id=member.account_id,
                    reason="always_enabled",
                    fob=self.card_tag,
                )
            ]
        return self._start_session(Session.of(TRACKED, member, now), "login", BOARD)

    def _count_unknown(self, now: float) -> AccessEvent | None:
        """Count an unknown fob; past the limit, refuse every card for a while."""
        self.unknown_fobs = [at for at in self.unknown_fobs if now - at < GUESS_WINDOW_SEC]
        self.unknown_fobs.append(now)
        if len(self.unknown_fobs) <= GUESS_LIMIT:
            return None
        count = len(self.unknown_fobs)
        self.unknown_fobs = []
        self.throttled_until = now + GUESS_LOCK_SEC
        self.notice = None
        return AccessEvent(type="guessing", reason=f"{count}_unknown_fobs", fob=self.card_tag)

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
        """Change the oops/lockout flags as a Home Assistant admin.

        Clearing both (the admin's Clear) also ends a guessing lock early; lifting the
        lockout also lifts "state lost", the admin having checked the machine.
        """
        events: list[AccessEvent] = []
        if oopsed is False and locked_out is False and self.throttled:
            self.throttled_until = None
            events.append(AccessEvent(type="unlock", source=HOME_ASSISTANT, reason="guessing"))
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
        if not self.locked_out:
            self.state_lost = False
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

    def told_relay_off(
        self, settings: MachineSettings, now: float, reason: str
    ) -> list[AccessEvent]:
        """End the session: the board was told relay off without this state.

        A relay that went off never comes back on by itself: the session is over, and
        the card the board held then is unknown here, so it is not judged when it
        is reported next.
        """
        self.card, self.card_tag, self.card_since = CARD_UNKNOWN, None, None
        events = self._end_session(reason, HOME_ASSISTANT)
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
        elif not any(roster.keys.digest(fob) == self.card for fob in member.fob_codes):
            reason = "fob_removed"  # the card in the reader is no longer the member's
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
        """Return the state to save (JSON-ready; the card only as its keyed digest)."""
        data = asdict(self)
        del data["unknown_fobs"], data["heard"]
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
        # A file of an older release has no card: which card is in the reader is unknown.
        card = _opt_str(data, "card") if "card" in data else CARD_UNKNOWN
        if card not in (None, CARD_UNKNOWN) and not is_digest(card):
            raise ValueError("card must be a card digest")
        last_fob = _opt_str(data, "last_fob")
        state_lost = _bool(data, "state_lost")
        locked_out = _bool(data, "locked_out")
        if state_lost and not locked_out:
            raise ValueError("state_lost without locked_out")
        return cls(
            oopsed=_bool(data, "oopsed"),
            locked_out=locked_out,
            state_lost=state_lost,
            card=card,
            card_tag=_opt_str(data, "card_tag"),
            card_since=_opt_float(data, "card_since"),
            # Older releases kept the last digits of the code: never show those again.
            last_fob=last_fob if is_tag(last_fob) else None,
            notice=notice,
            session=session,
            uptime=_opt_float(data, "uptime"),
            boot_time=_opt_float(data, "boot_time"),
            uptime_lag=min(max(_opt_float(data, "uptime_lag") or 0.0, 0.0), MAX_UPTIME_LAG_SEC),
            throttled_until=_opt_float(data, "throttled_until"),
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
