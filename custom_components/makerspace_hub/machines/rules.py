"""Who may run a machine: the access rules of the board protocol and safety specs.

Pure Python. `MachineState` is one machine's state; every operation takes the
machine's settings, the members and the time, changes the state and returns the
`AccessEvent`s it caused. Its fields, its saved form and what it tells the board
(the relay rule of the safety spec's invariant) are in `record.MachineRecord`, its
base; reboots are read by `reboots`. Every unknown is a "no": a card that is not the
saved one, a boot time that moved (either way), a state file that cannot be read.

Where this deliberately differs from dm_mac (see the spec): a card swap logs the
first member out before the second card is judged; an always-enabled machine never
powers up while oopsed or locked out; clearing one flag shows the other's screen; a
reboot keeps the oops/lockout screen; a repeated board oops is one event; expired
members are refused; a members reload re-checks running sessions; a reboot is also
seen by the board's boot time (check-in time - uptime) moving, across restarts too;
more than GUESS_LIMIT unknown fobs within GUESS_WINDOW_SEC make the board refuse
every card for GUESS_LOCK_SEC; a session may end by itself, idle or too long
(`session_limits`, machine options that dm_mac does not have).

Fob codes never stay here: the card at the reader is kept as a keyed digest (saved,
to recognise the same card after a restart) and shown as a keyed tag (`fob_keys`).
"""

from .board_protocol import BoardUpdate
from .members import Member
from .reboots import BootClock
from .record import MachineRecord
from .session_limits import apply_limits
from .sessions import (
    BOARD,
    CARD_UNKNOWN,
    HOME_ASSISTANT,
    MEMBER,
    OVERRIDE_LOGIN,
    REMOTE,
    TRACKED,
    WARN_ONLY,
    AccessEvent,
    AccessRefusedError,
    EndedSession,
    Roster,
    Session,
)
from .settings import MachineSettings

# Fob guessing (safety spec): more than GUESS_LIMIT unknown fobs within
# GUESS_WINDOW_SEC make the board refuse every card for GUESS_LOCK_SEC.
GUESS_LIMIT = 10
GUESS_WINDOW_SEC = 60.0
GUESS_LOCK_SEC = 300.0


class MachineState(MachineRecord):
    """One machine's state and the operations that change it."""

    __slots__ = ()

    # --- changes -------------------------------------------------------------------------

    def _sync_relay(self, settings: MachineSettings, now: float) -> None:
        on = self.relay(settings)
        if on and self.relay_on_since is None:
            self.relay_on_since = now
        elif not on and self.relay_on_since is not None:
            self.usage_seconds += max(now - self.relay_on_since, 0.0)
            self.relay_on_since = None

    def _end_session(self, reason: str, source: str, now: float) -> list[AccessEvent]:
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
                ended=EndedSession.of(session, now, self.last_checkin, heard=self.heard),
            )
        ]

    def _start_session(self, session: Session, event: str, source: str) -> list[AccessEvent]:
        self.session = session
        self.idle_since = None
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
        previous_checkin = self.last_checkin
        self.telemetry = {
            "wifi_signal_db": update.wifi_signal_db,
            "wifi_signal_percent": update.wifi_signal_percent,
            "internal_temperature_c": update.internal_temperature_c,
            "amps": update.amps,
            "second_relay_state": update.second_relay_state,
        }
        first = not self.heard
        if update.uptime is not None:
            reboot = self._check_boot(update.uptime, now, previous_checkin, first=first)
        else:
            # No uptime on the first post after a restart: a reboot cannot be ruled out.
            reboot = "boot_unknown" if first and self.session is not None else None
        if reboot is not None:
            events += self._rebooted(reboot, now)
        if update.oops:
            events += self.oops(settings, now, BOARD)
        events += self._card(update.fob, settings, roster, now)
        events += self._end_if_limited(update.amps, settings, now)
        self._sync_relay(settings, now)
        # Only now: a session that ended in this first post after a restart ended at
        # the check-in before it (`EndedSession.of`).
        self.last_checkin, self.heard = now, True
        return events

    def _end_if_limited(
        self, amps: float | None, settings: MachineSettings, now: float
    ) -> list[AccessEvent]:
        """End a session that was idle or on for too long; the card must come again."""
        if self.session is None:
            self.idle_since = None
            return []
        self.session, self.idle_since, reason = apply_limits(
            self.session, amps, settings, self.idle_since, now
        )
        if reason is None:
            return []
        self.idle_since = None
        events = self._end_session(reason, BOARD, now)
        self.notice = reason  # until the card is taken out
        return events

    def _check_boot(
        self, uptime: float, now: float, previous_checkin: float | None, *, first: bool
    ) -> str | None:
        """Return why the session must end as after a reboot (None: it need not)."""
        clock = BootClock(uptime=self.uptime, boot_time=self.boot_time, uptime_lag=self.uptime_lag)
        reason, clock = clock.check(
            uptime, now, previous_checkin, first=first, session_running=self.session is not None
        )
        self.uptime, self.boot_time = clock.uptime, clock.boot_time
        self.uptime_lag = clock.uptime_lag
        return reason

    def _rebooted(self, reason: str, now: float) -> list[AccessEvent]:
        """End the session of a board that rebooted (or may have)."""
        self.notice = None
        # The card the rebooted board holds was not presented since the reboot: the
        # machine must not start by itself when power returns.
        self.card = CARD_UNKNOWN
        ended = self._end_session("reboot", BOARD, now)
        return [AccessEvent(type="reboot", reason=reason), *ended]

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
            return self._end_session("card_unknown", BOARD, now)
        # A card removed, or swapped (also on a remotely enabled machine): a logout
        # before any new card is judged.
        reason = "card_removed" if fob is None else "card_swapped"
        events = self._end_session(reason, BOARD, now)
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
        events = self._end_session("oops", source, now)
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
        reason: str | None = None,
    ) -> list[AccessEvent]:
        """Change the oops/lockout flags as a Home Assistant admin.

        Clearing both (the admin's Clear) also ends a guessing lock early; lifting the
        lockout also lifts "state lost", the admin having checked the machine, and
        its reason. A lockout's `reason` (None: keep the one shown) is displayed.
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
            ended = self._end_session(event, HOME_ASSISTANT, now)
            member = ended[0].member if ended else None
            events += [AccessEvent(type=event, source=HOME_ASSISTANT, member=member), *ended]
            self.notice = None
        if not self.locked_out:
            self.state_lost, self.lockout_reason = False, None
        elif reason and any(event.type == "lockout" for event in events):
            self.lockout_reason = reason  # only when locking: a lockout keeps its reason
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
        events = self._end_session("home_assistant", HOME_ASSISTANT, now)
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
        events = self._end_session(reason, HOME_ASSISTANT, now)
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
            events = self._end_session(reason or "member_removed", HOME_ASSISTANT, now)
        else:
            if kind == WARN_ONLY and member.holds_any(settings.authorizations_or):
                kind = MEMBER
            # The member's names and authorizations may have changed.
            self.session = Session.of(kind, member, session.started)
            events = []
        self._sync_relay(settings, now)
        return events
