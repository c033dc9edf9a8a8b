"""What a machine's alerts say: title and message per Access event (pure).

The machine (`machine`) decides which events are sent and sends them through its
`AlertSender`; here is only their text, which names the machine and never a fob.
"""

from .rules import GUESS_LIMIT, GUESS_LOCK_SEC, GUESS_WINDOW_SEC
from .service import SERVICE_DUE
from .sessions import AccessEvent
from .settings import MachineSettings


def alert_text(event: AccessEvent, settings: MachineSettings) -> tuple[str, str]:
    """Return the title and message of the alert for `event` (guessing, service, flags)."""
    name = settings.display_name
    if event.type == SERVICE_DUE:
        then = (
            " It locks out when the running session ends (now, if none runs)."
            if settings.lock_out_when_service_due
            else ""
        )
        hours = settings.service_interval_hours
        return f"{name} is due for service", (
            f"{name} ran its {hours} h service interval.{then} "
            "Press its Serviced button once it has been serviced."
        )
    if event.type == "guessing":
        return f"{name}: someone may be guessing fob codes", (
            f"More than {GUESS_LIMIT} unknown cards were presented at {name} within "
            f"{GUESS_WINDOW_SEC:.0f} s. Its board refuses every card for "
            f"{GUESS_LOCK_SEC / 60:.0f} minutes (an admin's Clear ends that early)."
        )
    what = "was oopsed" if event.type == "oops" else "was locked out"
    by = f" (in use by {event.member})" if event.member else ""
    return f"{name} {what}", f"{name} {what}{by}. It stays off until an admin clears it."
