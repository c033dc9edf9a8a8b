"""One printer's watch over its prints (pure: no Home Assistant imports).

Owns what a print is and what to do about it; the glue (`printer.py`) feeds it the
status entity's state, the time and each frame's score, and does what it answers:

- the print lifecycle: a print starts when the status enters a printing state from
  one that is neither printing nor paused (or when the printed file changes); pausing
  and resuming, and no word from the printer, are the same print; any other status
  ends it (`PrintWatch.follow`);
- act once, ignore: the first `failure` verdict of a print runs the printer's action,
  never a second time, and never after an admin ignored the alert (`PrintWatch.judge`);
- holds: during a print's first `grace_minutes` and while an admin's snooze lasts,
  frames are scored and the detector learns, but nothing acts or alerts; a failure
  that is still the verdict when the hold ends acts then (`PrintWatch.reconsider`);
- the detection switch: off, nothing is polled or judged; back on in a print, the
  detector starts this print's smoothing over (warming up again), so that frames
  from before the gap never make a verdict;
- the warning-alert cooldown: at most one warning alert per WARNING_ALERT_COOLDOWN_SEC;
- the notification buttons: ids bound to the printer and the print they were sent
  for, so the buttons of an earlier print do nothing (`PrintWatch.press`);
- the detection state the printer's sensor shows (the alerts' words are in
  `print_alerts`).

The printer's recent health (camera errors, frames that were not plain safe) is in
`health`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from ..const import DOMAIN
from ..validation import InvalidConfigError, read_bool, read_optional_float, read_optional_text
from .detector import FAILURE, SAFE, WARMING_UP, WARNING, FailureDetector
from .settings import PrinterSettings

WARNING_ALERT_COOLDOWN_SEC = 90.0
# Where printer integrations put the printed file's name on their status entity.
PRINT_NAME_ATTRIBUTES = ("filename", "file_name", "file", "job_name", "print_name", "task_name")
# Home Assistant's STATE_UNAVAILABLE and STATE_UNKNOWN: no word from the printer.
NO_WORD_STATES = ("unavailable", "unknown")

# The detection state while there is no print to judge (the sensor's "idle": the
# value is shown to users and translated, so it stays), and while detection is off.
NOT_PRINTING = "idle"
DETECTION_OFF = "off"
DETECTION_STATES = (NOT_PRINTING, WARMING_UP, SAFE, WARNING, FAILURE, DETECTION_OFF)

# The notification buttons.
PAUSE = "PAUSE"
IGNORE = "IGNORE"  # "Not a failure": ignore the rest of this print
SNOOZE = "SNOOZE"
SNOOZE_BUTTON_MINUTES = 15
MAX_SNOOZE_MINUTES = 24 * 60


@dataclass(slots=True, kw_only=True)
class PrintJob:
    """The print the printer is on (or was last on)."""

    active: bool = False  # printing or paused
    name: str | None = None
    file: str | None = None  # the name the status entity gave, if any
    started: float | None = None
    acted: bool = False  # the failure action ran for this print
    ignored: bool = False  # an admin dismissed the alert
    failure: bool = False  # a failure was detected in this print
    snoozed_until: float | None = None  # wall clock; an admin's snooze of this print
    verdict: str | None = None
    probability: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the state to save."""
        return {
            "active": self.active,
            "name": self.name,
            "file": self.file,
            "started": self.started,
            "acted": self.acted,
            "ignored": self.ignored,
            "failure": self.failure,
            "snoozed_until": self.snoozed_until,
        }

    @classmethod
    def from_dict(cls, data: Any) -> "PrintJob":
        """Read a saved print; raise ValueError when it is unusable."""
        if not isinstance(data, dict):
            raise ValueError("print must be an object")
        try:
            return cls(
                active=read_bool(data, "active", False),
                name=read_optional_text(data, "name"),
                file=read_optional_text(data, "file"),
                started=read_optional_float(data, "started"),
                acted=read_bool(data, "acted", False),
                ignored=read_bool(data, "ignored", False),
                failure=read_bool(data, "failure", False),
                snoozed_until=read_optional_float(data, "snoozed_until"),
            )
        except InvalidConfigError as err:
            raise ValueError(f"print.{err}") from err


class Follow(Enum):
    """What a status of the printer means for its print."""

    NEW_PRINT = "new_print"  # a print began: poll
    PRINTING = "printing"  # the print goes on: poll
    HELD = "held"  # paused, or no word from the printer: the print goes on, no polls
    ENDED = "ended"  # the print just ended
    NO_PRINT = "no_print"  # nothing is printing, and nothing changed

    @property
    def polls(self) -> bool:
        """Return True when frames are to be taken."""
        return self in (Follow.NEW_PRINT, Follow.PRINTING)


class Do(Enum):
    """What a frame's verdict asks for."""

    NOTHING = "nothing"
    ACT = "act"  # run the printer's action, then alert
    WARN = "warn"  # send a warning alert


@dataclass(frozen=True, slots=True)
class Judgement:
    """A frame judged."""

    verdict: str
    probability: float
    changed: bool  # the verdict differs from the previous frame's
    do: Do


def pause_call(entity_id: str) -> tuple[str, str]:
    """Return the domain and service that pause a print through `entity_id`."""
    domain = entity_id.split(".", 1)[0]
    service = {"button": "press", "input_button": "press", "script": "turn_on"}.get(
        domain, "turn_on"
    )
    return domain, service


def print_file(attributes: Mapping[str, Any]) -> str | None:
    """Return the print's name from the status entity's attributes, if it has one."""
    return next(
        (str(attributes[key]) for key in PRINT_NAME_ATTRIBUTES if attributes.get(key)), None
    )


class PrintWatch:
    """One printer's print, followed from its status and judged frame by frame."""

    def __init__(
        self,
        settings: PrinterSettings,
        subentry_id: str,
        *,
        job: PrintJob | None = None,
        detector: FailureDetector | None = None,
        detecting: bool = True,
    ) -> None:
        """Watch the printer of `settings` (its subentry binds the buttons)."""
        self.settings = settings
        self.subentry_id = subentry_id
        self.job = job if job is not None else PrintJob()
        self.detector = detector if detector is not None else FailureDetector()
        self.detecting = detecting  # the printer's failure detection switch
        self._last_warning_alert: float | None = None

    @classmethod
    def restore(
        cls, settings: PrinterSettings, subentry_id: str, saved: Mapping[str, Any]
    ) -> "PrintWatch":
        """Take up the saved baseline and print; raise ValueError when unusable."""
        detecting = saved.get("detecting", True)
        if not isinstance(detecting, bool):
            raise ValueError("detecting must be true or false")
        return cls(
            settings,
            subentry_id,
            job=PrintJob.from_dict(saved.get("print", {})),
            detector=FailureDetector.from_dict(saved.get("detector", {})),
            detecting=detecting,
        )

    def as_saved(self) -> dict[str, Any]:
        """Return the baseline, the print and the detection switch to save."""
        return {
            "detector": self.detector.as_dict(),
            "print": self.job.as_dict(),
            "detecting": self.detecting,
        }

    @property
    def detection_state(self) -> str:
        """Return off, idle (NOT_PRINTING), warming_up, safe, warning or failure."""
        if not self.detecting:
            return DETECTION_OFF
        if not self.job.active or self.job.verdict is None:
            return NOT_PRINTING
        if self.detector.warming_up:
            return WARMING_UP
        return self.job.verdict

    # --- the print -------------------------------------------------------------------

    def follow(self, status: str | None, file: str | None, now: datetime) -> Follow:
        """Take the status entity's state (None: no such entity) and the printed file."""
        if status in self.settings.printing_states:
            if not self.job.active or (
                file is not None and self.job.file is not None and file != self.job.file
            ):
                # A new print, also when the last one ended while the printer was
                # unavailable (or unseen, e.g. while Home Assistant was down).
                self._new_print(file, now)
                return Follow.NEW_PRINT
            return Follow.PRINTING
        if status is None or status in NO_WORD_STATES or status in self.settings.paused_states:
            # Paused, or no word from the printer (e.g. at startup): the print goes on.
            return Follow.HELD
        if self.job.active:  # finished, cancelled or failed: the print is over
            self.job.active = False
            return Follow.ENDED
        return Follow.NO_PRINT

    def _new_print(self, file: str | None, now: datetime) -> None:
        self.detector.new_print()
        self._last_warning_alert = None
        self.job = PrintJob(
            active=True,
            name=file or f"Print started at {now.strftime('%H:%M')}",
            file=file,
            started=now.timestamp(),
        )

    def powered_off(self) -> None:
        """End the print: the printer lost its power, whatever the status says next."""
        self.job.active = False

    def is_current(self, started: float | None) -> bool:
        """Return True while the print that started at `started` is still on."""
        return self.job.active and self.job.started == started

    # --- the frames ------------------------------------------------------------------

    def frame(self, score: float, now: float, wall: float, *, warning_alerts: bool) -> Judgement:
        """Feed a frame's score to the detector and judge its verdict (see `judge`)."""
        sensitivity = self.settings.sensitivity
        verdict = self.detector.add_frame(score, sensitivity)
        return self.judge(
            verdict,
            self.detector.probability(sensitivity),
            now,
            wall,
            warning_alerts=warning_alerts,
        )

    def judge(
        self, verdict: str, probability: float, now: float, wall: float, *, warning_alerts: bool
    ) -> Judgement:
        """Decide what a verdict asks for; `now` is monotonic, `wall` the wall clock.

        The first failure of a print acts (once, and not once ignored); a warning
        alerts when `warning_alerts` is on and the last warning alert is older than
        the cooldown. While the print is held (grace, snooze) neither happens.
        """
        changed = verdict != self.job.verdict
        self.job.verdict, self.job.probability = verdict, probability
        do = Do.NOTHING
        if self.held(wall):
            return Judgement(verdict, probability, changed, do)
        if verdict == FAILURE and not self.job.acted and not self.job.ignored:
            self.job.acted = self.job.failure = True
            do = Do.ACT
        elif verdict == WARNING and warning_alerts and self._warning_due(now):
            self._last_warning_alert = now
            do = Do.WARN
        return Judgement(verdict, probability, changed, do)

    # --- holds: grace and snooze ------------------------------------------------------

    def hold_ends(self, wall: float) -> float | None:
        """Return when the print's hold (grace, snooze) ends (None: not held now)."""
        ends = [
            end
            for end in (
                self.job.snoozed_until,
                None
                if self.job.started is None or not self.settings.grace_minutes
                else self.job.started + self.settings.grace_minutes * 60,
            )
            if end is not None and end > wall
        ]
        return max(ends) if self.job.active and ends else None

    def held(self, wall: float) -> bool:
        """Return True while the print is in its grace period or snoozed."""
        return self.hold_ends(wall) is not None

    def reconsider(self, now: float, wall: float) -> Judgement | None:
        """Judge the last verdict again once a hold ended (None: nothing to judge).

        A failure that is still the verdict acts now, without waiting for a frame.
        """
        if not self.detecting or not self.job.active or self.job.verdict is None:
            return None
        if self.job.probability is None or self.held(wall):
            return None
        return self.judge(self.job.verdict, self.job.probability, now, wall, warning_alerts=False)

    def snooze(self, minutes: float, wall: float) -> bool:
        """Snooze this print's actions for `minutes` (0: end the snooze); False: no print."""
        if not self.job.active:
            return False
        self.job.snoozed_until = wall + minutes * 60 if minutes > 0 else None
        return True

    def set_detecting(self, on: bool) -> bool:
        """Switch detection on or off; return True when that changed it."""
        if on == self.detecting:
            return False
        self.detecting = on
        if on and self.job.active:
            # Frames from before the gap must not make a verdict: this print's
            # smoothing starts over (the learned baseline stays).
            self.detector.new_print()
            self.job.verdict = self.job.probability = None
        return True

    def _warning_due(self, now: float) -> bool:
        last = self._last_warning_alert
        return last is None or now - last >= WARNING_ALERT_COOLDOWN_SEC

    # --- the alerts and their buttons ------------------------------------------------

    def button(self, what: str) -> str:
        """Return a notification button's id, bound to this printer and print."""
        started = self.job.started or 0
        return f"{DOMAIN.upper()}_{what}_{self.subentry_id}_{started * 1000:.0f}"

    def press(self, action: object, wall: float) -> str | None:
        """Take a pressed notification button's id; return PAUSE, IGNORE, SNOOZE or None.

        Buttons of another printer or of an earlier print answer None: their ids
        carry the print's start. PAUSE only while the print is on; IGNORE dismisses
        the failure (and stops the action from running in this print); SNOOZE holds
        the print's actions for SNOOZE_BUTTON_MINUTES.
        """
        if action == self.button(PAUSE) and self.job.active:
            return PAUSE
        if action == self.button(IGNORE):
            self.job.ignored, self.job.failure = True, False
            return IGNORE
        if action == self.button(SNOOZE) and self.snooze(SNOOZE_BUTTON_MINUTES, wall):
            return SNOOZE
        return None
