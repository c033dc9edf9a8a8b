"""The pure access rules: what the HTTP tests do not reach easily."""

from datetime import date
import json
from typing import Any

import pytest

from custom_components.makerspace_hub.machines.board_protocol import BoardUpdate
from custom_components.makerspace_hub.machines.fob_keys import FobKeys
from custom_components.makerspace_hub.machines.members import parse_members
from custom_components.makerspace_hub.machines.rules import MachineState
from custom_components.makerspace_hub.machines.sessions import (
    CARD_UNKNOWN,
    AccessRefusedError,
    Roster,
)
from custom_components.makerspace_hub.machines.settings import MachineSettings, SecondRelaySettings

from ..makerspace import members

TODAY = date(2026, 11, 22)
NOW = 1_800_000_000.0
KEYS = FobKeys(b"k" * 32)


def roster(data: list[dict[str, Any]] | None = None) -> Roster:
    return Roster(parse_members(json.dumps(data or members(TODAY)).encode()), TODAY, 7, KEYS)


# `MachineState(card=None)`: a board heard before, with an empty reader (a board never
# heard from has an unknown card: see test_the_first_post_of_a_board_is_not_a_presentation).


def post(
    state: MachineState, settings: MachineSettings, fob: str | None, r: Roster | None = None
) -> list[str]:
    update = BoardUpdate(machine_name=settings.name, oops=False, fob=fob, uptime=100)
    return [event.type for event in state.apply_update(update, settings, r or roster(), NOW)]


def test_second_relay_always_enabled_and_nobody_identified() -> None:
    always = MachineSettings(
        name="saw", always_enabled=True, second_relay=SecondRelaySettings(always_enabled=True)
    )
    state = MachineState(card=None)
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
    state = MachineState(card=None)
    assert post(state, settings, "4242424242") == ["unknown_fob"]
    assert state.reply(settings).relay is True


def test_remote_enable_when_already_on_does_nothing() -> None:
    settings = MachineSettings(name="compressor", always_enabled=True)
    state = MachineState(card=None)
    assert state.remote_enable(settings, "Admin", NOW) == []
    state.set_flags(settings, NOW, oopsed=True)
    with pytest.raises(AccessRefusedError):
        state.remote_enable(settings, "Admin", NOW)


def test_recheck_without_a_member_session_keeps_everything() -> None:
    settings = MachineSettings(name="mill", authorizations_or=("Metal Mill",))
    state = MachineState(card=None)
    state.remote_enable(settings, "Admin", NOW)
    assert state.recheck(settings, roster(), NOW) == []
    assert state.relay(settings)


def test_recheck_upgrades_a_warn_only_session_and_ends_lost_ones() -> None:
    warn = MachineSettings(name="hammer", authorizations_or=("Lathe",), unauthorized_warn_only=True)
    state = MachineState(card=None)
    assert post(state, warn, "0012345678") == ["warn_only_login"]
    data = members(TODAY)
    data[0]["authorizations"].append("Lathe")
    state.recheck(warn, roster(data), NOW)
    assert state.session is not None
    assert state.session.kind == "member"

    strict = MachineSettings(name="mill", authorizations_or=("Metal Mill",))
    state = MachineState(card=None)
    post(state, strict, "0012345678")
    data = members(TODAY)
    data[0]["authorizations"] = []
    events = state.recheck(strict, roster(data), NOW)
    assert [(e.type, e.reason) for e in events] == [("logout", "deauthorized")]


def test_saved_state_round_trip() -> None:
    settings = MachineSettings(name="mill", authorizations_or=("Metal Mill",))
    state = MachineState(card=None)
    post(state, settings, "0012345678")
    restored = MachineState.from_dict(state.as_dict())
    # The card at the reader is saved as its keyed digest, never its code.
    assert restored.card == KEYS.digest("0012345678")
    assert "12345678" not in json.dumps(state.as_dict())
    assert restored.as_dict() == state.as_dict()
    assert MachineState.from_dict({"card": None}) == MachineState(card=None)
    # The same card after the restart: the session simply goes on.
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
        ({"card": "0012345678"}, "card must be a card digest"),
        ({"state_lost": True}, "state_lost without locked_out"),
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
    state = MachineState(card=None)
    post(state, settings, None)  # the board is known
    state.remote_enable(settings, "Admin", NOW)
    assert post(state, settings, "4242424242") == ["logout", "unknown_fob"]
    assert state.reply(settings).relay is False


def test_expired_members_are_not_tracked_on_always_enabled_machines() -> None:
    settings = MachineSettings(name="compressor", always_enabled=True)
    state = MachineState(card=None)
    assert post(state, settings, "0077777777") == ["expired"]
    assert state.session is None
    assert state.reply(settings).relay is True


def at(
    state: MachineState,
    settings: MachineSettings,
    fob: str | None,
    *,
    now: float,
    uptime: float | None,
    r: Roster | None = None,
) -> list[str]:
    update = BoardUpdate(machine_name=settings.name, oops=False, fob=fob, uptime=uptime)
    return [event.type for event in state.apply_update(update, settings, r or roster(), now)]


MILL = MachineSettings(name="mill", authorizations_or=("Metal Mill",))


def test_a_restart_compares_the_card_in_the_reader_with_the_saved_digest() -> None:
    state = MachineState(card=None)
    at(state, MILL, "0012345678", now=NOW, uptime=100)
    saved = state.as_dict()
    # The same card: the session goes on, as if Home Assistant had never stopped.
    same = MachineState.from_dict(saved)
    assert at(same, MILL, "0012345678", now=NOW + 60, uptime=160) == []
    assert same.reply(MILL).relay
    # No card: the member left while Home Assistant was down.
    gone = MachineState.from_dict(saved)
    assert at(gone, MILL, None, now=NOW + 60, uptime=160) == ["logout"]
    assert not gone.reply(MILL).relay
    # Another card (even another card of the same member would do): a swap.
    other = MachineState.from_dict(saved)
    assert at(other, MILL, "0091703745", now=NOW + 60, uptime=160) == ["logout", "denied"]
    assert not other.reply(MILL).relay


def test_a_reboot_while_nobody_listened_is_seen_by_the_boot_time() -> None:
    state = MachineState(card=None)
    at(state, MILL, "0012345678", now=NOW, uptime=1000)
    saved = MachineState.from_dict(state.as_dict())
    # Rebooted while Home Assistant was down, and up longer than the uptime saved
    # before: dm_mac's "uptime went down" rule alone misses it.
    events = at(saved, MILL, "0012345678", now=NOW + 3000, uptime=2000)
    assert events == ["reboot", "logout"]
    assert not saved.reply(MILL).relay
    # The card still in the reader is not judged again: out and in.
    assert at(saved, MILL, "0012345678", now=NOW + 3010, uptime=2010) == []
    assert not saved.reply(MILL).relay
    at(saved, MILL, None, now=NOW + 3020, uptime=2020)
    assert at(saved, MILL, "0012345678", now=NOW + 3030, uptime=2030) == ["login"]


def test_a_clock_set_back_is_unknown_and_ends_the_session() -> None:
    state = MachineState(card=None)
    at(state, MILL, "0012345678", now=NOW, uptime=1000)
    # After a restart on a Raspberry Pi without a clock, which starts with an old
    # time: the boot time moves earlier, which no reboot does, and a reboot could
    # hide behind it. Whether the board rebooted is unknown.
    restarted = MachineState.from_dict(state.as_dict())
    events = at(restarted, MILL, "0012345678", now=NOW - 3600, uptime=1010)
    assert events == ["reboot", "logout"]
    assert not restarted.reply(MILL).relay
    # Within one run, an earlier boot time is a stale uptime reading, not a reboot.
    assert at(state, MILL, "0012345678", now=NOW + 10, uptime=1060) == []


def test_an_uptime_that_lags_is_learned_not_taken_for_a_reboot() -> None:
    state = MachineState(card=None)
    at(state, MILL, "0012345678", now=NOW, uptime=600)
    # Firmware whose uptime reading is refreshed once a minute, posting every 10 s.
    for step in range(1, 30):
        now = NOW + 10 * step
        uptime = 600 + 60 * (10 * step // 60)
        assert at(state, MILL, "0012345678", now=now, uptime=uptime) == [], step
    assert state.reply(MILL).relay
    assert 40 <= state.uptime_lag <= 60


def test_a_state_without_a_boot_time_or_a_card_from_an_older_release() -> None:
    state = MachineState(card=None)
    at(state, MILL, "0012345678", now=NOW, uptime=100)
    old = state.as_dict()
    for key in ("card", "card_tag", "card_since", "boot_time", "uptime_lag"):
        del old[key]
    restored = MachineState.from_dict(old)
    assert restored.card == CARD_UNKNOWN
    # The card in the reader is unknown: the session ends and the card is not judged.
    assert at(restored, MILL, "0012345678", now=NOW + 60, uptime=160) == ["reboot", "logout"]
    assert not restored.reply(MILL).relay
    assert at(restored, MILL, "0012345678", now=NOW + 70, uptime=170) == []
    assert not restored.reply(MILL).relay


def test_told_relay_off_ends_the_session_and_the_next_card_is_not_judged() -> None:
    state = MachineState(card=None)
    at(state, MILL, "0012345678", now=NOW, uptime=100)
    state.told_relay_off(MILL, NOW + 5, "hub_not_running")
    assert not state.reply(MILL).relay
    assert at(state, MILL, "0012345678", now=NOW + 10, uptime=110) == []
    assert not state.reply(MILL).relay
    at(state, MILL, None, now=NOW + 20, uptime=120)
    assert at(state, MILL, "0012345678", now=NOW + 30, uptime=130) == ["login"]


def test_a_lost_state_is_locked_out_until_an_admin_unlocks() -> None:
    state = MachineState.lost()
    assert state.reply(MILL).relay is False
    assert state.reply(MILL).display == "State lost:\nadmin must check"
    # The card in the reader is unknown too: not judged until presented again.
    assert at(state, MILL, "0012345678", now=NOW, uptime=100) == []
    at(state, MILL, None, now=NOW + 5, uptime=105)
    assert at(state, MILL, "0012345678", now=NOW + 8, uptime=108) == ["denied"]
    always = MachineSettings(name="compressor", always_enabled=True)
    assert MachineState.lost().reply(always).relay is False
    # An override member (the repair crew) may run it, as on any locked-out machine.
    assert at(state, MILL, None, now=NOW + 10, uptime=110) == []
    assert at(state, MILL, "0055555555", now=NOW + 20, uptime=120) == ["override_login"]
    state.set_flags(MILL, NOW + 30, locked_out=False)
    assert not state.state_lost
    assert MachineState.from_dict(MachineState.lost().as_dict()).state_lost


def test_fob_guessing_locks_the_board_for_five_minutes() -> None:
    state = MachineState(card=None)
    uptime = 100.0
    types: list[str] = []
    for code in range(12):
        uptime += 2
        types += at(state, MILL, f"{4000000000 + code}", now=NOW + uptime, uptime=uptime)
        uptime += 2
        at(state, MILL, None, now=NOW + uptime, uptime=uptime)
    # Ten unknown fobs are told apart; the eleventh locks the board, once.
    assert types == ["unknown_fob"] * 10 + ["guessing"]
    assert state.throttled
    assert state.reply(MILL).display == "Too many cards\ntry again later"
    # Even a member is refused, without an event.
    assert at(state, MILL, "0012345678", now=NOW + uptime + 1, uptime=uptime + 1) == []
    assert not state.reply(MILL).relay
    at(state, MILL, None, now=NOW + uptime + 2, uptime=uptime + 2)
    # Five minutes later the member's card works again.
    later = NOW + uptime + 301
    assert at(state, MILL, "0012345678", now=later, uptime=uptime + 301) == ["login"]
    assert not state.throttled


def test_a_member_fumbling_cards_never_trips_the_guessing_lock() -> None:
    state = MachineState(card=None)
    for step in range(20):
        now = NOW + 30 * step  # two unknown cards a minute, for ten minutes
        at(state, MILL, "4242424242", now=now, uptime=100 + 30 * step)
        at(state, MILL, None, now=now + 1, uptime=101 + 30 * step)
    assert not state.throttled


def test_an_admins_clear_ends_the_guessing_lock() -> None:
    state = MachineState(throttled_until=NOW + 300)
    events = state.set_flags(MILL, NOW, oopsed=False, locked_out=False)
    assert [(e.type, e.reason) for e in events] == [("unlock", "guessing")]
    assert not state.throttled
    # Lifting only one flag does not.
    state = MachineState(throttled_until=NOW + 300)
    state.set_flags(MILL, NOW, locked_out=False)
    assert state.throttled


def test_fob_tags_are_keyed_and_show_no_digits() -> None:
    tag = KEYS.tag("0012345678")
    assert tag.startswith("fob-")
    assert len(tag) == 12
    assert "5678" not in tag.removeprefix("fob-") or KEYS.tag("0012345678") == tag
    assert tag == KEYS.tag("0012345678")
    assert tag != FobKeys(b"x" * 32).tag("0012345678")
    assert KEYS.digest("0012345678") != KEYS.digest("0012345679")
    state = MachineState(card=None)
    at(state, MILL, "0012345678", now=NOW, uptime=100)
    assert state.last_fob == tag
    # An older release's masked digits are not shown again.
    assert MachineState.from_dict({"card": None, "last_fob": "••••••5678"}).last_fob is None


def test_the_first_post_of_a_board_is_not_a_presentation() -> None:
    # A board never heard from may have booted with a card inside: not judged.
    state = MachineState()
    assert at(state, MILL, "0012345678", now=NOW, uptime=5) == []
    assert not state.reply(MILL).relay
    at(state, MILL, None, now=NOW + 10, uptime=15)
    assert at(state, MILL, "0012345678", now=NOW + 20, uptime=25) == ["login"]


def test_a_remote_enable_survives_the_card_becoming_known_but_not_an_unknown_boot() -> None:
    # The board is known: its reader's card becoming known keeps an admin's enable.
    state = MachineState()
    at(state, MILL, None, now=NOW, uptime=100)
    state.told_relay_off(MILL, NOW + 1, "hub_not_running")  # the card is unknown again
    state.remote_enable(MILL, "Admin", NOW + 2)
    assert at(state, MILL, "0091703745", now=NOW + 10, uptime=110) == []
    assert state.reply(MILL).relay
    # A board never heard from may just have powered up: its first post ends it.
    fresh = MachineState()
    fresh.remote_enable(MILL, "Admin", NOW)
    assert at(fresh, MILL, None, now=NOW + 10, uptime=5) == ["reboot", "logout"]
    assert not fresh.reply(MILL).relay


def test_no_uptime_on_the_first_post_after_a_restart_ends_the_session() -> None:
    state = MachineState(card=None)
    at(state, MILL, "0012345678", now=NOW, uptime=100)
    restored = MachineState.from_dict(state.as_dict())
    assert at(restored, MILL, "0012345678", now=NOW + 10, uptime=None) == ["reboot", "logout"]
    assert not restored.reply(MILL).relay


def test_a_fob_taken_from_its_member_ends_the_session_it_runs() -> None:
    state = MachineState(card=None)
    at(state, MILL, "0012345678", now=NOW, uptime=100)
    data = members(TODAY)
    data[0]["fob_codes"] = ["0012340000"]  # Ada's fob was stolen: a new one for her
    events = state.recheck(MILL, roster(data), NOW + 10)
    assert [(e.type, e.reason) for e in events] == [("logout", "fob_removed")]
    assert not state.reply(MILL).relay


def test_a_state_that_breaks_the_rules_never_powers_a_flagged_machine() -> None:
    # A restored backup, a hand-edited file: a member's session on an oopsed machine.
    data = MachineState(card=None).as_dict() | {
        "oopsed": True,
        "session": {"kind": "member", "name": "Ada", "started": NOW, "account_id": "1"},
    }
    assert not MachineState.from_dict(data).reply(MILL).relay
    throttled = data | {"oopsed": False, "throttled_until": NOW + 60}
    assert not MachineState.from_dict(throttled).reply(MILL).relay
