"""The saved form of a machine's state (`state_file`), without Home Assistant.

Every field that is read back is checked: a state that cannot be used must be refused
with a message naming the field (it becomes the repair issue's problem text), since
the machine then starts locked out instead of trusting it.
"""

import dataclasses
import json
import math
from typing import Any

import pytest

from custom_components.makerspace_hub.machines.fob_keys import FobKeys
from custom_components.makerspace_hub.machines.reboots import MAX_UPTIME_LAG_SEC
from custom_components.makerspace_hub.machines.rules import MachineState
from custom_components.makerspace_hub.machines.service import check_service, hours_left
from custom_components.makerspace_hub.machines.sessions import CARD_UNKNOWN, MEMBER, Session
from custom_components.makerspace_hub.machines.settings import MachineSettings
from custom_components.makerspace_hub.machines.state_file import (
    MEMORY_ONLY,
    SavedState,
    read_state,
    saved_form,
)

KEYS = FobKeys(b"s" * 32)
TEN_HOURS = MachineSettings(name="laser", service_interval_hours=10)
DIGEST = KEYS.digest("0012345678")
TAG = KEYS.tag("0012345678")


def busy_state() -> MachineState:
    """A state with every saved field away from its default."""
    return MachineState(
        oopsed=True,
        locked_out=True,
        lockout_reason="New tube",
        state_lost=True,
        card=DIGEST,
        card_tag=TAG,
        card_since=1_800_000_000.5,
        last_fob=TAG,
        notice="expired",
        session=Session(
            kind=MEMBER,
            name="Ada",
            started=1_800_000_001.0,
            account_id="ada",
            full_name="Ada Lovelace",
            authorizations=frozenset({"Metal Mill", "Band Saw"}),
        ),
        uptime=3600.0,
        boot_time=1_799_996_400.0,
        uptime_lag=12.5,
        throttled_until=1_800_000_300.0,
        usage_seconds=7200.0,
        relay_on_since=1_800_000_002.0,
        sessions=42,
        serviced_at_seconds=3600.0,
        service_due_sent=True,
        service_locked=True,
        last_checkin=1_800_000_003.0,
        telemetry={"wifi_signal_db": -61.0, "amps": None, "second_relay_state": True},
        unknown_fobs=[1_800_000_000.0],
        heard=True,
    )


def test_every_saved_field_comes_back() -> None:
    state = busy_state()
    data = json.loads(json.dumps(state.as_dict()))  # what the disk gives back
    restored = MachineState.from_dict(data)
    # Only what this run needs is forgotten.
    assert restored.unknown_fobs == []
    assert restored.heard is False
    state.unknown_fobs, state.heard = [], False
    assert restored == state


def test_the_saved_form_leaves_out_memory_only_fields_and_sorts_authorizations() -> None:
    data = busy_state().as_dict()
    assert not set(MEMORY_ONLY) & data.keys()
    assert data["session"]["authorizations"] == ["Band Saw", "Metal Mill"]
    # No fob code in any form: the card is a digest, the shown fob a tag.
    assert "12345678" not in json.dumps(data)


def test_saved_form_does_not_change_the_fields_it_is_given() -> None:
    fields: dict[str, Any] = {
        "session": {"kind": MEMBER, "authorizations": frozenset({"b", "a"})},
        "heard": True,
    }
    assert saved_form(fields) == {"session": {"kind": MEMBER, "authorizations": ["a", "b"]}}
    assert fields["session"]["authorizations"] == frozenset({"b", "a"})
    assert fields["heard"] is True


def test_an_empty_file_is_a_default_state_with_an_unknown_card() -> None:
    assert MachineState.from_dict({}) == MachineState()
    assert read_state({})["card"] == CARD_UNKNOWN
    assert read_state({"card": None})["card"] is None


def test_old_last_fob_digits_are_never_shown_again() -> None:
    assert read_state({"last_fob": "5678"})["last_fob"] is None
    assert read_state({"last_fob": TAG})["last_fob"] == TAG


@pytest.mark.parametrize(
    ("saved", "read"), [(-5.0, 0.0), (10**6, MAX_UPTIME_LAG_SEC), (None, 0.0), (3, 3.0)]
)
def test_the_uptime_lag_is_kept_within_its_bounds(saved: float | None, read: float) -> None:
    assert read_state({"uptime_lag": saved})["uptime_lag"] == read


def test_text_is_read_exactly_as_saved() -> None:
    session = {"kind": MEMBER, "name": " Ada ", "started": 1, "account_id": " ada"}
    restored = read_state({"session": session, "card_tag": ""})
    assert restored["session"] is not None
    assert restored["session"].name == " Ada "
    assert restored["session"].account_id == " ada"
    assert restored["card_tag"] == ""


SESSION = {"kind": MEMBER, "name": "Ada", "started": 1.0}
NUMBERS = (
    "card_since",
    "uptime",
    "boot_time",
    "uptime_lag",
    "throttled_until",
    "usage_seconds",
    "relay_on_since",
    "sessions",
    "last_checkin",
)
BOOLS = ("oopsed", "locked_out", "state_lost")
TEXTS = ("card", "card_tag", "last_fob", "notice")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        *[({key: "1"}, f"{key} must be a number") for key in NUMBERS],
        *[({key: True}, f"{key} must be a number") for key in NUMBERS],
        *[({key: math.nan}, f"{key} must be a number") for key in NUMBERS],
        *[({key: math.inf}, f"{key} must be a number") for key in NUMBERS],
        *[({key: 10**400}, f"{key} must be a number") for key in NUMBERS],
        *[({key: "yes"}, f"{key} must be true or false") for key in BOOLS],
        *[({key: 0}, f"{key} must be true or false") for key in BOOLS],
        *[({key: 5}, f"{key} must be text") for key in TEXTS],
        ({"card": "0012345678"}, "card must be a card digest"),
        ({"card": ""}, "card must be a card digest"),
        ({"notice": "party"}, "unknown notice party"),
        ({"state_lost": True}, "state_lost without locked_out"),
        ({"telemetry": []}, "telemetry must be an object"),
        ({"telemetry": None}, "telemetry must be an object"),
        ({"session": "ada"}, "session must be an object"),
        ({"session": {**SESSION, "kind": None}}, "kind is missing"),
        ({"session": {"name": "Ada", "started": 1}}, "kind is missing"),
        ({"session": {"kind": MEMBER, "started": 1}}, "name is missing"),
        ({"session": {**SESSION, "name": 7}}, "name must be text"),
        ({"session": {"kind": MEMBER, "name": "Ada"}}, "started is missing"),
        ({"session": {**SESSION, "started": "now"}}, "started must be a number"),
        ({"session": {**SESSION, "account_id": 1}}, "account_id must be text"),
        ({"session": {**SESSION, "full_name": ["Ada"]}}, "full_name must be text"),
        ({"session": {**SESSION, "authorizations": "x"}}, "authorizations must be a list of text"),
        ({"session": {**SESSION, "authorizations": [1]}}, "authorizations must be a list of text"),
    ],
)
def test_an_unusable_field_is_refused_by_name(data: dict[str, Any], error: str) -> None:
    # The machine catches exactly these two and starts locked out ("state lost").
    with pytest.raises((TypeError, ValueError)) as err:
        MachineState.from_dict(data)
    assert str(err.value) == error


def test_the_saved_fields_are_the_states_fields_but_the_memory_only_ones() -> None:
    # The state's dataclass, the saved form and the reader name the same fields: a
    # field added to one and not the others fails here, not in a restart.
    state_fields = {f.name for f in dataclasses.fields(MachineState)}
    assert set(SavedState.__annotations__) == state_fields - set(MEMORY_ONLY)
    assert set(MEMORY_ONLY) <= state_fields
    assert set(MachineState().as_dict()) == set(SavedState.__annotations__)


def test_a_lockout_reason_is_read_only_while_locked_out_and_fits_the_display() -> None:
    assert read_state({"locked_out": True, "lockout_reason": "a" * 40})["lockout_reason"] == (
        "a" * 16
    )
    assert read_state({"locked_out": False, "lockout_reason": "Blade"})["lockout_reason"] is None
    assert read_state({"locked_out": True, "lockout_reason": ""})["lockout_reason"] is None


HOUR = 3600.0


def test_a_file_from_before_service_intervals_counts_from_the_hours_used_then() -> None:
    # A 500-hour machine whose interval is switched on later is not overdue at once.
    restored = MachineState.from_dict({"usage_seconds": 500 * HOUR})
    assert restored.serviced_at_seconds == 500 * HOUR
    assert hours_left(restored, TEN_HOURS, 0.0) == 10
    assert check_service(restored, TEN_HOURS, 0.0) == []
    assert read_state({"usage_seconds": 500 * HOUR, "serviced_at_seconds": None})[
        "serviced_at_seconds"
    ] == (500 * HOUR)
    assert read_state({})["serviced_at_seconds"] == 0.0


@pytest.mark.parametrize(
    ("serviced_at", "read"), [(600 * HOUR, 500 * HOUR), (500 * HOUR, 500 * HOUR), (0.0, 0.0)]
)
def test_a_service_after_the_hours_used_is_clamped_to_them(serviced_at: float, read: float) -> None:
    # A hand edit: never more hours of interval left than the interval itself.
    data = {"usage_seconds": 500 * HOUR, "serviced_at_seconds": serviced_at}
    assert read_state(data)["serviced_at_seconds"] == read
    left = hours_left(MachineState.from_dict(data), TEN_HOURS, 0.0)
    assert left is not None
    assert left <= 10
