"""The pure access rules: what the HTTP tests do not reach easily."""

from datetime import date
import json
from typing import Any

import pytest

from custom_components.makerspace_hub.access import (
    AccessRefusedError,
    MachineState,
    Roster,
)
from custom_components.makerspace_hub.board_protocol import BoardUpdate
from custom_components.makerspace_hub.members import parse_members
from custom_components.makerspace_hub.settings import MachineSettings, SecondRelaySettings

from .makerspace import members

TODAY = date(2026, 11, 22)
NOW = 1_800_000_000.0


def roster(data: list[dict[str, Any]] | None = None) -> Roster:
    return Roster(parse_members(json.dumps(data or members(TODAY)).encode()), TODAY, 7)


def post(
    state: MachineState, settings: MachineSettings, fob: str | None, r: Roster | None = None
) -> list[str]:
    update = BoardUpdate(machine_name=settings.name, oops=False, fob=fob, uptime=None)
    return [event.type for event in state.apply_update(update, settings, r or roster(), NOW)]


def test_second_relay_always_enabled_and_nobody_identified() -> None:
    always = MachineSettings(
        name="saw", always_enabled=True, second_relay=SecondRelaySettings(always_enabled=True)
    )
    state = MachineState()
    assert state.second_relay(always) == "always_enabled"
    warn = MachineSettings(
        name="saw",
        always_enabled=True,
        second_relay=SecondRelaySettings(unauthorized_warn_only=True),
    )
    assert state.second_relay(warn) is None  # relay on, but nobody to warn about: off
    remote = MachineSettings(
        name="saw", second_relay=SecondRelaySettings(unauthorized_warn_only=True)
    )
    state.remote_enable(remote, "Admin", NOW)
    assert state.second_relay(remote) is None


def test_unknown_fob_on_an_always_enabled_machine_is_only_tracked() -> None:
    settings = MachineSettings(name="compressor", always_enabled=True)
    state = MachineState()
    assert post(state, settings, "4242424242") == ["unknown_fob"]
    assert state.reply(settings).relay is True


def test_remote_enable_when_already_on_does_nothing() -> None:
    settings = MachineSettings(name="compressor", always_enabled=True)
    state = MachineState()
    assert state.remote_enable(settings, "Admin", NOW) == []
    state.set_flags(settings, NOW, oopsed=True)
    with pytest.raises(AccessRefusedError):
        state.remote_enable(settings, "Admin", NOW)


def test_recheck_without_a_member_session_keeps_everything() -> None:
    settings = MachineSettings(name="mill", authorizations_or=("Metal Mill",))
    state = MachineState()
    state.remote_enable(settings, "Admin", NOW)
    assert state.recheck(settings, roster(), NOW) == []
    assert state.relay(settings)


def test_recheck_upgrades_a_warn_only_session_and_ends_lost_ones() -> None:
    warn = MachineSettings(name="hammer", authorizations_or=("Lathe",), unauthorized_warn_only=True)
    state = MachineState()
    assert post(state, warn, "0012345678") == ["warn_only_login"]
    data = members(TODAY)
    data[0]["authorizations"].append("Lathe")
    state.recheck(warn, roster(data), NOW)
    assert state.session is not None
    assert state.session.kind == "member"

    strict = MachineSettings(name="mill", authorizations_or=("Metal Mill",))
    state = MachineState()
    post(state, strict, "0012345678")
    data = members(TODAY)
    data[0]["authorizations"] = []
    events = state.recheck(strict, roster(data), NOW)
    assert [(e.type, e.reason) for e in events] == [("logout", "deauthorized")]


def test_saved_state_round_trip() -> None:
    settings = MachineSettings(name="mill", authorizations_or=("Metal Mill",))
    state = MachineState()
    post(state, settings, "0012345678")
    restored = MachineState.from_dict(state.as_dict())
    # Everything but the card at the reader: its digest is never saved.
    assert restored.card is None
    assert restored.as_dict() == state.as_dict()
    assert MachineState.from_dict({}) == MachineState()
    # The session's member still holding the card: the session simply goes on.
    assert post(restored, settings, "0012345678") == []
    assert restored.session == state.session
    assert restored.card == state.card
    # Another card after the restart: a swap.
    again = MachineState.from_dict(state.as_dict())
    assert post(again, settings, "0091703745") == ["logout", "denied"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"session": "ada"}, "session must be an object"),
        ({"telemetry": []}, "telemetry must be an object"),
        ({"notice": "party"}, "unknown notice"),
        ({"last_fob": 5}, "last_fob must be text"),
        ({"session": {"name": "Ada", "started": 1}}, "kind is missing"),
        ({"session": {"kind": "member", "name": "Ada"}}, "started is missing"),
        ({"uptime": "long"}, "uptime must be a number"),
        (
            {"session": {"kind": "member", "name": "A", "started": 1, "authorizations": "x"}},
            "list of text",
        ),
    ],
)
def test_unusable_saved_state(data: dict[str, Any], error: str) -> None:
    with pytest.raises((TypeError, ValueError), match=error):
        MachineState.from_dict(data)


def test_a_card_on_a_remotely_enabled_machine_is_judged_like_a_swap() -> None:
    settings = MachineSettings(name="mill", authorizations_or=("Metal Mill",))
    state = MachineState()
    state.remote_enable(settings, "Admin", NOW)
    assert post(state, settings, "4242424242") == ["logout", "unknown_fob"]
    assert state.reply(settings).relay is False


def test_expired_members_are_not_tracked_on_always_enabled_machines() -> None:
    settings = MachineSettings(name="compressor", always_enabled=True)
    state = MachineState()
    assert post(state, settings, "0077777777") == ["expired"]
    assert state.session is None
    assert state.reply(settings).relay is True
