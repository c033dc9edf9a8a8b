"""Enrolling a card at a machine's board: what the board is told, which card is captured.

Pure Python. While an admin's `enroll_card` waits (`Enrollment`, waiting), the board
shows ENROLL_WAITING with its relay off. The next card *presented* there is captured:
a card arriving, not the card already in the reader when enrollment started, not one
whose presence is unknown (a board never heard from, told relay off, or rebooted in
the same post). A captured card is never judged: no login, no refusal event, no count
towards fob guessing. The rules take it as the card in the reader before they see the
post, so to them the post is a heartbeat; like a card after a relay-off it is not
fresh, and must be taken out and presented again to log in. The board shows
CARD_CAPTURED until it is taken out, then whatever the rules say. The capture is
recorded as a CARD_ENROLLED Access event (the card's keyed tag and its member, if
any; never the code), which is no login and changes no session.

Enrollment never powers anything and never ends someone's work: it starts only while
the relay is off (else `machine_in_use`), and it overrides the display of a relay-off
reply only. Should the relay come on while it waits (an admin's remote enable), the
enrollment is `over`, for the same reason. One enrollment waits at a machine at a time.

Oops and lockout screens win: an Oops pressed at the board, or an oops or lockout
raised (by the board, an admin or a service interval) while an enrollment waits or
shows CARD_CAPTURED, ends it (`enroll_oopsed`); a card in that same post is judged by
the rules, not captured. An enrollment may start on a machine that is already oopsed
or locked out: its relay is off anyway, the Oops LED stays on, and the flag's screen
is back once the enrollment ends. Refusing it would push an admin to unlock a machine
(making it usable to members) just to enroll a card at its reader.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .board_protocol import CARD_CAPTURED, ENROLL_WAITING, BoardUpdate, Reply
from .rules import MachineState
from .sessions import CARD_UNKNOWN, HOME_ASSISTANT, AccessEvent, AccessRefusedError, Roster
from .settings import MachineSettings

CARD_ENROLLED = "card_enrolled"
# Access events that raise a flag whose screen an enrollment must not hide.
FLAG_RAISED = frozenset({"oops", "lockout"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CapturedCard:
    """The card an enrollment captured, and whose it already is (if anyone's)."""

    fob_code: str = field(repr=False)  # the one place a full code exists: never logged
    fob_tag: str
    full_name: str | None = None
    account_id: str | None = None

    def response(self) -> dict[str, Any]:
        """Return the action's response: the code, its tag and its member or None."""
        member = (
            None
            if self.account_id is None
            else {"full_name": self.full_name, "account_id": self.account_id}
        )
        return {"fob_code": self.fob_code, "fob_tag": self.fob_tag, "member": member}

    def event(self) -> AccessEvent:
        """Return the Access event that records the capture: the tag, never the code."""
        return AccessEvent(
            type=CARD_ENROLLED,
            source=HOME_ASSISTANT,
            member=self.full_name,
            account_id=self.account_id,
            fob=self.fob_tag,
        )


@dataclass(slots=True)
class Enrollment:
    """A machine's card enrollment: none, waiting for a card, or showing it captured."""

    waiting: bool = False
    captured: str | None = None  # the captured card's digest, while it is in the reader
    oops_pressed: bool = False  # the board reported Oops meanwhile: `over`

    @property
    def active(self) -> bool:
        """Return True while waiting for a card or showing the captured one."""
        return self.waiting or self.captured is not None

    def start(self, state: MachineState, settings: MachineSettings, *, stopped: bool) -> None:
        """Start waiting, unless the machine is stopped, in use or enrolling already.

        The reason it cannot start is an AccessRefusedError's translation key.
        """
        if stopped:
            raise AccessRefusedError("enroll_stopped")
        if self.waiting:
            raise AccessRefusedError("enroll_busy")
        if state.relay(settings) or state.session is not None:
            # A session (even one whose relay is off, e.g. while throttled) belongs
            # to its card: a capture must never leave it tied to another card.
            raise AccessRefusedError("machine_in_use")
        self.waiting, self.captured, self.oops_pressed = True, None, False

    def end(self) -> bool:
        """Show the board the rules' display again; return True if that changes it."""
        active = self.active
        self.waiting, self.captured, self.oops_pressed = False, None, False
        return active

    def apply_update(
        self,
        state: MachineState,
        update: BoardUpdate,
        settings: MachineSettings,
        roster: Roster,
        now: float,
    ) -> tuple[list[AccessEvent], CapturedCard | None]:
        """Apply a board's post to `state`; return its events and the card captured."""
        fob = update.fob
        if update.oops and self.active:
            self.oops_pressed = True  # the enrollment is `over`: no capture in this post
        if not self.waiting or self.oops_pressed or fob is None or state.session is not None:
            return state.apply_update(update, settings, roster, now), None
        digest = roster.keys.digest(fob)
        if state.card in (CARD_UNKNOWN, digest):
            # Unknown: it may have been in the reader all along. The same: still there.
            return state.apply_update(update, settings, roster, now), None
        tag = roster.keys.tag(fob)
        state.card, state.card_tag, state.card_since = digest, tag, now
        state.last_fob, state.notice = tag, None
        events = state.apply_update(update, settings, roster, now)
        if any(event.type == "reboot" for event in events):
            # The board rebooted: its card was not presented since (the rules took it
            # as unknown, not judged), so it is no enrollment either.
            return events, None
        self.waiting, self.captured = False, digest
        member = roster.by_fob(fob)
        card = CapturedCard(
            fob_code=fob,
            fob_tag=tag,
            full_name=None if member is None else member.full_name,
            account_id=None if member is None else member.account_id,
        )
        return [*events, card.event()], card

    def reply(self, state: MachineState, settings: MachineSettings) -> Reply:
        """Return what the board is told: the rules' reply, with this display if off."""
        reply = state.reply(settings)
        if reply.relay or self.oops_pressed:
            return reply  # the enrollment is `over`
        if self.waiting:
            return replace(reply, screen=ENROLL_WAITING, name="")
        if self.captured is not None and state.card == self.captured:
            return replace(reply, screen=CARD_CAPTURED, name="")
        return reply

    def over(
        self, state: MachineState, settings: MachineSettings, events: Iterable[AccessEvent] = ()
    ) -> AccessRefusedError | None:
        """Return why the enrollment must end after the change that caused `events`.

        None: it need not. An Oops pressed, or an oops or lockout raised: its screen
        must show. The relay came on. The captured card went (nobody waits then: the
        reason goes unread).
        """
        if not self.active:
            return None
        if self.oops_pressed or any(event.type in FLAG_RAISED for event in events):
            return AccessRefusedError("enroll_oopsed")
        if state.relay(settings) or (not self.waiting and state.card != self.captured):
            return AccessRefusedError("machine_in_use")
        return None
