"""The safety invariant, checked after every step of random runs of the pure rules.

A hypothesis state machine drives one machine's `MachineState` through board posts
(cards in, out and swapped, Oops, reboots, heartbeats, the machine's current), admin
actions (a card enrollment too), members-file changes, restarts and lost state
files, while a model of its own keeps what the
invariant needs: which card is in the reader, whether it arrived since the last
reboot and the last relay-off reply, the flags, the guessing lock. After every step:

    the relay is on only if (a) a card session: a current member whom the machine
    lets in presented the card since the board's last reboot and the last relay-off,
    the card is still in the reader, and the machine is neither oopsed, locked out,
    throttled nor in "state lost"; or (b) an override login by an `oops_override`
    member on an oopsed or locked-out machine, same card conditions, not throttled;
    or (c) always enabled, neither oopsed nor locked out; or (d) an admin's remote
    enable, neither oopsed nor locked out.

(README "Safety", the safety spec.) The model does not copy the rules: it knows
the truth (whether the board really rebooted, which card really is in the reader)
and only asks whether the relay may be on.
"""

import contextlib
from dataclasses import dataclass, field
from datetime import date
import json
import os
from typing import Any

from hypothesis import HealthCheck, assume, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from custom_components.makerspace_hub.machines.board_protocol import BoardUpdate
from custom_components.makerspace_hub.machines.enrollment import Enrollment
from custom_components.makerspace_hub.machines.fob_keys import FobKeys
from custom_components.makerspace_hub.machines.members import parse_members
from custom_components.makerspace_hub.machines.reboots import (
    BOOT_TIME_TOLERANCE_SEC,
    MAX_UPTIME_LAG_SEC,
)
from custom_components.makerspace_hub.machines.rules import (
    GUESS_LIMIT,
    GUESS_LOCK_SEC,
    GUESS_WINDOW_SEC,
    MachineState,
)
from custom_components.makerspace_hub.machines.service import check_service, serviced
from custom_components.makerspace_hub.machines.sessions import AccessRefusedError, Roster
from custom_components.makerspace_hub.machines.settings import MachineSettings, SecondRelaySettings

TODAY = date(2026, 11, 22)
KEYS = FobKeys(b"s" * 32)
MACHINES = [
    MachineSettings(name="mill", authorizations_or=("Mill",)),
    MachineSettings(name="hammer", authorizations_or=("Mill",), unauthorized_warn_only=True),
    MachineSettings(name="compressor", always_enabled=True),
    MachineSettings(
        name="saw",
        authorizations_or=("Mill",),
        second_relay=SecondRelaySettings(authorizations_or=("Dust",)),
    ),
    # Sessions that end by themselves: idle for a minute, or on for two.
    MachineSettings(
        name="laser", authorizations_or=("Mill",), idle_logout_minutes=1, max_session_minutes=2
    ),
]
FOBS = ["0012345678", "0087654321", "0055501234", "0066602345"]
NEW_FOBS = ["0071000001", "0071000002", "0071000003", "0071000004"]  # after a fob is lost
UNKNOWN_FOBS = [f"99000000{n:02d}" for n in range(20)]


@dataclass
class ModelMember:
    """What the model says about one member."""

    fob: str
    present: bool = True
    authorized: bool = True
    expired: bool = False
    override: bool = False
    dust: bool = True  # may run the saw's dust collector (its second relay)

    def as_json(self, index: int) -> dict[str, Any]:
        return {
            "fob_codes": [self.fob],
            "account_id": str(index),
            "full_name": f"M{index}",
            "first_name": f"M{index}",
            "last_name": "T",
            "preferred_name": f"M{index}",
            "email": f"m{index}@example.org",
            "expiration_ymd": "2020-01-01" if self.expired else "2099-01-01",
            "authorizations": (["Mill"] if self.authorized else [])
            + (["Dust"] if self.dust else []),
            "oops_override": self.override,
        }


@dataclass
class Board:
    """The real board: its boot time, and which card its reader really holds."""

    boot: float
    card: str | None = None


@dataclass
class Model:
    """What the invariant needs, kept independently of the rules."""

    fresh: bool = False  # the card in the reader arrived since the last reboot / relay-off
    oopsed: bool = False
    locked: bool = False
    lost: bool = False
    remote: bool = False  # an admin enabled it since the relay last went off
    # The card the board reports next was in the reader before Home Assistant could
    # see it arrive (a reboot, a lost state file, a relay-off while starting): it is
    # no presentation.
    card_unknown: bool = True  # nothing is known of a board not heard yet
    throttled_until: float | None = None
    unknown_at: list[float] = field(default_factory=list)


class SafetyRules(RuleBasedStateMachine):
    """Random runs of one machine's rules."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1_800_000_000.0
        self.state = MachineState()
        self.model = Model()
        self.members = [ModelMember(fob) for fob in FOBS]
        self.board = Board(boot=self.now - 100)
        self.settings = MACHINES[0]
        self.relay_was_on = False
        self.enrollment = Enrollment()  # an admin's card enrollment at the board

    @initialize(
        machine=st.sampled_from(MACHINES),
        overrides=st.lists(st.booleans(), min_size=4, max_size=4),
        dust=st.lists(st.booleans(), min_size=4, max_size=4),
    )
    def setup(self, machine: MachineSettings, overrides: list[bool], dust: list[bool]) -> None:
        self.settings = machine
        for member, override, may_dust in zip(self.members, overrides, dust, strict=True):
            member.override, member.dust = override, may_dust

    # --- helpers ---------------------------------------------------------------------

    def roster(self) -> Roster:
        data = [m.as_json(i) for i, m in enumerate(self.members) if m.present]
        return Roster(parse_members(json.dumps(data).encode()), TODAY, 0, KEYS)

    def member(self, fob: str | None) -> ModelMember | None:
        return next((m for m in self.members if m.present and m.fob == fob), None)

    def throttled(self) -> bool:
        until = self.model.throttled_until
        return until is not None and self.now < until

    def after_reply(self) -> None:
        """A reply went to the board (or an admin changed the relay)."""
        on = self.enrollment.reply(self.state, self.settings).relay
        if not on:
            self.model.fresh = False
            self.model.remote = False
        self.relay_was_on = on

    def post(
        self,
        card: str | None,
        *,
        oops: bool = False,
        uptime: float | None = None,
        amps: float | None = None,
    ) -> None:
        previous, self.board.card = self.board.card, card
        if self.model.card_unknown:
            self.model.card_unknown = False
        elif card != previous and card is not None:
            self.model.fresh = True
            if self.member(card) is None and not self.throttled():
                self.model.unknown_at = [
                    at for at in self.model.unknown_at if self.now - at < GUESS_WINDOW_SEC
                ] + [self.now]
                if len(self.model.unknown_at) > GUESS_LIMIT:
                    self.model.unknown_at = []
                    self.model.throttled_until = self.now + GUESS_LOCK_SEC
        if oops:
            self.model.oopsed = True
        update = BoardUpdate(
            machine_name=self.settings.name,
            oops=oops,
            fob=card,
            uptime=self.now - self.board.boot if uptime is None else uptime,
            amps=amps,
        )
        _events, captured = self.enrollment.apply_update(
            self.state, update, self.settings, self.roster(), self.now
        )
        if captured is not None:
            # Taken by the enrollment: no presentation that may start the machine.
            self.model.fresh = False
        if self.enrollment.over(self.state, self.settings):
            self.enrollment.end()
        # A session never outlives its machine's limit past a post.
        session, limit = self.state.session, self.settings.max_session_minutes
        assert not (limit and session and self.now - session.started >= limit * 60)
        self.after_reply()

    # --- board posts -------------------------------------------------------------------

    @rule(
        card=st.sampled_from([None, *FOBS, *NEW_FOBS[:2], *UNKNOWN_FOBS[:3]]),
        wait=st.floats(0.5, 30),
    )
    def present_or_remove(self, card: str | None, wait: float) -> None:
        self.now += wait
        self.post(card)

    @rule(wait=st.floats(0.1, 5))
    def scan_unknown_fobs(self, wait: float) -> None:
        """Someone tries fob codes, card after card."""
        for fob in UNKNOWN_FOBS:
            self.now += wait
            self.post(fob)

    @rule(wait=st.floats(1, 15))
    def heartbeat(self, wait: float) -> None:
        self.now += wait
        self.post(self.board.card)

    @rule(amps=st.sampled_from([0.0, 0.3, 0.5, 4.0]), wait=st.floats(1, 90))
    def heartbeat_with_current(self, amps: float, wait: float) -> None:
        """The board reports the machine's current (cutting, or idle) with the same card."""
        self.now += wait
        self.post(self.board.card, amps=amps)

    @rule()
    def oops_pressed(self) -> None:
        self.now += 1
        self.post(self.board.card, oops=True)

    @rule(
        downtime=st.floats(0, 600),
        new_uptime=st.floats(1, 60),
        card=st.sampled_from([None, *FOBS]),
        keep_card=st.booleans(),
    )
    def board_reboots(
        self, downtime: float, new_uptime: float, card: str | None, keep_card: bool
    ) -> None:
        """The board restarts (power cut, watchdog); its reader may still hold the card."""
        old_uptime = self.now - self.board.boot
        # A reboot no server can see: a higher uptime than the last post, from a
        # board that booted less than the tolerance before its previous boot.
        # (Lower by more than float noise: `now - boot` is not exact.)
        assume(
            new_uptime < old_uptime - 1e-6
            or old_uptime + downtime > BOOT_TIME_TOLERANCE_SEC + MAX_UPTIME_LAG_SEC
        )
        self.now += downtime + new_uptime
        self.board.boot = self.now - new_uptime
        self.model.fresh = False
        self.model.remote = False
        # Whatever card the reader holds when the board is back was not presented
        # since the reboot: the machine must not start when power returns.
        self.model.card_unknown = True
        self.post(self.board.card if keep_card else card, uptime=new_uptime)

    # --- Home Assistant ----------------------------------------------------------------

    @rule(downtime=st.floats(1, 900))
    def home_assistant_restarts(self, downtime: float) -> None:
        self.state = MachineState.from_dict(json.loads(json.dumps(self.state.as_dict())))
        self.model.unknown_at = []  # counts of unknown fobs live in memory only
        self.now += downtime

    @rule()
    def state_file_torn(self) -> None:
        self.state = MachineState.lost()
        self.model.locked = self.model.lost = True
        self.model.oopsed = False
        self.model.card_unknown = True
        self.model.unknown_at = []
        self.model.throttled_until = None
        self.after_reply()

    @rule()
    def told_relay_off_while_starting(self) -> None:
        self.state.told_relay_off(self.settings, self.now, "hub_not_running")
        self.model.fresh = False
        self.model.remote = False
        self.model.card_unknown = True
        self.after_reply()

    @rule(
        oopsed=st.sampled_from([None, True, False]),
        locked=st.sampled_from([None, True, False]),
    )
    def admin_sets_flags(self, oopsed: bool | None, locked: bool | None) -> None:
        self.state.set_flags(self.settings, self.now, oopsed=oopsed, locked_out=locked)
        if oopsed is not None:
            self.model.oopsed = oopsed
        if locked is not None:
            self.model.locked = locked
        if locked is False:
            self.model.lost = False
        if oopsed is False and locked is False:
            self.model.throttled_until = None
        self.after_reply()

    @rule()
    def admin_enables(self) -> None:
        try:
            self.state.remote_enable(self.settings, "Admin", self.now)
        except AccessRefusedError:  # refused while oopsed or locked out
            return
        self.model.remote = True
        self.after_reply()

    @rule()
    def admin_enrolls_a_card(self) -> None:
        """An admin waits for the next card at the board (refused if the machine runs)."""
        with contextlib.suppress(AccessRefusedError):
            self.enrollment.start(self.state, self.settings, stopped=False)

    @rule()
    def enrollment_times_out(self) -> None:
        self.enrollment.end()

    @rule()
    def admin_switches_off(self) -> None:
        try:
            self.state.end_session(self.settings, self.now)
        except AccessRefusedError:  # refused on an always-enabled machine
            return
        self.model.remote = False
        self.model.fresh = False
        self.after_reply()

    @rule(
        index=st.integers(0, len(FOBS) - 1),
        change=st.sampled_from(
            ["remove", "add", "expire", "renew", "deauthorize", "authorize", "new_fob"]
        ),
    )
    def members_change(self, index: int, change: str) -> None:
        member = self.members[index]
        if change == "new_fob":  # the old fob was lost or stolen: it is nobody's now
            member.fob = NEW_FOBS[index] if member.fob == FOBS[index] else FOBS[index]
        elif change in ("remove", "add"):
            member.present = change == "add"
        elif change in ("expire", "renew"):
            member.expired = change == "expire"
        else:
            member.authorized = change == "authorize"
        self.state.recheck(self.settings, self.roster(), self.now)
        self.after_reply()

    # --- the invariant -----------------------------------------------------------------

    def allowed(self) -> bool:
        model = self.model
        flagged = model.oopsed or model.locked
        if self.settings.always_enabled and not flagged:
            return True  # (c)
        if model.remote and not flagged:
            return True  # (d)
        member = self.member(self.board.card)
        if member is None or member.expired or not model.fresh or self.throttled():
            return False
        if flagged:
            return member.override  # (b)
        return member.authorized or self.settings.unauthorized_warn_only  # (a)

    @invariant()
    def relay_on_only_when_allowed(self) -> None:
        reply = self.enrollment.reply(self.state, self.settings)
        if reply.relay:
            assert self.allowed(), (self.model, self.state)
        if reply.second_relay:
            # Only with the machine's relay, for a member holding the second relay's
            # authorization whose fresh card is in the reader (rule 9).
            member = self.member(self.board.card)
            assert reply.relay
            assert self.settings.second_relay is not None
            assert member is not None
            assert member.dust
            assert self.model.fresh
        assert reply.oops_led == self.model.oopsed
        assert self.state.locked_out == self.model.locked
        assert self.state.state_lost == self.model.lost

    @invariant()
    def no_fob_code_is_kept(self) -> None:
        saved = json.dumps(self.state.as_dict())
        assert not any(fob.lstrip("0") in saved for fob in FOBS + NEW_FOBS + UNKNOWN_FOBS)


def test_the_safety_invariant_holds_for_the_rules() -> None:
    run_state_machine_as_test(
        SafetyRules,
        settings=settings(
            # CI runs 1,000 (some 10 s); more hunt locally: SAFETY_RULES_EXAMPLES=5000 pytest tests/machines/test_safety_rules.py
            max_examples=int(os.environ.get("SAFETY_RULES_EXAMPLES", "1000")),
            stateful_step_count=40,
            deadline=None,
            # CI: the same examples every run (a failure there is reproducible); locally
            # every run explores new ones.
            derandomize=bool(os.environ.get("CI")),
            suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
        ),
    )


class SafetyRulesWithSessionLimits(SafetyRules):
    """The same runs on a machine whose sessions end by themselves (idle, too long).

    A session that ended so leaves the card in the reader: the invariant holds only if
    the relay stays off until the card comes out and in again.
    """

    @initialize(
        overrides=st.lists(st.booleans(), min_size=4, max_size=4),
        dust=st.lists(st.booleans(), min_size=4, max_size=4),
    )
    def setup(self, overrides: list[bool], dust: list[bool]) -> None:  # type: ignore[override]
        super().setup(MACHINES[-1], overrides, dust)

    @rule(minutes=st.floats(0.5, 4), amps=st.sampled_from([None, 0.0, 0.3, 4.0]))
    def machine_runs_for(self, minutes: float, amps: float | None) -> None:
        """The board posts every 10 s for a while, the card staying in the reader."""
        for _ in range(int(minutes * 6)):
            self.now += 10
            self.post(self.board.card, amps=amps)
            self.relay_on_only_when_allowed()  # after every post, not only the last


def test_the_safety_invariant_holds_when_sessions_end_by_themselves() -> None:
    run_state_machine_as_test(
        SafetyRulesWithSessionLimits,
        settings=settings(
            max_examples=int(os.environ.get("SAFETY_RULES_EXAMPLES", "1000")) // 2,
            stateful_step_count=40,
            deadline=None,
            derandomize=bool(os.environ.get("CI")),
            suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
        ),
    )


SERVICED_LASER = MachineSettings(
    name="laser",
    authorizations_or=("Mill",),
    service_interval_hours=1,
    lock_out_when_service_due=True,
)


class SafetyRulesWithServiceInterval(SafetyRulesWithSessionLimits):
    """The same runs on a machine whose service comes due within a minute of use.

    The lockout it then gets must never cut a running session (the relay is never
    switched by the service check, on or off) and must come once the relay is off.
    """

    @initialize(
        overrides=st.lists(st.booleans(), min_size=4, max_size=4),
        dust=st.lists(st.booleans(), min_size=4, max_size=4),
    )
    def setup(self, overrides: list[bool], dust: list[bool]) -> None:  # type: ignore[override]
        SafetyRules.setup(self, SERVICED_LASER, overrides, dust)
        self.state.usage_seconds = 3600 - 60  # a minute of use left

    def after_reply(self) -> None:
        """Check the service, as the machine does after every change and minute."""
        relay_was = self.enrollment.reply(self.state, self.settings).relay
        locked_was = self.state.locked_out
        events = check_service(self.state, self.settings, self.now)
        assert self.enrollment.reply(self.state, self.settings).relay == relay_was
        if any(event.type == "lockout" for event in events):
            assert not relay_was
            assert not locked_was
            self.model.locked = True
        if self.state.service_due_sent and not relay_was:
            # At the session's end at the latest; an admin's lockout in place stays.
            assert self.state.service_locked or self.state.locked_out
        super().after_reply()

    @rule()
    def admin_presses_serviced(self) -> None:
        serviced(self.state, self.now)
        self.after_reply()


def test_the_safety_invariant_holds_with_a_service_interval() -> None:
    run_state_machine_as_test(
        SafetyRulesWithServiceInterval,
        settings=settings(
            max_examples=int(os.environ.get("SAFETY_RULES_EXAMPLES", "1000")) // 2,
            stateful_step_count=40,
            deadline=None,
            derandomize=bool(os.environ.get("CI")),
            suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
        ),
    )
