"""One 3D printer in Home Assistant: the glue around its `PrintWatch`.

Owns the printer's life in Home Assistant: it follows the status entity and the
notification buttons, takes a camera snapshot every `poll_interval` seconds while a
print is on (`poller`), has the ML service score it, keeps what it saw
(`pictures`), and does what the pure `PrintWatch` decides (print_watch.py: what a
print is, act once, ignore, the warning cooldown, the button ids): fire events, run
the action (notify, pause, or pause and power off) and send the alert once the
action is done, saying what actually happened, with the failure's picture.
"""

import asyncio
from collections.abc import Coroutine
import time
from typing import Any, ClassVar

from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HassJob,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
)
from homeassistant.util import dt as dt_util

from ..alert_words import Phrase
from ..alerts import AlertSender
from ..const import (
    DOMAIN,
    LOGGER,
    PRINTER_ACTION_NOTIFY,
    SUBENTRY_PRINTER,
)
from ..hub_options import HubOptions
from ..listeners import EventSource
from ..storage.owner_store import OwnerStore
from .detector import SAFE, FailureDetector
from .health import Frame, PrinterHealth
from .ml_api import MlApiError
from .ml_service import MLService
from .pictures import ALERT_PICTURE_TIMEOUT_SEC, PrinterPictures
from .poller import FramePoller
from .print_alerts import Alert, failure_alert, warning_alert
from .print_watch import (
    IGNORE,
    PAUSE,
    SNOOZE,
    SNOOZE_BUTTON_MINUTES,
    Do,
    Follow,
    Judgement,
    PrintJob,
    PrintWatch,
    print_file,
)
from .printer_controls import PrinterControls
from .settings import PrinterSettings

# A frame changes the baseline a little; it is saved at most this often.
FRAME_SAVE_INTERVAL_SEC = 60.0
NOTIFICATION_ACTION_EVENT = "mobile_app_notification_action"


class Printer(EventSource[str, dict[str, Any]]):
    """A printer watched for failures."""

    kind: ClassVar[str] = SUBENTRY_PRINTER  # the Owner protocol: its subentry type

    def __init__(
        self,
        hass: HomeAssistant,
        subentry_id: str,
        settings: PrinterSettings,
        store: OwnerStore,
        *,
        options: HubOptions,
        ml_service: MLService,
    ) -> None:
        """Take the saved baseline and print (or defaults) from `store`.

        Frames are scored by `ml_service`; alerts go out as `options` say.
        """
        super().__init__()
        self.hass = hass
        self.options = options
        self.alerts = AlertSender(hass, options, subentry_id)
        self.subentry_id = subentry_id
        self.settings = settings
        self.store = store
        self.ml_service = ml_service
        self.watch = PrintWatch(settings, subentry_id)
        self.health = PrinterHealth()
        self.controls = PrinterControls(hass, settings, self.health, self._fire)
        self.pictures = PrinterPictures(
            hass, ml_service.entry_id, subentry_id, settings.name, self._notify
        )
        self.stagger_sec = 0.0  # the delay of the first poll (the hub spreads its printers)
        self.poller = FramePoller(hass, settings.poll_interval, self._async_poll, self._background)
        self._stops: list[CALLBACK_TYPE] = []
        self._hold_check: CALLBACK_TYPE | None = None  # when a grace or snooze ends
        self._tasks: set[asyncio.Task[None]] = set()
        self._saved_at = 0.0

    # --- life cycle ------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the saved baseline and print; unusable data is set aside."""
        try:
            self.watch = PrintWatch.restore(self.settings, self.subentry_id, self.store.data or {})
        except ValueError as err:
            await self.store.async_set_aside(str(err))
            self.watch = PrintWatch(self.settings, self.subentry_id)

    @callback
    def async_start(self) -> None:
        """Follow the status entity and the notification buttons."""
        self._stops.append(
            async_track_state_change_event(
                self.hass, [self.settings.status_entity], self._on_status_event
            )
        )
        self._stops.append(
            self.hass.bus.async_listen(NOTIFICATION_ACTION_EVENT, self._on_notification_action)
        )
        self._stops.append(self.ml_service.async_add_listener(self._notify))
        self.pictures.async_start()
        self._follow(self.hass.states.get(self.settings.status_entity))

    @callback
    def async_stop(self) -> None:
        """Stop polling, listening and acting; keep the newest state."""
        self.poller.stop()
        self._arm_hold_check(stop=True)
        while self._stops:
            self._stops.pop()()
        for task in self._tasks:
            task.cancel()
        self._save(force=True)

    # --- what entities read ----------------------------------------------------------

    @property
    def name(self) -> str:
        """Return the printer's name."""
        return self.settings.name

    @property
    def available(self) -> bool:
        """Return True when detection results can be trusted."""
        return self.ml_service.available

    @property
    def job(self) -> PrintJob:
        """Return the print the printer is on (or was last on)."""
        return self.watch.job

    @property
    def detector(self) -> FailureDetector:
        """Return the printer's failure detector (its learned baseline)."""
        return self.watch.detector

    @property
    def detection_state(self) -> str:
        """Return idle (NOT_PRINTING), warming_up, safe, warning or failure."""
        return self.watch.detection_state

    def diagnostics(self) -> dict[str, Any]:
        """Return what the printer is doing, for a diagnostics download."""
        return {
            "name": self.name,
            "available": self.available,
            "detection": self.detection_state,
            "print": self.job.as_dict() | {"verdict": self.job.verdict},
            "detector": self.detector.as_dict(),
            "probability": self.job.probability,
            "camera_errors": self.health.camera_errors,
            "last_error": self.health.last_error,
            "recent_frames": [frame.as_dict() for frame in self.health.history],
        }

    # --- the print -------------------------------------------------------------------

    @callback
    def _on_status_event(self, event: Event[EventStateChangedData]) -> None:
        self._follow(event.data["new_state"])

    @callback
    def _follow(self, state: State | None) -> None:
        step = self.watch.follow(
            state.state if state is not None else None,
            print_file(state.attributes if state is not None else {}),
            dt_util.now(),
        )
        if step is Follow.NEW_PRINT:
            LOGGER.debug("%s: a new print: %s", self.name, self.job.name)
            self._fire("print_started", {})
            self.pictures.new_print()
            self._save(force=True)
        if step.polls and self.watch.detecting and self.ml_service.configured:
            self.poller.start(first_delay=self.stagger_sec)
        else:
            self.poller.stop()
        self._arm_hold_check()
        if step is Follow.ENDED:
            self._save(force=True)
        self._notify()

    async def _async_poll(self) -> None:
        """Take a frame and have it scored and judged."""
        started = self.job.started
        image = await self.controls.async_snapshot()
        self._notify()  # the camera's health may have changed
        if image is None:
            return
        try:
            predicted = await self.ml_service.async_predict(image.content, image.content_type)
        except MlApiError:
            self._notify()  # the service logged it and marks detection unavailable
            return
        # The print may have ended, or another begun, while the frame was scored.
        if self.watch.is_current(started) and self.poller.polling:
            self.pictures.scored(image.content, predicted.detections)
            self._analyse(predicted.score)

    @callback
    def _analyse(self, score: float) -> None:
        judged = self.watch.frame(
            score, time.monotonic(), time.time(), warning_alerts=self.options.print_warning_alerts
        )
        if judged.verdict != SAFE:
            self.health.history.append(
                Frame(dt_util.utcnow(), score, judged.verdict, judged.probability)
            )
        self._do(judged)

    @callback
    def _do(self, judged: Judgement) -> None:
        """Do what a judged verdict asks for; save and tell the entities."""
        if judged.do is Do.ACT:
            self._fire("failure", {"probability": round(judged.probability * 100, 1)})
            picture = self.pictures.failure()  # the frame that made this verdict
            self._background(self._async_act(judged.probability, picture), "failure action")
        elif judged.do is Do.WARN:
            self._fire("warning", {"probability": round(judged.probability * 100, 1)})
            alert = warning_alert(self.watch, judged.probability)
            self._background(self._async_alert(alert), "warning alert")
        self._save(force=judged.changed or judged.do is Do.ACT)
        self._notify()

    # --- the detection switch and holds ----------------------------------------------

    @callback
    def async_set_detecting(self, on: bool) -> None:
        """Switch failure detection on or off (off: no snapshots, no ML requests)."""
        if not self.watch.set_detecting(on):
            return
        self._fire("detection_on" if on else "detection_off", {})
        self._save(force=True)
        self._follow(self.hass.states.get(self.settings.status_entity))

    @callback
    def async_snooze(self, minutes: float) -> bool:
        """Hold this print's actions for `minutes` (0 ends a snooze); False: no print."""
        if not self.watch.snooze(minutes, time.time()):
            return False
        self._fire("snoozed", {"minutes": minutes})
        self._save(force=True)
        self._arm_hold_check()
        self._notify()
        return True

    @callback
    def _arm_hold_check(self, *, stop: bool = False) -> None:
        """Look at the verdict again when the print's grace period or snooze ends."""
        if self._hold_check is not None:
            self._hold_check()
            self._hold_check = None
        ends = None if stop else self.watch.hold_ends(time.time())
        if ends is not None:
            self._hold_check = async_call_later(
                self.hass,
                max(ends - time.time(), 0) + 0.1,
                HassJob(self._hold_ended, cancel_on_shutdown=True),
            )

    @callback
    def _hold_ended(self, _now: Any) -> None:
        self._hold_check = None
        if (judged := self.watch.reconsider(time.monotonic(), time.time())) is not None:
            self._do(judged)
        self._arm_hold_check()  # a snooze may outlast the grace, or the other way round

    # --- actions ---------------------------------------------------------------------

    async def _async_act(self, probability: float, picture: asyncio.Future[str | None]) -> None:
        """Run the printer's action, then alert with what happened and the failure's picture."""
        deadline = self.hass.loop.time() + ALERT_PICTURE_TIMEOUT_SEC
        done: list[Phrase] = []
        if self.settings.action != PRINTER_ACTION_NOTIFY:
            done = await self._async_pause()
        image = await self.pictures.async_alert_link(picture, deadline)
        await self._async_alert(failure_alert(self.watch, probability, done, image))

    async def _async_alert(self, alert: Alert) -> None:
        await self.alerts.async_send(
            alert.key, alert.title, alert.message, alert.buttons, image=alert.image
        )

    async def _async_pause(self) -> list[Phrase]:
        """Pause (and power off, if that is the action); return what happened."""
        said, powered_off = await self.controls.async_pause()
        if powered_off:
            self.watch.powered_off()
            self.poller.stop()
            self._save(force=True)
        self._notify()
        return said

    @callback
    def _on_notification_action(self, event: Event) -> None:
        pressed = self.watch.press(event.data.get("action"), time.time())
        if pressed == PAUSE:
            self._background(self._async_pause(), "pause")
        elif pressed == IGNORE:
            self._fire("ignored", {})
            self._save(force=True)
            self._notify()
        elif pressed == SNOOZE:
            self._fire("snoozed", {"minutes": SNOOZE_BUTTON_MINUTES})
            self._save(force=True)
            self._arm_hold_check()
            self._notify()

    # --- plumbing --------------------------------------------------------------------

    @callback
    def _background(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        """Run `coro` as a task that stopping the printer cancels."""
        task = self.hass.async_create_background_task(coro, f"{DOMAIN} {self.name} {what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @callback
    def _fire(self, event: str, data: dict[str, Any]) -> None:
        self._emit(event, {"print": self.job.name, **data})

    @callback
    def _save(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._saved_at < FRAME_SAVE_INTERVAL_SEC:
            return
        self.store.save(self.watch.as_saved())
        self._saved_at = now
