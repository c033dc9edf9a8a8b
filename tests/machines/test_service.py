"""Service intervals (`service`) and alert texts (`alert_texts`), without Home Assistant."""

from custom_components.makerspace_hub.alert_words import Phrase, fill
from custom_components.makerspace_hub.machines.alert_texts import alert_text
from custom_components.makerspace_hub.machines.board_protocol import locked_out_screen
from custom_components.makerspace_hub.machines.rules import MachineState
from custom_components.makerspace_hub.machines.service import (
    SERVICE_DUE,
    SERVICE_DUE_REASON,
    check_service,
    hours_left,
    hours_until_service,
    lock_before_card,
    serviced,
)
from custom_components.makerspace_hub.machines.sessions import MEMBER, AccessEvent, Session
from custom_components.makerspace_hub.machines.settings import MachineSettings

from ..conftest import TRANSLATIONS

HOUR = 3600.0
LASER = MachineSettings(name="laser", service_interval_hours=10, lock_out_when_service_due=True)
WARN_ONLY = MachineSettings(name="laser", service_interval_hours=10)
OFF = MachineSettings(name="laser")


def running(usage_hours: float, since: float) -> MachineState:
    """A laser with `usage_hours` banked and Ada's session running since `since`."""
    return MachineState(
        usage_seconds=usage_hours * HOUR,
        relay_on_since=since,
        session=Session(
            kind=MEMBER, name="Ada", started=since, account_id="1", full_name="Ada Tester"
        ),
    )


def end_session(state: MachineState, now: float) -> None:
    assert state.relay_on_since is not None
    state.session = None
    state.usage_seconds += now - state.relay_on_since
    state.relay_on_since = None


def types(events: list[AccessEvent]) -> list[str]:
    return [event.type for event in events]


def test_hours_until_service_count_down_and_go_negative() -> None:
    assert hours_until_service(10, 4 * HOUR, 1 * HOUR) == 7
    assert hours_until_service(10, 12 * HOUR, 0.0) == -2
    state = running(9, since=0.0)
    assert hours_left(state, LASER, 0.5 * HOUR) == 0.5  # the running session counts
    assert hours_left(state, OFF, 0.5 * HOUR) is None


def test_an_interval_that_is_off_follows_the_usage_so_it_starts_when_switched_on() -> None:
    state = MachineState(usage_seconds=500 * HOUR, service_due_sent=True)
    assert check_service(state, OFF, 0.0) == []
    assert (state.serviced_at_seconds, state.service_due_sent) == (500 * HOUR, False)
    assert hours_left(state, LASER, 0.0) == 10  # not 490 h overdue


def test_a_running_session_is_never_cut_the_lockout_waits_for_its_end() -> None:
    state = running(9.5, since=0.0)
    assert check_service(state, LASER, 0.4 * HOUR) == []
    events = check_service(state, LASER, 0.6 * HOUR)
    assert types(events) == [SERVICE_DUE]
    assert events[0].member == "Ada Tester"
    assert state.relay(LASER)
    assert not state.locked_out
    assert check_service(state, LASER, 2 * HOUR) == []  # one event per interval
    assert state.relay(LASER)
    assert not state.locked_out
    end_session(state, 2 * HOUR)
    events = check_service(state, LASER, 2 * HOUR)
    assert [(e.type, e.reason) for e in events] == [("lockout", SERVICE_DUE)]
    assert state.locked_out
    assert state.lockout_reason == SERVICE_DUE_REASON
    assert state.reply(LASER).display == "Down for\nService due"
    assert not state.reply(LASER).relay
    assert check_service(state, LASER, 3 * HOUR) == []


def test_an_unlocked_overdue_machine_is_not_locked_out_again_in_the_same_interval() -> None:
    state = MachineState(usage_seconds=11 * HOUR)
    assert types(check_service(state, LASER, 0.0)) == [SERVICE_DUE, "lockout"]
    state.set_flags(LASER, 1.0, locked_out=False)  # the admin's decision
    assert state.lockout_reason is None
    assert check_service(state, LASER, 2.0) == []
    assert not state.locked_out


def test_without_the_option_a_due_service_only_reports() -> None:
    state = MachineState(usage_seconds=11 * HOUR)
    assert types(check_service(state, WARN_ONLY, 0.0)) == [SERVICE_DUE]
    assert not state.locked_out
    assert state.reply(WARN_ONLY).display.startswith("Please Insert")


def test_an_admins_lockout_and_its_reason_stay() -> None:
    state = MachineState(usage_seconds=11 * HOUR)
    state.set_flags(LASER, 0.0, locked_out=True, reason="New tube")
    assert types(check_service(state, LASER, 0.0)) == [SERVICE_DUE]
    assert state.lockout_reason == "New tube"
    # The admin fixes the tube and unlocks: the overdue service locks it out now.
    state.set_flags(LASER, 1.0, locked_out=False)
    assert types(check_service(state, LASER, 2.0)) == ["lockout"]
    assert state.lockout_reason == SERVICE_DUE_REASON


def test_a_longer_interval_makes_the_next_run_out_count_again() -> None:
    state = MachineState(usage_seconds=11 * HOUR)
    assert types(check_service(state, WARN_ONLY, 0.0)) == [SERVICE_DUE]
    longer = MachineSettings(name="laser", service_interval_hours=20)
    assert check_service(state, longer, 1.0) == []
    assert not state.service_due_sent  # no longer due: the problem sensor clears
    state.usage_seconds = 21 * HOUR
    assert types(check_service(state, longer, 2.0)) == [SERVICE_DUE]


def test_an_always_enabled_machine_only_reports() -> None:
    always = MachineSettings(
        name="compressor",
        always_enabled=True,
        service_interval_hours=1,
        lock_out_when_service_due=True,
    )
    state = MachineState(usage_seconds=0.0, relay_on_since=0.0)
    assert types(check_service(state, always, 2 * HOUR)) == [SERVICE_DUE]
    assert not state.locked_out
    assert state.relay(always)


def test_serviced_starts_a_new_interval_and_keeps_the_lockout() -> None:
    state = MachineState(usage_seconds=11 * HOUR)
    check_service(state, LASER, 0.0)
    assert types(serviced(state, 0.0)) == ["serviced"]
    assert state.locked_out  # unlocking is an admin's separate act
    assert hours_left(state, LASER, 0.0) == 10
    assert (state.service_due_sent, state.service_locked) == (False, False)
    state.usage_seconds += 10 * HOUR
    assert types(check_service(state, LASER, 0.0)) == [SERVICE_DUE]  # the next interval


def test_serviced_mid_session_survives_a_restart() -> None:
    # Serviced while the relay is on: the running time so far is banked, so the saved
    # service point is within the saved hours, which is all a restart keeps of it.
    state = running(usage_hours=11, since=0.0)
    serviced(state, 3 * HOUR)
    assert state.usage_hours(3 * HOUR) == 14
    assert state.serviced_at_seconds == state.usage_seconds == 14 * HOUR
    assert state.relay_on_since == 3 * HOUR
    restored = MachineState.from_dict(state.as_dict())
    assert hours_left(restored, LASER, 4 * HOUR) == 9
    end_session(restored, 4 * HOUR)
    assert restored.usage_seconds == 15 * HOUR  # no hour of use counted twice, or lost


def test_the_lockout_screen_shows_the_reason_as_text() -> None:
    assert locked_out_screen(None)[0] == "Down for\nmaintenance"
    assert locked_out_screen("New {name}")[0].format(name="x") == "Down for\nNew {name}"
    assert locked_out_screen("a" * 20)[0] == "Down for\n" + "a" * 16


def test_a_lockout_keeps_its_reason_until_unlocked() -> None:
    state = MachineState()
    state.set_flags(OFF, 0.0, locked_out=True)
    assert state.lockout_reason is None
    state.set_flags(OFF, 0.0, oopsed=False, locked_out=False)
    state.set_flags(OFF, 0.0, locked_out=True, reason="Blade")
    assert state.reply(OFF).display == "Down for\nBlade"
    state.set_flags(OFF, 0.0, locked_out=True)
    assert state.lockout_reason == "Blade"
    # Locking out a locked-out machine (open to every user) never rewrites its reason.
    state.set_flags(OFF, 0.0, locked_out=True, reason="Anything")
    assert state.lockout_reason == "Blade"
    state.set_flags(OFF, 0.0, oopsed=False, locked_out=False)
    assert state.lockout_reason is None


def _english(*phrases: Phrase) -> tuple[str, ...]:
    """The phrases as the English alert says them (translations/en.json)."""
    texts = TRANSLATIONS["exceptions"]
    return tuple(fill(texts[p.key]["message"], p.placeholders) for p in phrases)


def test_alert_texts_name_the_machine_and_the_interval() -> None:
    title, message = _english(*alert_text(AccessEvent(type=SERVICE_DUE), LASER))
    assert title == "laser is due for service"
    assert "10 h" in message
    assert "locks out when the running session ends" in message
    _, message = _english(*alert_text(AccessEvent(type=SERVICE_DUE), WARN_ONLY))
    assert "locks out" not in message
    assert _english(*alert_text(AccessEvent(type="lockout", member="Ada"), OFF)) == (
        "laser was locked out",
        "laser was locked out (in use by Ada). It stays off until an admin clears it.",
    )
    assert "guessing" in _english(*alert_text(AccessEvent(type="guessing"), OFF))[0]


def test_a_card_swap_on_an_overdue_machine_locks_out_before_the_new_card() -> None:
    state = running(usage_hours=9.5, since=0.0)
    state.card = "ada-digest"
    assert types(check_service(state, LASER, HOUR)) == [SERVICE_DUE]  # mid-cut: waits
    assert state.relay(LASER)
    assert lock_before_card(state, LASER, "ada-digest", HOUR + 1) == []  # a heartbeat
    events = lock_before_card(state, LASER, "grace-digest", HOUR + 2)  # Ada's card goes
    assert types(events) == ["lockout", "logout"]
    assert state.locked_out
    assert state.lockout_reason == SERVICE_DUE_REASON
    assert not state.relay(LASER)


def test_no_early_lockout_without_a_due_one_waiting() -> None:
    for settings, usage in ((LASER, 1.0), (WARN_ONLY, 11.0)):
        state = running(usage_hours=usage, since=0.0)
        state.card = "ada-digest"
        check_service(state, settings, HOUR)
        assert lock_before_card(state, settings, None, HOUR + 1) == []
        assert not state.locked_out
    always = MachineSettings(
        name="compressor",
        always_enabled=True,
        service_interval_hours=1,
        lock_out_when_service_due=True,
    )
    state = running(usage_hours=2.0, since=0.0)
    state.card = "ada-digest"
    check_service(state, always, HOUR)
    assert lock_before_card(state, always, None, HOUR + 1) == []
