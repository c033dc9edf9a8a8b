"""The words of a printer's alerts, and their notification buttons (pure).

`failure_alert` says what the printer's action did, offers *Pause print* (when
the action only notified), *Not a failure* and *Snooze*, and links the failure's
picture; `warning_alert` has no buttons: nothing runs on a warning. The buttons'
ids come from `PrintWatch.button`, bound to the printer and the print they were
sent for.
"""

from dataclasses import dataclass

from ..const import PRINTER_ACTION_NOTIFY
from .print_watch import IGNORE, PAUSE, SNOOZE, SNOOZE_BUTTON_MINUTES, PrintWatch


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert to send: its kind, words and notification buttons."""

    key: str
    title: str
    message: str
    actions: list[dict[str, str]] | None
    image: str | None = None  # a link to the alert's picture


def failure_alert(
    watch: PrintWatch, probability: float, done: str | None, image: str | None = None
) -> Alert:
    """Return the failure alert, saying what the action did (None: it only notifies).

    `image` links the picture of the failure (None: the alert goes without one).
    """
    name = watch.settings.name
    actions = [
        {"action": watch.button(IGNORE), "title": "Not a failure"},
        {"action": watch.button(SNOOZE), "title": f"Snooze {SNOOZE_BUTTON_MINUTES} min"},
    ]
    if watch.settings.action == PRINTER_ACTION_NOTIFY and watch.settings.pause_entity:
        actions.insert(0, {"action": watch.button(PAUSE), "title": "Pause print"})
    return Alert(
        "failure",
        f"{name} may be failing",
        f"{watch.job.name} on {name}: failure probability {probability * 100:.0f} %."
        + (f" {done}" if done is not None else ""),
        actions,
        image,
    )


def warning_alert(watch: PrintWatch, probability: float) -> Alert:
    """Return the warning alert (no buttons: nothing runs on a warning)."""
    name = watch.settings.name
    return Alert(
        "warning",
        f"{name} might be failing",
        f"{watch.job.name} on {name}: failure probability {probability * 100:.0f} %. Have a look.",
        None,
    )
