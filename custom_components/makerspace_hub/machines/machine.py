"""One machine in Home Assistant: its state, board posts, admin operations, events.

`Machine` wraps the pure `rules.MachineState`. Every change goes the same way:
operation -> new state -> (write-behind save, Access events, listeners, alerts). A
board's reply is computed from memory; nothing here waits on the disk. An admin's
card enrollment (`enrollment`) waits here, on Home Assistant's timers.
"""

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
import time
from typing import Any, ClassVar

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.util import dt as dt_util

from ..alerts import AlertSender
from ..const import DOMAIN, LOGGER, SUBENTRY_MACHINE
from ..hub_options import HubOptions
from ..issues import async_set_issue
from ..listeners import EventSource
from ..storage.owner_store import OwnerStore
from .alert_texts import alert_text
from .board_protocol import BoardUpdate, LastReply, Reply
from .enrollment import CapturedCard, Enrollment
from .fob_keys import FobKeys
from .members import Members
from .rules import MachineState
from .service import SERVICE_DUE, check_service, lock_before_card, serviced
from .sessions import AccessEvent, AccessRefusedError, Roster
from .settings import MachineSettings
from .state_file import SaveGate

ONLINE_WINDOW = timedelta(seconds=30)
# While the relay is on, the usage sensor moves on this often.
USAGE_TICK = timedelta(minutes=1)
# Events worth an alert when the hub's oops alerts are on, and always.
ALERT_EVENTS = {"oops", "lockout"}
ALWAYS_ALERT = {"guessing", SERVICE_DUE}
STATE_LOST_ISSUE = "machine_state_lost"
# Redacted from the saved state in diagnostics (meant to be shared): the card digest
# and a raw reader value should one ever be saved, and who runs the machine.
DIAGNOSTICS_REDACT = frozenset({"card", "rfid_value", "name", "full_name", "account_id"})


class Machine(EventSource[AccessEvent]):
    """A machine with an RFID board."""

    kind: ClassVar[str] = SUBENTRY_MACHINE  # the Owner protocol: its subentry type

    def __init__(
        self,
        hass: HomeAssistant,
        subentry_id: str,
        settings: MachineSettings,
        store: OwnerStore,
        *,
        keys: FobKeys,
        options: HubOptions,
        members: Callable[[], Members],
        entry_id: str,
    ) -> None:
        """Take the machine's saved state (or defaults) from its store.

        `keys` key its cards, `members` returns who may use it right now, `options`
        are the hub's and `entry_id` names the hub in repair issues.
        """
        super().__init__()
        self.hass = hass
        self.options = options
        self.members = members
        self.entry_id = entry_id
        self.alerts = AlertSender(hass, options, subentry_id)
        self.subentry_id = subentry_id
        self.settings = settings
        self.store = store
        self.state = MachineState()
        self.keys = keys
        self._online_check: CALLBACK_TYPE | None = None
        self._quiet_job = HassJob(self._went_quiet, cancel_on_shutdown=True)  # re-armed often
        self._usage_tick: CALLBACK_TYPE | None = None
        self._usage_hours = 0.0
        self._saves = SaveGate()  # heartbeats that change only readings: every 5 min
        self.last_reply = LastReply()  # the board's reply, encoded (`webhooks`)
        self._state_lost_reported = False
        self._running = True
        self._enrollment = Enrollment()
        self._enrolled: asyncio.Future[CapturedCard] | None = None  # an action waits

    async def async_load(self) -> None:
        """Read the saved state; a state that cannot be used locks the machine out.

        Whether the machine was oopsed or locked out for maintenance is then unknown:
        it starts locked out ("state lost") until an admin has checked and unlocks it.
        """
        data = self.store.data
        if data:
            try:
                self.state = MachineState.from_dict(data)
            except (TypeError, ValueError) as err:
                await self.store.async_set_aside(str(err))
                self.state = MachineState.lost()
        elif self.store.load_problem is not None:
            self.state = MachineState.lost()
        if self.state.state_lost:
            LOGGER.error("%s starts locked out: its saved state could not be used", self.name)
        # Members may have changed while Home Assistant was down, and the settings
        # with a reconfigure (e.g. always_enabled switched off): judge again.
        self.async_recheck()
        self._refresh_usage()
        if (last := self.state.last_checkin) is not None:
            self._expect_quiet(last + ONLINE_WINDOW.total_seconds() - time.time())

    @callback
    def async_start(self) -> None:
        """Nothing to start: the board drives the machine, the load started its timers."""

    @callback
    def async_stop(self) -> None:
        """Stop the timers and take no more board posts; keep the newest readings."""
        self._running = False
        for stop in (self._online_check, self._usage_tick):
            if stop is not None:
                stop()
        self._online_check = self._usage_tick = None
        self._end_enrollment(AccessRefusedError("enroll_stopped"))
        self._save(force=True)

    # --- what entities read ----------------------------------------------------------

    @property
    def name(self) -> str:
        """Return the board's name."""
        return self.settings.name

    @property
    def reply(self) -> Reply:
        """Return what the board is told now."""
        return self._enrollment.reply(self.state, self.settings)

    @property
    def online(self) -> bool:
        """Return True when the board posted within the last 30 s."""
        last = self.state.last_checkin
        return last is not None and time.time() - last <= ONLINE_WINDOW.total_seconds()

    @property
    def usage_hours(self) -> float:
        """Return the hours the relay was on, as of the last session change or minute."""
        return self._usage_hours

    @property
    def last_checkin(self) -> datetime | None:
        """Return when the board last posted."""
        last = self.state.last_checkin
        return None if last is None else dt_util.utc_from_timestamp(last)

    def diagnostics(self) -> dict[str, Any]:
        """Return what the machine is doing, without secrets or members' personal data."""
        return {
            "name": self.name,
            "online": self.online,
            # The display greets the member by name: redacted like the session.
            "reply": replace(self.reply, name=REDACTED).as_json(),
            "card": self.state.card_tag,
            "state": async_redact_data(self.state.as_dict(), DIAGNOSTICS_REDACT),
            "save_timeouts": self.store.save_timeouts,
            "store_error": self.store.last_error,
        }

    def matches(self, name_or_alias: str) -> bool:
        """Return True for the machine's name or alias, ignoring case."""
        wanted = name_or_alias.strip().casefold()
        names = {self.settings.name.casefold()}
        if self.settings.alias:
            names.add(self.settings.alias.casefold())
        return bool(wanted) and wanted in names

    # --- changes ---------------------------------------------------------------------

    def _roster(self) -> Roster:
        return Roster(
            self.members(),
            dt_util.now().date(),
            self.options.expiry_grace_days,
            self.keys,
        )

    @callback
    def async_handle_update(self, update: BoardUpdate) -> Reply:
        """Apply a board's post and return its reply, from memory."""
        if self._running:
            now, digest = time.time(), self.keys.digest(update.fob) if update.fob else None
            early = lock_before_card(self.state, self.settings, digest, now)
            events, card = self._enrollment.apply_update(
                self.state, update, self.settings, self._roster(), now
            )
            if card is not None:
                self._end_enrollment(card)
            self._commit([*early, *events])
            if self._online_check is None:  # else the armed check looks at this post
                self._expect_quiet(ONLINE_WINDOW.total_seconds())
        return self.reply

    @callback
    def _expect_quiet(self, seconds: float) -> None:
        """Re-evaluate Online once the board may have been silent for the window.

        One timer per window, not one per post: re-arming on every heartbeat would
        leave garbage for Home Assistant's whole process to collect.
        """
        if self._online_check is not None:
            self._online_check()
        self._online_check = async_call_later(self.hass, max(seconds, 0) + 1, self._quiet_job)

    @callback
    def _went_quiet(self, _now: Any) -> None:
        self._online_check = None
        last = self.state.last_checkin
        if last is not None and (left := last + ONLINE_WINDOW.total_seconds() - time.time()) > 0:
            self._expect_quiet(left)  # it posted since: look again when that post is old
            return
        self._notify()

    @callback
    def async_set_flags(
        self,
        *,
        oopsed: bool | None = None,
        locked_out: bool | None = None,
        reason: str | None = None,
    ) -> None:
        """Oops, unoops, lock out (with a reason to show) or unlock as a Home Assistant admin."""
        flags = self.state.set_flags
        self._commit(
            flags(self.settings, time.time(), oopsed=oopsed, locked_out=locked_out, reason=reason)
        )

    @callback
    def async_serviced(self) -> None:
        """Start a new service interval (a lockout stays until an admin unlocks)."""
        self._commit(serviced(self.state, time.time()))

    @callback
    def async_remote_enable(self, user_name: str) -> None:
        """Switch the relay on without a card (refused while oopsed or locked out)."""
        try:
            events = self.state.remote_enable(self.settings, user_name, time.time())
        except AccessRefusedError as err:
            raise self._refused(err) from err
        self._commit(events)

    @callback
    def async_end_session(self) -> None:
        """Switch the relay off; the card must be presented again."""
        try:
            events = self.state.end_session(self.settings, time.time())
        except AccessRefusedError as err:
            raise self._refused(err) from err
        self._commit(events)

    @callback
    def async_told_relay_off(self, reason: str) -> None:
        """Take note that the board was told relay off while this machine was not running."""
        self._commit(self.state.told_relay_off(self.settings, time.time(), reason))

    @callback
    def async_recheck(self) -> None:
        """Re-judge the running session (members reloaded, a new day)."""
        if not self._running:
            return
        self._commit(self.state.recheck(self.settings, self._roster(), time.time()))

    async def async_enroll(self, seconds: float) -> CapturedCard:
        """Capture the next card presented within `seconds`, or raise a translated error."""
        stopped = not self._running or self.hass.is_stopping
        try:
            self._enrollment.start(self.state, self.settings, stopped=stopped)
        except AccessRefusedError as err:
            raise self._refused(err) from err
        enrolled: asyncio.Future[CapturedCard] = self.hass.loop.create_future()
        self._enrolled = enrolled
        timed_out = partial(self._end_enrollment, AccessRefusedError("enroll_timeout"))
        stopping = partial(self._end_enrollment, AccessRefusedError("enroll_stopped"))
        cancels = (
            async_call_later(self.hass, seconds, HassJob(timed_out, cancel_on_shutdown=True)),
            self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, stopping),
        )
        self._notify()
        try:
            return await enrolled
        finally:
            for cancel in cancels:
                cancel()
            if self._enrolled is enrolled:  # the caller went away: stop waiting
                self._end_enrollment(AccessRefusedError("enroll_stopped"))

    @callback
    def _end_enrollment(self, outcome: CapturedCard | AccessRefusedError, *_: Any) -> None:
        """Answer the waiting action with the card captured, or end the enrollment."""
        enrolled, self._enrolled = self._enrolled, None
        if isinstance(outcome, AccessRefusedError) and self._enrollment.end():
            self._notify()  # the board's usual display again
        if enrolled is not None and not enrolled.done():
            if isinstance(outcome, CapturedCard):
                LOGGER.info("%s: card %s captured for enrollment", self.name, outcome.fob_tag)
                enrolled.set_result(outcome)
            else:
                enrolled.set_exception(self._refused(outcome))

    def _refused(self, err: AccessRefusedError) -> ServiceValidationError:
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.reason,
            translation_placeholders={"machine": self.settings.display_name},
        )

    @callback
    def _save(self, *, force: bool = False) -> None:
        if self._saves.due(*self.state.save_keys(), time.monotonic(), force=force):
            self.store.save(self.state.as_dict())

    @callback
    def _commit(self, events: list[AccessEvent]) -> None:
        events = [*events, *check_service(self.state, self.settings, time.time())]
        self._save()
        self._update_state_lost_issue()
        if events or self.state.relay_on_since is None:
            # Running hours move with the minute tick, not with every heartbeat.
            self._refresh_usage()
        for event in events:
            LOGGER.debug(
                "%s: %s %s %s", self.name, event.type, event.member or "", event.reason or ""
            )
            self._emit(event)
            if event.type in ALWAYS_ALERT or (
                event.type in ALERT_EVENTS and self.options.oops_alerts
            ):
                self._alert(event)
        if self.state.relay_on_since is not None and self._usage_tick is None:
            self._usage_tick = async_track_time_interval(
                self.hass, self._tick, USAGE_TICK, cancel_on_shutdown=True
            )
        elif self.state.relay_on_since is None and self._usage_tick is not None:
            self._usage_tick()
            self._usage_tick = None
        if (refused := self._enrollment.over(self.state, self.settings, events)) is not None:
            # An oops, a lockout or a relay that came on; captured, nobody waits.
            self._end_enrollment(refused)
        self._notify()

    @callback
    def _tick(self, _now: Any) -> None:
        self._refresh_usage()
        self._commit([])  # a service may come due while the relay is on

    def _refresh_usage(self) -> None:
        self._usage_hours = round(self.state.usage_hours(time.time()), 3)

    @callback
    def _update_state_lost_issue(self) -> None:
        lost = self.state.state_lost
        if lost == self._state_lost_reported:
            return
        self._state_lost_reported = lost
        async_set_issue(
            self.hass,
            f"{STATE_LOST_ISSUE}_{self.entry_id}_{self.subentry_id}",
            STATE_LOST_ISSUE,
            {"machine": self.settings.display_name, "file": str(self.store.path)} if lost else None,
        )

    @callback
    def _alert(self, event: AccessEvent) -> None:
        self.alerts.async_send_soon(event.type, *alert_text(event, self.settings))
