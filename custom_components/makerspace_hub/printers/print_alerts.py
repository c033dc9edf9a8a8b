"""The words of a printer's alerts, and their notification buttons (pure).

`failure_alert` says what the printer's action did, offers *Pause print* (when
the action only notified), *Not a failure* and *Snooze*, and links the failure's
picture; `warning_alert` has no buttons: nothing runs on a warning. The buttons'
ids come from `PrintWatch.button`, bound to the printer and the print they were
sent for. The words are phrases of translations/<language>.json
(`exceptions.alert_print_*`), rendered by the printer's `AlertSender`.
"""

from dataclasses import dataclass

from ..alert_words import Button, Phrase, phrase
from ..const import PRINTER_ACTION_NOTIFY
from .print_watch import IGNORE, PAUSE, SNOOZE, SNOOZE_BUTTON_MINUTES, PrintWatch


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert to send: its kind, words and notification buttons."""

    key: str
    title: Phrase
    message: list[Phrase]  # whole sentences
    buttons: list[Button]
    image: str | None = None  # a link to the alert's picture


def failure_alert(
    watch: PrintWatch, probability: float, done: list[Phrase], image: str | None = None
) -> Alert:
    """Return the failure alert, saying what the action did (`done`: nothing when it notifies).

    `image` links the picture of the failure (None: the alert goes without one).
    """
    name = watch.settings.name
    buttons = [
        Button(watch.button(IGNORE), phrase("alert_print_button_not_a_failure")),
        Button(
            watch.button(SNOOZE),
            phrase("alert_print_button_snooze", minutes=SNOOZE_BUTTON_MINUTES),
        ),
    ]
    if watch.settings.action == PRINTER_ACTION_NOTIFY and watch.settings.pause_entity:
        buttons.insert(0, Button(watch.button(PAUSE), phrase("alert_print_button_pause")))
    return Alert(
        "failure",
        phrase("alert_print_failure_title", printer=name),
        [_probability("alert_print_failure_message", watch, probability), *done],
        buttons,
        image,
    )


def warning_alert(watch: PrintWatch, probability: float) -> Alert:
    """Return the warning alert (no buttons: nothing runs on a warning)."""
    return Alert(
        "warning",
        phrase("alert_print_warning_title", printer=watch.settings.name),
        [_probability("alert_print_warning_message", watch, probability)],
        [],
    )


def _probability(key: str, watch: PrintWatch, probability: float) -> Phrase:
    return phrase(
        key,
        job=watch.job.name,
        printer=watch.settings.name,
        probability=f"{probability * 100:.0f}",
    )
