"""Usage records from the rules, checked after every step of random runs.

A hypothesis state machine drives one machine's `MachineState` through board posts
(cards in, out, swapped, Oops, reboots, the machine's current), admin actions,
members changes, restarts (the saved state read back) and board silences, and
collects every event. After every step:

    every session that started and is no longer running ended exactly once, as one
    logout carrying it (so exactly one usage record), never before it started and
    never after the moment it was ended; and a session that ended before the board
    was heard from after a restart ended no later than the board's last check-in.
"""

import contextlib
from datetime import date
import json
import os

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from custom_components.makerspace_hub.machines.board_protocol import BoardUpdate
from custom_components.makerspace_hub.machines.fob_keys import FobKeys
from custom_components.makerspace_hub.machines.members import parse_members
from custom_components.makerspace_hub.machines.rules import MachineState
from custom_components.makerspace_hub.machines.sessions import (
    AccessEvent,
    AccessRefusedError,
    Roster,
)
from custom_components.makerspace_hub.machines.settings import MachineSettings
from custom_components.makerspace_hub.machines.usage import RECORD_KINDS, UsageRecord

KEYS = FobKeys(b"u" * 32)
TODAY = date(2026, 11, 22)
FOBS = ["0012345678", "0087654321", "0055501234", "9900000001"]  # the last one: unknown
MACHINES = [
    MachineSettings(name="mill", authorizations_or=("Mill",)),
    MachineSettings(name="hammer", authorizations_or=("Mill",), unauthorized_warn_only=True),
    MachineSettings(name="compressor", always_enabled=True),
    MachineSettings(
        name="laser", authorizations_or=("Mill",), idle_logout_minutes=1, max_session_minutes=2
    ),
]


def _member(index: int, fob: str, *, mill: bool, override: bool) -> dict[str, object]:
    return {
        "fob_codes": [fob],
        "account_id": str(index),
        "full_name": f"Member {index}",
        "first_name": "M",
        "last_name": str(index),
        "preferred_name": f"M{index}",
        "email": f"m{index}@example.org",
        "expiration_ymd": "2099-12-31",
        "authorizations": ["Mill"] if mill else [],
        "oops_override": override,
    }


class UsageRules(RuleBasedStateMachine):
    """Random runs of one machine, counting sessions in and records out."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1_800_000_000.0
        self.boot = self.now - 100
        self.state = MachineState()
        self.settings = MACHINES[0]
        self.present = [True, True, True]
        self.started: list[float] = []  # start times of the sessions begun
        self.ended: list[tuple[float, float]] = []  # (start, end) of each record
        self.card: str | None = None  # the card in the board's reader
        self.down_checkin: float | None = None  # last check-in before the last restart
        self.restarted = False  # no post since the last restart

    @initialize(machine=st.sampled_from(MACHINES))
    def setup(self, machine: MachineSettings) -> None:
        self.settings = machine

    def roster(self) -> Roster:
        people = [
            _member(i, fob, mill=i != 1, override=i == 2)
            for i, fob in enumerate(FOBS[:3])
            if self.present[i]
        ]
        return Roster(parse_members(json.dumps(people).encode()), TODAY, 0, KEYS)

    def take(self, events: list[AccessEvent], *, first_post: bool = False) -> None:
        unheard = first_post or self.restarted
        for event in events:
            if event.type in ("login", "override_login", "warn_only_login"):
                assert self.state.session is not None
                self.started.append(self.state.session.started)
            if event.type == "logout":
                assert event.ended is not None  # every logout carries its session
                assert event.reason is not None
                record = UsageRecord.of("id", self.settings.name, event.ended, event.reason)
                assert record.kind in RECORD_KINDS.values()
                assert record.start <= record.end <= self.now
                if unheard and self.down_checkin is not None:
                    # Ended while Home Assistant was down: at the last check-in before.
                    assert record.end <= max(self.down_checkin, record.start)
                self.ended.append((record.start, record.end))
            else:
                assert event.ended is None

    def post(self, *, oops: bool = False, amps: float | None = None) -> None:
        update = BoardUpdate(
            machine_name=self.settings.name,
            oops=oops,
            fob=self.card,
            uptime=self.now - self.boot,
            amps=amps,
        )
        first, self.restarted = self.restarted, False
        events = self.state.apply_update(update, self.settings, self.roster(), self.now)
        self.take(events, first_post=first)

    @rule(card=st.sampled_from([None, *FOBS]), wait=st.floats(0.5, 90))
    def present_or_remove(self, card: str | None, wait: float) -> None:
        self.now += wait
        self.card = card
        self.post()

    @rule(wait=st.floats(1, 40), amps=st.sampled_from([None, 0.0, 4.0]))
    def heartbeat(self, wait: float, amps: float | None) -> None:
        self.now += wait
        self.post(amps=amps)

    @rule()
    def oops_pressed(self) -> None:
        self.post(oops=True)

    @rule(wait=st.floats(1, 30))
    def board_reboots(self, wait: float) -> None:
        self.now += wait
        self.boot = self.now - 5
        self.post()

    @rule(downtime=st.floats(1, 900), card_taken=st.booleans())
    def home_assistant_restarts(self, downtime: float, card_taken: bool) -> None:
        self.down_checkin = self.state.last_checkin
        self.state = MachineState.from_dict(json.loads(json.dumps(self.state.as_dict())))
        self.restarted = True
        self.now += downtime
        if card_taken:
            self.card = None

    @rule(oopsed=st.sampled_from([None, True, False]), locked=st.sampled_from([None, True, False]))
    def admin_sets_flags(self, oopsed: bool | None, locked: bool | None) -> None:
        self.take(self.state.set_flags(self.settings, self.now, oopsed=oopsed, locked_out=locked))

    @rule()
    def admin_enables(self) -> None:
        with contextlib.suppress(AccessRefusedError):
            self.take(self.state.remote_enable(self.settings, "Admin", self.now))

    @rule(wait=st.floats(0, 600))
    def admin_switches_off(self, wait: float) -> None:
        self.now += wait
        with contextlib.suppress(AccessRefusedError):
            self.take(self.state.end_session(self.settings, self.now))

    @rule()
    def told_relay_off(self) -> None:
        self.take(self.state.told_relay_off(self.settings, self.now, "hub_not_running"))

    @rule(index=st.integers(0, 2))
    def member_comes_and_goes(self, index: int) -> None:
        self.present[index] = not self.present[index]
        self.take(self.state.recheck(self.settings, self.roster(), self.now))

    @invariant()
    def every_ended_session_is_recorded_once(self) -> None:
        not_running = list(self.started)
        if (running := self.state.session) is not None:
            not_running.remove(running.started)  # started, and still running
        assert sorted(start for start, _ in self.ended) == sorted(not_running)


def test_every_session_that_ends_is_recorded_once() -> None:
    run_state_machine_as_test(
        UsageRules,
        settings=settings(
            max_examples=int(os.environ.get("USAGE_RULES_EXAMPLES", "300")),
            stateful_step_count=40,
            deadline=None,
            derandomize=bool(os.environ.get("CI")),
            suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
        ),
    )
