"""A printer's watch without Home Assistant: the print lifecycle, act once, ignore, the
warning cooldown, the notification buttons, the alerts' words and the saved print."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.makerspace_hub.alert_words import Phrase, fill
from custom_components.makerspace_hub.printers.detector import (
    FAILURE,
    INIT_SAFE_FRAME_NUM,
    SAFE,
    WARMING_UP,
    WARNING,
    FailureDetector,
)
from custom_components.makerspace_hub.printers.health import HISTORY_LENGTH, Frame, PrinterHealth
from custom_components.makerspace_hub.printers.print_alerts import (
    Alert,
    failure_alert,
    warning_alert,
)
from custom_components.makerspace_hub.printers.print_watch import (
    DETECTION_OFF,
    DETECTION_STATES,
    IGNORE,
    NOT_PRINTING,
    PAUSE,
    SNOOZE,
    WARNING_ALERT_COOLDOWN_SEC,
    Do,
    Follow,
    PrintJob,
    PrintWatch,
    pause_call,
    print_file,
)
from custom_components.makerspace_hub.printers.settings import PrinterSettings

from ..conftest import TRANSLATIONS

SETTINGS = PrinterSettings(
    name="prusa",
    camera_entity="camera.prusa_cam",
    status_entity="sensor.prusa_status",
    printing_states=("printing", "running"),
    paused_states=("paused",),
    pause_entity="input_button.prusa_pause",
)
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 1, 14, 5, 30, 250000, tzinfo=BERLIN)


def watch(**changes: Any) -> PrintWatch:
    return PrintWatch(replace(SETTINGS, **changes), "sub1")


def printing(**changes: Any) -> PrintWatch:
    """A watch on a print of benchy.gcode that started at T0."""
    w = watch(**changes)
    assert w.follow("printing", "benchy.gcode", T0) is Follow.NEW_PRINT
    return w


# --- the print lifecycle ----------------------------------------------------------------


def test_a_print_starts_when_the_status_enters_printing() -> None:
    w = watch()
    assert not w.job.active
    assert w.follow("idle", None, T0) is Follow.NO_PRINT
    assert w.follow("running", "benchy.gcode", T0) is Follow.NEW_PRINT
    assert w.job == PrintJob(
        active=True, name="benchy.gcode", file="benchy.gcode", started=T0.timestamp()
    )
    assert w.follow("printing", "benchy.gcode", T0 + timedelta(seconds=10)) is Follow.PRINTING
    assert w.job.started == T0.timestamp()


def test_a_print_without_a_file_name_is_named_by_its_local_start_time() -> None:
    w = watch()
    assert w.follow("printing", None, T0) is Follow.NEW_PRINT
    assert w.job.name == "Print started at 14:05"
    assert w.job.file is None
    assert w.job.started == T0.timestamp()


@pytest.mark.parametrize("held", ["paused", "unavailable", "unknown", None])
def test_pausing_and_no_word_from_the_printer_are_the_same_print(held: str | None) -> None:
    w = printing()
    job = w.job
    assert w.follow(held, None, T0 + timedelta(minutes=5)) is Follow.HELD
    assert w.job is job
    assert w.job.active
    assert w.follow("printing", "benchy.gcode", T0 + timedelta(minutes=9)) is Follow.PRINTING
    assert w.job is job


def test_a_held_status_before_any_print_is_no_print_either() -> None:
    w = watch()
    assert w.follow("paused", None, T0) is Follow.HELD
    assert not w.job.active


@pytest.mark.parametrize("status", ["finished", "cancelled", "failed", "idle", "PRINTING"])
def test_any_other_status_ends_the_print(status: str) -> None:
    w = printing()
    assert w.follow(status, "benchy.gcode", T0) is Follow.ENDED
    assert not w.job.active
    assert w.job.name == "benchy.gcode"  # the last print stays known
    assert w.follow(status, None, T0) is Follow.NO_PRINT
    assert w.follow("printing", "benchy.gcode", T0 + timedelta(hours=1)) is Follow.NEW_PRINT
    assert w.job.started == (T0 + timedelta(hours=1)).timestamp()


def test_another_file_is_a_new_print_even_without_an_end_in_between() -> None:
    w = printing()
    later = T0 + timedelta(hours=2)
    assert w.follow("unavailable", None, later) is Follow.HELD
    assert w.follow("printing", "benchy.gcode", later) is Follow.PRINTING
    assert w.follow("printing", None, later) is Follow.PRINTING  # no name: same print
    assert w.follow("printing", "bracket.gcode", later) is Follow.NEW_PRINT
    assert w.job.name == "bracket.gcode"
    assert w.job.started == later.timestamp()


def test_an_unnamed_print_is_not_ended_by_a_name_appearing() -> None:
    w = watch()
    assert w.follow("printing", None, T0) is Follow.NEW_PRINT
    assert w.follow("printing", "benchy.gcode", T0) is Follow.PRINTING
    assert w.job.name == "Print started at 14:05"


def test_follow_says_when_to_poll() -> None:
    assert {step for step in Follow if step.polls} == {Follow.NEW_PRINT, Follow.PRINTING}


def test_a_new_print_forgets_the_last_print_but_keeps_the_baseline() -> None:
    w = printing()
    for _ in range(40):
        w.frame(0.5, 0.0, 0.0, warning_alerts=False)
    w.judge(FAILURE, 0.9, 1.0, 1.0, warning_alerts=False)
    assert w.press(w.button(IGNORE), 0.0) == IGNORE
    baseline = w.detector.rolling_mean_long
    assert w.follow("finished", None, T0) is Follow.ENDED
    assert w.follow("printing", "next.gcode", T0 + timedelta(hours=1)) is Follow.NEW_PRINT
    assert (w.job.acted, w.job.ignored, w.job.failure) == (False, False, False)
    assert (w.job.verdict, w.job.probability) == (None, None)
    assert w.detector.current_frame_num == 0
    assert w.detector.lifetime_frame_num == 40
    assert w.detector.rolling_mean_long == baseline


def test_power_off_ends_the_print_whatever_the_status_says_next() -> None:
    w = printing()
    w.powered_off()
    assert not w.job.active
    # The status entity may still say printing: that is a new print.
    assert w.follow("printing", "benchy.gcode", T0 + timedelta(minutes=1)) is Follow.NEW_PRINT


def test_a_frame_belongs_to_the_print_it_was_taken_in() -> None:
    w = printing()
    started = w.job.started
    assert w.is_current(started)
    w.follow("printing", "other.gcode", T0 + timedelta(minutes=1))
    assert not w.is_current(started)
    assert w.is_current(w.job.started)
    w.follow("finished", None, T0 + timedelta(minutes=2))
    assert not w.is_current(w.job.started)


# --- what the sensor shows --------------------------------------------------------------


def test_the_detection_state() -> None:
    assert NOT_PRINTING == "idle"  # a sensor state users see, and translated: it stays
    assert DETECTION_STATES == ("idle", "warming_up", "safe", "warning", "failure", "off")
    w = watch()
    assert w.detection_state == NOT_PRINTING
    w.follow("printing", None, T0)
    assert w.detection_state == NOT_PRINTING  # no frame judged yet
    w.frame(0.0, 0.0, 0.0, warning_alerts=False)
    assert w.detection_state == WARMING_UP
    for _ in range(INIT_SAFE_FRAME_NUM - 1):
        w.frame(0.0, 0.0, 0.0, warning_alerts=False)
    assert w.detection_state == SAFE
    w.judge(WARNING, 0.5, 0.0, 0.0, warning_alerts=False)
    assert w.detection_state == WARNING
    w.follow("paused", None, T0)
    assert w.detection_state == WARNING  # paused: still this print's
    w.follow("finished", None, T0)
    assert w.detection_state == NOT_PRINTING


# --- act once, ignore -------------------------------------------------------------------


def test_the_first_failure_of_a_print_acts_once() -> None:
    w = printing()
    assert w.judge(SAFE, 0.1, 0.0, 0.0, warning_alerts=True).do is Do.NOTHING
    judged = w.judge(FAILURE, 0.8, 1.0, 1.0, warning_alerts=True)
    assert (judged.verdict, judged.probability, judged.do) == (FAILURE, 0.8, Do.ACT)
    assert (w.job.acted, w.job.failure) == (True, True)
    assert (w.job.verdict, w.job.probability) == (FAILURE, 0.8)
    for now in (2.0, 200.0):
        # Neither a second action nor a warning once it acted.
        assert w.judge(FAILURE, 0.9, now, now, warning_alerts=True).do is Do.NOTHING
    assert w.judge(WARNING, 0.5, 300.0, 300.0, warning_alerts=True).do is Do.WARN
    assert w.judge(FAILURE, 0.9, 400.0, 400.0, warning_alerts=True).do is Do.NOTHING
    assert w.job.failure


def test_an_ignored_print_never_acts() -> None:
    w = printing()
    assert w.press(w.button(IGNORE), 0.0) == IGNORE
    assert (w.job.ignored, w.job.failure) == (True, False)
    assert w.judge(FAILURE, 0.9, 0.0, 0.0, warning_alerts=False).do is Do.NOTHING
    assert not w.job.acted
    assert not w.job.failure


def test_ignoring_after_the_action_clears_the_failure() -> None:
    w = printing()
    assert w.judge(FAILURE, 0.9, 0.0, 0.0, warning_alerts=False).do is Do.ACT
    assert w.press(w.button(IGNORE), 0.0) == IGNORE
    assert (w.job.acted, w.job.ignored, w.job.failure) == (True, True, False)
    assert w.judge(FAILURE, 0.9, 1.0, 1.0, warning_alerts=False).do is Do.NOTHING
    assert not w.job.failure


def test_the_next_print_acts_again() -> None:
    w = printing()
    assert w.judge(FAILURE, 0.9, 0.0, 0.0, warning_alerts=False).do is Do.ACT
    w.follow("finished", None, T0)
    w.follow("printing", None, T0 + timedelta(hours=1))
    assert w.judge(FAILURE, 0.9, 1.0, 1.0, warning_alerts=False).do is Do.ACT


def test_a_verdict_says_whether_it_changed() -> None:
    w = printing()
    changes = [
        w.judge(verdict, 0.1, 0.0, 0.0, warning_alerts=False).changed
        for verdict in (SAFE, SAFE, WARNING, WARNING, SAFE)
    ]
    assert changes == [True, False, True, False, True]


def test_frames_are_judged_through_the_printers_detector_and_sensitivity() -> None:
    w = printing(sensitivity=1.2)
    reference = FailureDetector()
    acts = []
    for index, score in enumerate([0.0] * 40 + [1.5] * 15):
        judged = w.frame(score, float(index), float(index), warning_alerts=False)
        verdict = reference.add_frame(score, 1.2)
        assert judged.verdict == verdict
        assert judged.probability == reference.probability(1.2)
        acts.append(judged.do)
    assert acts.count(Do.ACT) == 1
    assert w.job.verdict == FAILURE
    assert w.detector == reference


# --- the warning cooldown ---------------------------------------------------------------


def test_warnings_alert_only_when_enabled() -> None:
    w = printing()
    assert w.judge(WARNING, 0.5, 0.0, 0.0, warning_alerts=False).do is Do.NOTHING
    # The disabled warning did not start a cooldown.
    assert w.judge(WARNING, 0.5, 1.0, 1.0, warning_alerts=True).do is Do.WARN


def test_at_most_one_warning_alert_per_cooldown() -> None:
    w = printing()
    start = 1000.0
    assert w.judge(WARNING, 0.5, start, start, warning_alerts=True).do is Do.WARN
    assert w.judge(SAFE, 0.1, start + 10, start + 10, warning_alerts=True).do is Do.NOTHING
    quiet = start + WARNING_ALERT_COOLDOWN_SEC - 0.1
    assert w.judge(WARNING, 0.5, quiet, quiet, warning_alerts=True).do is Do.NOTHING
    # The suppressed one did not restart the cooldown.
    again = start + WARNING_ALERT_COOLDOWN_SEC
    assert w.judge(WARNING, 0.5, again, again, warning_alerts=True).do is Do.WARN
    assert w.judge(WARNING, 0.5, again + 1, again + 1, warning_alerts=True).do is Do.NOTHING


def test_a_new_print_starts_without_a_cooldown() -> None:
    w = printing()
    assert w.judge(WARNING, 0.5, 1000.0, 1000.0, warning_alerts=True).do is Do.WARN
    w.follow("printing", "other.gcode", T0 + timedelta(hours=1))
    assert w.judge(WARNING, 0.5, 1001.0, 1001.0, warning_alerts=True).do is Do.WARN


# --- the notification buttons -----------------------------------------------------------


def test_button_ids_carry_the_printer_and_the_print() -> None:
    w = watch()
    assert w.button(PAUSE) == "MAKERSPACE_HUB_PAUSE_sub1_0"  # no print yet
    w.follow("printing", None, datetime(2026, 3, 1, 13, 5, 30, 250000, tzinfo=UTC))
    assert w.button(PAUSE) == "MAKERSPACE_HUB_PAUSE_sub1_1772370330250"
    assert w.button(IGNORE) == "MAKERSPACE_HUB_IGNORE_sub1_1772370330250"
    other = PrintWatch(SETTINGS, "sub2", job=w.job)
    assert other.button(PAUSE) == "MAKERSPACE_HUB_PAUSE_sub2_1772370330250"


def test_buttons_act_only_on_their_printer_and_print() -> None:
    w = printing()
    pause, ignore = w.button(PAUSE), w.button(IGNORE)
    other = PrintWatch(SETTINGS, "sub2", job=replace(w.job))
    assert other.press(pause, 0.0) is None
    assert other.press(ignore, 0.0) is None
    assert not other.job.ignored
    for garbage in (None, 42, "", "MAKERSPACE_HUB_PAUSE"):
        assert w.press(garbage, 0.0) is None
    assert w.press(pause, 0.0) == PAUSE
    assert not w.job.ignored  # pausing is not ignoring

    w.follow("finished", None, T0)
    assert w.press(pause, 0.0) is None  # nothing to pause any more
    w.follow("printing", None, T0 + timedelta(hours=1))
    assert w.press(pause, 0.0) is None  # the earlier print's buttons
    assert w.press(ignore, 0.0) is None
    assert not w.job.ignored
    assert w.press(w.button(PAUSE), 0.0) == PAUSE


def test_ignore_still_works_after_the_print_ended() -> None:
    w = printing()
    w.judge(FAILURE, 0.9, 0.0, 0.0, warning_alerts=False)
    ignore = w.button(IGNORE)
    w.follow("finished", None, T0)
    assert w.press(ignore, 0.0) == IGNORE
    assert (w.job.ignored, w.job.failure) == (True, False)


# --- the alerts -------------------------------------------------------------------------


def _english(alert: Alert) -> tuple[str, str, list[dict[str, str]] | None]:
    """Return the alert's title, message and buttons as English says them (en.json)."""
    texts = TRANSLATIONS["exceptions"]

    def say(phrase: Phrase) -> str:
        return fill(texts[phrase.key]["message"], phrase.placeholders)

    buttons = [{"action": b.action, "title": say(b.title)} for b in alert.buttons]
    return say(alert.title), " ".join(map(say, alert.message)), buttons or None


def test_the_failure_alert_offers_pause_not_a_failure_and_snooze() -> None:
    w = printing()
    alert = failure_alert(w, 0.834, [])
    assert alert.key == "failure"
    title, message, actions = _english(alert)
    assert title == "prusa may be failing"
    assert message == "benchy.gcode on prusa: failure probability 83 %."
    assert actions == [
        {"action": w.button(PAUSE), "title": "Pause print"},
        {"action": w.button(IGNORE), "title": "Not a failure"},
        {"action": w.button(SNOOZE), "title": "Snooze 15 min"},
    ]
    alone = failure_alert(printing(pause_entity=None), 0.834, [])
    assert _english(alone)[2] == [
        {"action": w.button(IGNORE), "title": "Not a failure"},
        {"action": w.button(SNOOZE), "title": "Snooze 15 min"},
    ]


@pytest.mark.parametrize("action", ["pause", "pause_and_off"])
def test_the_failure_alert_of_a_pausing_printer_says_what_happened(action: str) -> None:
    w = printing(action=action, power_entity="switch.prusa_power")
    alert = failure_alert(w, 1.0, [Phrase("alert_print_paused")])
    _, message, actions = _english(alert)
    assert message == "benchy.gcode on prusa: failure probability 100 %. The print was paused."
    assert actions == [
        {"action": w.button(IGNORE), "title": "Not a failure"},
        {"action": w.button(SNOOZE), "title": "Snooze 15 min"},
    ]
    # Each sentence is translated whole; nothing done adds nothing.
    assert _english(failure_alert(w, 1.0, []))[1].endswith("100 %.")


def test_the_warning_alert_has_no_buttons() -> None:
    alert = warning_alert(printing(), 0.456)
    assert alert.key == "warning"
    assert _english(alert) == (
        "prusa might be failing",
        "benchy.gcode on prusa: failure probability 46 %. Have a look.",
        None,
    )


@pytest.mark.parametrize(
    ("entity_id", "call"),
    [
        ("button.pause_print", ("button", "press")),
        ("input_button.prusa_pause", ("input_button", "press")),
        ("script.pause_bambu", ("script", "turn_on")),
        ("switch.prusa_power", ("switch", "turn_on")),
    ],
)
def test_how_a_pause_entity_is_pressed(entity_id: str, call: tuple[str, str]) -> None:
    assert pause_call(entity_id) == call


# --- the print's name from the status entity ---------------------------------------------


def test_the_print_file_comes_from_the_first_named_attribute() -> None:
    assert print_file({}) is None
    assert print_file({"friendly_name": "Prusa status"}) is None
    assert print_file({"filename": "", "task_name": "bracket"}) == "bracket"
    assert print_file({"task_name": "b", "filename": "a.gcode"}) == "a.gcode"
    assert print_file({"job_name": 42}) == "42"
    assert print_file({"file": None, "print_name": "x"}) == "x"


# --- what is saved ----------------------------------------------------------------------


def test_the_print_and_baseline_are_saved_and_restored() -> None:
    w = printing()
    for _ in range(3):
        w.frame(0.2, 0.0, 0.0, warning_alerts=False)
    w.judge(FAILURE, 0.9, 0.0, 0.0, warning_alerts=False)
    saved = w.as_saved()
    assert saved == {
        "detector": w.detector.as_dict(),
        "print": w.job.as_dict(),
        "detecting": True,
    }
    assert saved["print"] == {
        "active": True,
        "name": "benchy.gcode",
        "file": "benchy.gcode",
        "started": T0.timestamp(),
        "acted": True,
        "ignored": False,
        "failure": True,
        "snoozed_until": None,
    }
    restored = PrintWatch.restore(SETTINGS, "sub1", saved)
    assert restored.detector == w.detector
    # The verdict is the next frame's to tell: not saved.
    assert restored.job == replace(w.job, verdict=None, probability=None)
    assert restored.button(IGNORE) == w.button(IGNORE)  # an alert's buttons outlive a restart
    # A restored print that already acted does not act again.
    assert restored.judge(FAILURE, 0.9, 0.0, 0.0, warning_alerts=False).do is Do.NOTHING


def test_nothing_saved_is_a_fresh_watch() -> None:
    w = PrintWatch.restore(SETTINGS, "sub1", {})
    assert w.job == PrintJob()
    assert w.detector == FailureDetector()


@pytest.mark.parametrize(
    ("saved", "problem"),
    [
        ({"print": []}, "print must be an object"),
        ({"print": {"active": "yes"}}, "print.active must be true or false"),
        ({"print": {"acted": 1}}, "print.acted must be true or false"),
        ({"print": {"ignored": None}}, "print.ignored must be true or false"),
        ({"print": {"failure": "no"}}, "print.failure must be true or false"),
        ({"print": {"name": 3}}, "print.name must be text"),
        ({"print": {"file": ["a"]}}, "print.file must be text"),
        ({"print": {"started": True}}, "print.started must be a number"),
        ({"print": {"started": "noon"}}, "print.started must be a number"),
        ({"print": {"started": float("nan")}}, "print.started must be a number"),
        ({"detector": {"ewm_mean": "x"}}, "ewm_mean must be a number"),
        ({"detector": {"current_frame_num": -1}}, "current_frame_num is out of range"),
    ],
)
def test_unusable_saved_state_is_refused(saved: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        PrintWatch.restore(SETTINGS, "sub1", saved)


def test_a_saved_print_with_only_some_keys_takes_defaults() -> None:
    job = PrintJob.from_dict({"active": True, "started": 12})
    assert job == PrintJob(active=True, started=12)


# --- the printer's recent health --------------------------------------------------------


def test_camera_failures_are_counted_and_their_start_and_end_told_once() -> None:
    health = PrinterHealth()
    assert health.camera_failed("unplugged")  # began
    assert not health.camera_failed("still unplugged")
    assert (health.camera_errors, health.camera_failing) == (2, True)
    assert health.last_error == "camera: still unplugged"
    assert health.camera_works()  # ended
    assert not health.camera_works()
    assert health.camera_errors == 2  # a count, not a state
    assert health.last_error == "camera: still unplugged"


def test_recent_frames_are_bounded_and_shown_as_diagnostics_show_them() -> None:
    health = PrinterHealth()
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for index in range(HISTORY_LENGTH + 5):
        health.history.append(Frame(at + timedelta(seconds=index), 0.5, WARNING, 0.4))
    assert len(health.history) == HISTORY_LENGTH
    assert health.history[0].at == at + timedelta(seconds=5)
    assert Frame(at, 1.25, FAILURE, 0.75).as_dict() == {
        "at": "2026-03-01T12:00:00+00:00",
        "score": 1.25,
        "verdict": "failure",
        "probability": 0.75,
    }


# --- grace, snooze and the detection switch ------------------------------------------

START = T0.timestamp()


def test_a_failure_in_the_grace_period_acts_when_the_grace_ends() -> None:
    w = printing(grace_minutes=5)
    assert w.hold_ends(START + 10) == START + 300
    assert w.judge(FAILURE, 0.9, 0.0, START + 10, warning_alerts=True).do is Do.NOTHING
    assert w.judge(WARNING, 0.5, 1.0, START + 20, warning_alerts=True).do is Do.NOTHING
    assert w.judge(FAILURE, 0.9, 2.0, START + 30, warning_alerts=True).do is Do.NOTHING
    assert not w.job.acted
    assert not w.job.failure  # held: the failure sensor stays off
    assert w.reconsider(3.0, START + 299) is None  # still held
    judged = w.reconsider(4.0, START + 300)
    assert judged is not None
    assert judged.do is Do.ACT
    assert w.job.acted
    assert w.reconsider(5.0, START + 301) is not None  # judged again: acts once only
    assert w.judge(FAILURE, 0.9, 6.0, START + 302, warning_alerts=True).do is Do.NOTHING


def test_a_verdict_that_recovered_during_the_hold_does_not_act() -> None:
    w = printing(grace_minutes=1)
    w.judge(FAILURE, 0.9, 0.0, START + 10, warning_alerts=False)
    w.judge(SAFE, 0.1, 1.0, START + 50, warning_alerts=False)
    judged = w.reconsider(2.0, START + 60)
    assert judged is not None
    assert judged.do is Do.NOTHING


def test_without_grace_nothing_is_held() -> None:
    w = printing()
    assert w.hold_ends(START) is None
    assert w.judge(FAILURE, 0.9, 0.0, START, warning_alerts=False).do is Do.ACT


def test_a_snooze_holds_until_it_ends_and_a_new_print_forgets_it() -> None:
    w = printing()
    assert w.snooze(10, START + 100)
    assert w.job.snoozed_until == START + 700
    assert w.held(START + 699)
    assert w.judge(FAILURE, 0.9, 0.0, START + 200, warning_alerts=True).do is Do.NOTHING
    assert w.reconsider(1.0, START + 600) is None
    judged = w.reconsider(2.0, START + 700)
    assert judged is not None
    assert judged.do is Do.ACT
    assert w.snooze(0, START + 800)  # 0 ends a snooze
    assert w.job.snoozed_until is None
    w.follow("idle", None, T0 + timedelta(hours=1))
    assert not w.snooze(15, START + 3700)  # no print: nothing to snooze
    w.follow("printing", "bracket.gcode", T0 + timedelta(hours=2))
    assert w.job.snoozed_until is None


def test_the_later_of_grace_and_snooze_ends_the_hold() -> None:
    w = printing(grace_minutes=10)
    w.snooze(2, START + 60)  # ends at START + 180, within the grace
    assert w.hold_ends(START + 100) == START + 600
    w.snooze(20, START + 60)
    assert w.hold_ends(START + 100) == START + 1260


def test_the_snooze_button_snoozes_this_print_for_15_minutes() -> None:
    w = printing()
    button = w.button(SNOOZE)
    assert w.press(button, START + 60) == SNOOZE
    assert w.job.snoozed_until == START + 60 + 15 * 60
    w.follow("idle", None, T0 + timedelta(hours=1))
    w.follow("printing", "bracket.gcode", T0 + timedelta(hours=2))
    assert w.press(button, START + 7300) is None  # an earlier print's button


def test_switching_detection_off_and_on_starts_the_print_over() -> None:
    w = printing()
    for _ in range(40):
        w.frame(0.2, 0.0, START, warning_alerts=False)
    baseline = w.detector.rolling_mean_long
    assert w.detection_state == SAFE
    assert w.set_detecting(False)
    assert not w.set_detecting(False)
    assert w.detection_state == DETECTION_OFF
    assert w.reconsider(1.0, START) is None
    assert w.set_detecting(True)
    assert w.detector.current_frame_num == 0  # warming up again
    assert w.detector.rolling_mean_long == baseline  # the learned baseline stays
    assert w.detection_state == NOT_PRINTING  # no verdict since
    w.frame(0.2, 0.0, START, warning_alerts=False)
    assert w.detection_state == WARMING_UP


def test_detecting_and_the_snooze_are_saved() -> None:
    w = printing()
    w.snooze(5, START)
    w.set_detecting(False)
    restored = PrintWatch.restore(SETTINGS, "sub1", w.as_saved())
    assert not restored.detecting
    assert restored.job.snoozed_until == START + 300
    assert PrintWatch.restore(SETTINGS, "sub1", {}).detecting  # older files: on
    with pytest.raises(ValueError, match="detecting"):
        PrintWatch.restore(SETTINGS, "sub1", {"detecting": "no"})
