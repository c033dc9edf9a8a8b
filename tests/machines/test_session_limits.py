"""Sessions that end by themselves (pure): idle logout and the longest session."""

from datetime import date
import json

import pytest

from custom_components.makerspace_hub.machines.board_protocol import (
    IDLE_LOGGED_OUT,
    SESSION_TIME_UP,
    WELCOME,
    BoardUpdate,
)
from custom_components.makerspace_hub.machines.fob_keys import FobKeys
from custom_components.makerspace_hub.machines.members import parse_members
from custom_components.makerspace_hub.machines.rules import MachineState
from custom_components.makerspace_hub.machines.session_limits import (
    IDLE_LOGOUT,
    MAX_SESSION,
    apply_limits,
    idle_since,
    limit_reached,
)
from custom_components.makerspace_hub.machines.sessions import MEMBER, Roster, Session
from custom_components.makerspace_hub.machines.settings import MachineSettings

from ..makerspace import members

TODAY = date(2026, 11, 22)
START = 1_800_000_000.0
KEYS = FobKeys(b"k" * 32)
ADA, KENNETH = "0012345678", "0091703745"  # as the rules get them: ten digits
ROSTER = Roster(parse_members(json.dumps(members(TODAY)).encode()), TODAY, 7, KEYS)
IDLE_10 = MachineSettings(name="laser", authorizations_or=("Metal Mill",), idle_logout_minutes=10)
MAX_60 = MachineSettings(name="laser", authorizations_or=("Metal Mill",), max_session_minutes=60)


class Laser:
    """One machine's state, posted to as its board would."""

    def __init__(self, settings: MachineSettings) -> None:
        self.settings = settings
        self.state = MachineState(card=None)  # heard before, reader empty

    def post(self, at_minute: float, fob: str | None, amps: float | None = None) -> list[str]:
        update = BoardUpdate(
            machine_name="laser", oops=False, fob=fob, uptime=100 + at_minute * 60, amps=amps
        )
        now = START + at_minute * 60
        events = self.state.apply_update(update, self.settings, ROSTER, now)
        return [f"{e.type}:{e.reason}" if e.type == "logout" else e.type for e in events]

    @property
    def relay(self) -> bool:
        return self.state.relay(self.settings)


def test_idle_since_starts_at_the_first_idle_report_and_ends_with_current() -> None:
    assert idle_since(0.1, IDLE_10, None, 50.0) == 50.0
    assert idle_since(0.1, IDLE_10, 20.0, 50.0) == 20.0
    assert idle_since(0.5, IDLE_10, 20.0, 50.0) is None  # at the threshold: running
    assert idle_since(None, IDLE_10, 20.0, 50.0) is None  # no report: never idle
    assert idle_since(0.0, MAX_60, None, 50.0) is None  # idle logout is off


@pytest.mark.parametrize(
    ("started", "idle", "now", "settings", "reason"),
    [
        (0.0, 0.0, 599.0, IDLE_10, None),
        (0.0, 0.0, 600.0, IDLE_10, IDLE_LOGOUT),
        (0.0, None, 10**6, IDLE_10, None),  # never idle, no session limit
        (0.0, None, 3599.0, MAX_60, None),
        (0.0, None, 3600.0, MAX_60, MAX_SESSION),
    ],
)
def test_limit_reached(
    started: float, idle: float | None, now: float, settings: MachineSettings, reason: str | None
) -> None:
    assert limit_reached(started, idle, settings, now) == reason


def test_a_machine_idle_for_its_minutes_logs_its_member_out() -> None:
    laser = Laser(IDLE_10)
    assert laser.post(0, ADA, amps=3.0) == ["login"]
    assert laser.post(5, ADA, amps=0.1) == []  # idle from minute 5
    assert laser.post(14, ADA, amps=0.2) == []
    assert laser.relay
    assert laser.post(15, ADA, amps=0.1) == ["logout:idle"]
    assert not laser.relay
    assert laser.state.reply(laser.settings).display == IDLE_LOGGED_OUT[0]


def test_current_restarts_the_idle_count() -> None:
    laser = Laser(IDLE_10)
    laser.post(0, ADA, amps=0.1)
    laser.post(9, ADA, amps=2.0)  # cutting again
    laser.post(10, ADA, amps=0.1)
    assert laser.post(19, ADA, amps=0.1) == []
    assert laser.post(20, ADA, amps=0.1) == ["logout:idle"]


def test_a_board_without_a_current_reading_is_never_idle() -> None:
    laser = Laser(IDLE_10)
    laser.post(0, ADA)
    assert laser.post(600, ADA) == []
    assert laser.relay


def test_after_a_logout_the_card_must_come_out_and_in_again() -> None:
    laser = Laser(IDLE_10)
    laser.post(0, ADA, amps=0.0)
    laser.post(10, ADA, amps=0.0)
    assert not laser.relay
    for minute in (11, 12, 30):  # the card stays in: the relay never comes back on
        assert laser.post(minute, ADA, amps=5.0) == []
        assert not laser.relay
    assert laser.post(31, None) == []
    assert laser.state.reply(laser.settings).display != IDLE_LOGGED_OUT[0]
    assert laser.post(32, ADA) == ["login"]
    assert laser.relay


def test_a_new_session_does_not_inherit_the_idle_time() -> None:
    laser = Laser(IDLE_10)
    laser.post(0, ADA, amps=0.0)
    laser.post(9, KENNETH, amps=0.0)  # a swap: Ada out, Kenneth (not authorized) refused
    laser.post(9.5, None)
    laser.post(9.6, ADA, amps=0.0)  # a new session, idle from now
    assert laser.post(19, ADA, amps=0.0) == []
    assert laser.relay
    assert laser.post(19.6, ADA, amps=0.0) == ["logout:idle"]


def test_the_longest_session_ends_however_busy_the_machine() -> None:
    laser = Laser(MAX_60)
    assert laser.post(0, ADA, amps=4.0) == ["login"]
    assert laser.post(59, ADA, amps=4.0) == []
    assert laser.post(60, ADA, amps=4.0) == ["logout:max_session"]
    assert not laser.relay
    assert laser.state.reply(laser.settings).display == SESSION_TIME_UP[0]
    assert laser.post(61, ADA, amps=4.0) == []
    assert not laser.relay


def test_without_limits_a_session_runs_on() -> None:
    laser = Laser(MachineSettings(name="laser", authorizations_or=("Metal Mill",)))
    laser.post(0, ADA, amps=0.0)
    assert laser.post(60 * 24 * 8, ADA, amps=0.0) == []
    assert laser.state.reply(laser.settings).display == WELCOME[0].format(name="Ada")


def test_the_idle_time_is_saved_with_the_state() -> None:
    laser = Laser(IDLE_10)
    laser.post(0, ADA, amps=0.0)
    restored = MachineState.from_dict(json.loads(json.dumps(laser.state.as_dict())))
    assert restored.idle_since == START
    laser.state = restored
    assert laser.post(10, ADA, amps=0.0) == ["logout:idle"]


# --- a clock that lies -------------------------------------------------------------------


def test_an_idle_time_after_now_is_taken_as_now() -> None:
    assert idle_since(0.1, IDLE_10, 900.0, 50.0) == 50.0
    session = Session(kind=MEMBER, name="Ada", started=0.0)
    assert apply_limits(session, 0.1, IDLE_10, 900.0, 50.0) == (session, 50.0, None)


def test_a_start_after_now_is_taken_as_now() -> None:
    session = Session(kind=MEMBER, name="Ada", started=10**6)
    later, idle, reason = apply_limits(session, 4.0, MAX_60, None, 50.0)
    assert (later.started, idle, reason) == (50.0, None, None)
    assert later == Session(kind=MEMBER, name="Ada", started=50.0)
    assert apply_limits(later, 4.0, MAX_60, None, 50.0 + 3600)[2] == MAX_SESSION


def test_idle_logout_still_happens_after_the_clock_was_set_back() -> None:
    laser = Laser(IDLE_10)
    laser.post(0, ADA, amps=3.0)
    laser.state.idle_since = START + 24 * 3600  # a clock set back a day, or a hand edit
    assert laser.post(1, ADA, amps=0.1) == []
    assert laser.state.idle_since == START + 60  # idle from now, and kept
    assert laser.post(10, ADA, amps=0.1) == []
    assert laser.post(11, ADA, amps=0.1) == ["logout:idle"]
    assert not laser.relay


def test_a_session_started_in_the_future_does_not_escape_its_longest_time() -> None:
    laser = Laser(MAX_60)
    laser.post(0, ADA, amps=4.0)
    assert laser.state.session is not None
    laser.state.session = Session(
        kind=MEMBER, name="Ada", started=START + 365 * 24 * 3600, account_id="1"
    )
    assert laser.post(1, ADA, amps=4.0) == []
    assert laser.state.session is not None
    assert laser.state.session.started == START + 60  # from now on, and kept
    assert laser.post(60, ADA, amps=4.0) == []
    assert laser.post(61, ADA, amps=4.0) == ["logout:max_session"]
    assert not laser.relay
