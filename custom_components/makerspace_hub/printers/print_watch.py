"""One printer's watch over its prints (pure: no Home Assistant imports).

Owns what a print is and what to do about it; the glue (`printer.py`) feeds it the
status entity's state, the time and each frame's score, and does what it answers:

- the print lifecycle: a print starts when the status enters a printing state from
  one that is neither printing nor paused (or when the printed file changes); pausing
  and resuming, and no word from the printer, are the same print; any other status
  ends it (`PrintWatch.follow`);
- act once, ignore: the first `failure` verdict of a print runs the printer's action,
  never a second time, and never after an admin ignored the alert (`PrintWatch.judge`);
- the warning-alert cooldown: at most one warning alert per WARNING_ALERT_COOLDOWN_SEC;
- the notification buttons: ids bound to the printer and the print they were sent
  for, so the buttons of an earlier print do nothing (`PrintWatch.press`);
- the alerts' words, and the detection state the printer's sensor shows;
- the printer's recent health: camera errors and the frames that were not plain safe.
"""

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from ..const import DOMAIN, PRINTER_ACTION_NOTIFY
from ..validation import InvalidConfigError, read_bool, read_optional_float, read_optional_text
from .detector import FAILURE, SAFE, WARMING_UP, WARNING, FailureDetector
from .settings import PrinterSettings

WARNING_ALERT_COOLDOWN_SEC = 90.0
HISTORY_LENGTH = 50
# Where printer integrations put the printed file's name on their status entity.
PRINT_NAME_ATTRIBUTES = ("filename", "file_name", "file", "job_name", "print_name", "task_name")
# Home Assistant's STATE_UNAVAILABLE and STATE_UNKNOWN: no word from the printer.
NO_WORD_STATES = ("unavailable", "unknown")

# The detection state while there is no print to judge (the sensor's "idle": the
# value is shown to users and translated, so it stays).
NOT_PRINTING = "idle"
DETECTION_STATES = (NOT_PRINTING, WARMING_UP, SAFE, WARNING, FAILURE)

# The notification buttons.
PAUSE = "PAUSE"
IGNORE = "IGNORE"


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


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert to send: its kind, words and notification buttons."""

    key: str
    title: str
    message: str
    actions: list[dict[str, str]] | None


@dataclass(slots=True)
class Frame:
    """One analysed frame that was not plain safe (for diagnostics)."""

    at: datetime
    score: float
    verdict: str
    probability: float

    def as_dict(self) -> dict[str, Any]:
        """Return the frame as diagnostics show it."""
        return {
            "at": self.at.isoformat(),
            "score": self.score,
            "verdict": self.verdict,
            "probability": self.probability,
        }


@dataclass(slots=True)
class PrinterHealth:
    """What went wrong lately."""

    camera_errors: int = 0
    camera_failing: bool = False
    last_error: str | None = None
    history: deque[Frame] = field(default_factory=lambda: deque(maxlen=HISTORY_LENGTH))

    def camera_failed(self, error: str) -> bool:
        """Count a snapshot that failed; return True when the camera just began failing."""
        self.camera_errors += 1
        self.last_error = f"camera: {error}"
        began = not self.camera_failing
        self.camera_failing = True
        return began

    def camera_works(self) -> bool:
        """Take a good snapshot; return True when the camera just stopped failing."""
        ended = self.camera_failing
        self.camera_failing = False
        return ended


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
    ) -> None:
        """Watch the printer of `settings` (its subentry binds the buttons)."""
        self.settings = settings
        self.subentry_id = subentry_id
        self.job = job if job is not None else PrintJob()
        self.detector = detector if detector is not None else FailureDetector()
        self._last_warning_alert: float | None = None

    @classmethod
    def restore(
        cls, settings: PrinterSettings, subentry_id: str, saved: Mapping[str, Any]
    ) -> "PrintWatch":
        """Take up the saved baseline and print; raise ValueError when unusable."""
        return cls(
            settings,
            subentry_id,
            job=PrintJob.from_dict(saved.get("print", {})),
            detector=FailureDetector.from_dict(saved.get("detector", {})),
        )

    def as_saved(self) -> dict[str, Any]:
        """Return the baseline and print to save."""
        return {"detector": self.detector.as_dict(), "print": self.job.as_dict()}

    @property
    def detection_state(self) -> str:
        """Return idle (NOT_PRINTING), warming_up, safe, warning or failure."""
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

    def frame(self, score: float, now: float, *, warning_alerts: bool) -> Judgement:
        """Feed a frame's score to the detector and judge its verdict (see `judge`)."""
        sensitivity = self.settings.sensitivity
        verdict = self.detector.add_frame(score, sensitivity)
        return self.judge(
            verdict, self.detector.probability(sensitivity), now, warning_alerts=warning_alerts
        )

    def judge(
        self, verdict: str, probability: float, now: float, *, warning_alerts: bool
    ) -> Judgement:
        """Decide what a verdict asks for; `now` is a monotonic clock in seconds.

        The first failure of a print acts (once, and not once ignored); a warning
        alerts when `warning_alerts` is on and the last warning alert is older than
        the cooldown.
        """
        changed = verdict != self.job.verdict
        self.job.verdict, self.job.probability = verdict, probability
        do = Do.NOTHING
        if verdict == FAILURE and not self.job.acted and not self.job.ignored:
            self.job.acted = self.job.failure = True
            do = Do.ACT
        elif verdict == WARNING and warning_alerts and self._warning_due(now):
            self._last_warning_alert = now
            do = Do.WARN
        return Judgement(verdict, probability, changed, do)

    def _warning_due(self, now: float) -> bool:
        last = self._last_warning_alert
        return last is None or now - last >= WARNING_ALERT_COOLDOWN_SEC

    # --- the alerts and their buttons ------------------------------------------------

    def button(self, what: str) -> str:
        """Return a notification button's id, bound to this printer and print."""
        started = self.job.started or 0
        return f"{DOMAIN.upper()}_{what}_{self.subentry_id}_{started * 1000:.0f}"

    def press(self, action: object) -> str | None:
        """Take a pressed notification button's id; return PAUSE, IGNORE or None.

        Buttons of another printer or of an earlier print answer None: their ids
        carry the print's start. PAUSE only while the print is on; IGNORE dismisses
        the failure (and stops the action from running in this print).
        """
        if action == self.button(PAUSE) and self.job.active:
            return PAUSE
        if action == self.button(IGNORE):
            self.job.ignored, self.job.failure = True, False
            return IGNORE
        return None

    def failure_alert(self, probability: float, done: str | None) -> Alert:
        """Return the failure alert, saying what the action did (None: it only notifies)."""
        name = self.settings.name
        actions = [{"action": self.button(IGNORE), "title": "Ignore"}]
        if self.settings.action == PRINTER_ACTION_NOTIFY and self.settings.pause_entity:
            actions.insert(0, {"action": self.button(PAUSE), "title": "Pause print"})
        return Alert(
            "failure",
            f"{name} may be failing",
            f"{self.job.name} on {name}: failure probability {probability * 100:.0f} %."
            + (f" {done}" if done is not None else ""),
            actions,
        )

    def warning_alert(self, probability: float) -> Alert:
        """Return the warning alert (no buttons: nothing runs on a warning)."""
        name = self.settings.name
        return Alert(
            "warning",
            f"{name} might be failing",
            f"{self.job.name} on {name}: failure probability {probability * 100:.0f} %. "
            "Have a look.",
            None,
        )
