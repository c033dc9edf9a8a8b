"""What a machine's alerts say: title and message per Access event (pure).

The machine (`machine`) decides which events are sent and sends them through its
`AlertSender`; here is only what they say, as phrases of translations/<language>.json
(`exceptions.alert_machine_*`), which name the machine and never a fob.
"""

from ..alert_words import Phrase, phrase
from .rules import GUESS_LIMIT, GUESS_LOCK_SEC, GUESS_WINDOW_SEC
from .service import SERVICE_DUE
from .sessions import AccessEvent
from .settings import MachineSettings


def alert_text(event: AccessEvent, settings: MachineSettings) -> tuple[Phrase, Phrase]:
    """Return the title and message of the alert for `event` (guessing, service, flags)."""
    name = settings.display_name
    if event.type == SERVICE_DUE:
        # Two whole sentences rather than an optional fragment: a translation may
        # need to put "it locks out" elsewhere in the sentence.
        locks = "_lock" if settings.lock_out_when_service_due else ""
        return phrase("alert_machine_service_due_title", machine=name), phrase(
            f"alert_machine_service_due{locks}_message",
            machine=name,
            hours=settings.service_interval_hours,
        )
    if event.type == "guessing":
        return phrase("alert_machine_guessing_title", machine=name), phrase(
            "alert_machine_guessing_message",
            machine=name,
            limit=GUESS_LIMIT,
            seconds=f"{GUESS_WINDOW_SEC:.0f}",
            minutes=f"{GUESS_LOCK_SEC / 60:.0f}",
        )
    flag = "oops" if event.type == "oops" else "lockout"
    title = phrase(f"alert_machine_{flag}_title", machine=name)
    if event.member:
        return title, phrase(
            f"alert_machine_{flag}_by_member_message", machine=name, member=event.member
        )
    return title, phrase(f"alert_machine_{flag}_message", machine=name)
