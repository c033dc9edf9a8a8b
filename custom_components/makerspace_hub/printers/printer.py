"""One 3D printer in Home Assistant: the glue around its `PrintWatch`.

Owns the printer's life in Home Assistant: it follows the status entity and the
notification buttons, takes a camera snapshot every `poll_interval` seconds while a
print is on, has the ML service score it, and does what the pure `PrintWatch`
decides (print_watch.py: what a print is, act once, ignore, the warning cooldown,
the button ids): fire events, run the action (notify, pause, or pause and power
off) and send the alert once the action is done, saying what actually happened.
"""

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
import time
from typing import TYPE_CHECKING, Any, ClassVar

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HassJob,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from ..alerts import AlertSender
from ..const import (
    DOMAIN,
    LOGGER,
    PRINTER_ACTION_NOTIFY,
    PRINTER_ACTION_PAUSE_AND_OFF,
    SUBENTRY_PRINTER,
)
from ..hub_options import HubOptions
from ..listeners import EventSource
from ..storage.owner_store import OwnerStore
from .detector import SAFE, FailureDetector
from .ml_api import MlApiError
from .ml_service import MLService
from .print_watch import (
    IGNORE,
    PAUSE,
    Alert,
    Do,
    Follow,
    Frame,
    PrinterHealth,
    PrintJob,
    PrintWatch,
    pause_call,
    print_file,
)
from .settings import PrinterSettings

if TYPE_CHECKING:
    from homeassistant.components.camera import Image


SNAPSHOT_TIMEOUT_SEC = 20
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
        self.stagger_sec = 0.0
        self._stops: list[CALLBACK_TYPE] = []
        self._polling: CALLBACK_TYPE | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy = False
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
        self._follow(self.hass.states.get(self.settings.status_entity))

    @callback
    def async_stop(self) -> None:
        """Stop polling, listening and acting; keep the newest state."""
        self._stop_polling()
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
            self._save(force=True)
        if step.polls:
            self._start_polling(first_delay=self.stagger_sec)
        else:
            self._stop_polling()
        if step is Follow.ENDED:
            self._save(force=True)
        self._notify()

    @callback
    def _start_polling(self, first_delay: float) -> None:
        if self._polling is not None:
            return
        interval = timedelta(seconds=self.settings.poll_interval)

        @callback
        def begin(_now: Any) -> None:
            self._polling = async_track_time_interval(
                self.hass, self._tick, interval, cancel_on_shutdown=True
            )
            self._tick(None)

        if first_delay <= 0:
            begin(None)
            return
        # The printers' first polls are spread over the interval (the ML API serves
        # one request at a time).
        self._polling = async_call_later(
            self.hass, first_delay, HassJob(begin, cancel_on_shutdown=True)
        )

    @callback
    def _stop_polling(self) -> None:
        if self._polling is not None:
            self._polling()
            self._polling = None

    @callback
    def _tick(self, _now: Any) -> None:
        if self._busy or not self.ml_service.configured:
            return  # the previous frame is still on its way: skip, never pile up
        self._busy = True
        self._background(self._async_poll(), "frame")

    async def _async_poll(self) -> None:
        started = self.job.started
        try:
            image = await self._async_snapshot()
            if image is None:
                return
            try:
                score = await self.ml_service.async_predict(image.content, image.content_type)
            except MlApiError:
                self._notify()  # the service logged it and marks detection unavailable
                return
            # The print may have ended, or another begun, while the frame was scored.
            if self.watch.is_current(started) and self._polling is not None:
                self._analyse(score)
        finally:
            self._busy = False

    async def _async_snapshot(self) -> "Image | None":
        # Imported here: the camera integration (and its image libraries) is loaded
        # only where there are cameras, and a printer always has one.
        from homeassistant.components import camera  # noqa: PLC0415

        try:
            image = await camera.async_get_image(
                self.hass, self.settings.camera_entity, timeout=SNAPSHOT_TIMEOUT_SEC
            )
        except Exception as err:  # noqa: BLE001 - camera integrations may raise anything
            if self.health.camera_failed(str(err)):
                LOGGER.warning(
                    "%s: no snapshot from %s: %s", self.name, self.settings.camera_entity, err
                )
            self._notify()
            return None
        if self.health.camera_works():
            LOGGER.info("%s: snapshots from %s work again", self.name, self.settings.camera_entity)
        return image

    @callback
    def _analyse(self, score: float) -> None:
        judged = self.watch.frame(
            score, time.monotonic(), warning_alerts=self.options.print_warning_alerts
        )
        if judged.verdict != SAFE:
            self.health.history.append(
                Frame(dt_util.utcnow(), score, judged.verdict, judged.probability)
            )
        if judged.do is Do.ACT:
            self._fire("failure", {"probability": round(judged.probability * 100, 1)})
            self._background(self._async_act(judged.probability), "failure action")
        elif judged.do is Do.WARN:
            self._fire("warning", {"probability": round(judged.probability * 100, 1)})
            alert = self.watch.warning_alert(judged.probability)
            self._background(self._async_alert(alert), "warning alert")
        self._save(force=judged.changed)
        self._notify()

    # --- actions ---------------------------------------------------------------------

    async def _async_act(self, probability: float) -> None:
        """Run the printer's action, then alert with what actually happened."""
        done = None
        if self.settings.action != PRINTER_ACTION_NOTIFY:
            done = await self._async_pause()
        await self._async_alert(self.watch.failure_alert(probability, done))

    async def _async_alert(self, alert: Alert) -> None:
        await self.alerts.async_send(alert.key, alert.title, alert.message, alert.actions)

    async def _async_pause(self) -> str:
        """Pause (and power off, if that is the action); return what happened."""
        pause, power = self.settings.pause_entity, self.settings.power_entity
        said: list[str] = []
        if pause:
            domain, service = pause_call(pause)
            paused = await self._async_call(domain, service, pause, "paused")
            said.append("The print was paused." if paused else f"Pausing failed ({pause}).")
        if self.settings.action == PRINTER_ACTION_PAUSE_AND_OFF and power:
            if await self._async_call("switch", "turn_off", power, "powered_off"):
                said.append("The printer was powered off.")
                self.watch.powered_off()
                self._stop_polling()
                self._save(force=True)
                self._notify()
            else:
                said.append(f"Powering off failed ({power}).")
        return " ".join(said)

    async def _async_call(self, domain: str, service: str, entity_id: str, event: str) -> bool:
        """Call `service` on `entity_id`; fire `event` and return True if it ran."""
        state = self.hass.states.get(entity_id)
        try:
            if state is None or state.state == STATE_UNAVAILABLE:
                raise HomeAssistantError(f"{entity_id} is missing or unavailable")
            await self.hass.services.async_call(
                domain, service, {ATTR_ENTITY_ID: entity_id}, blocking=True
            )
        except HomeAssistantError as err:
            LOGGER.error("%s: could not %s %s: %s", self.name, service, entity_id, err)
            self.health.last_error = f"{entity_id}: {err}"
            self._notify()
            return False
        self._fire(event, {"entity_id": entity_id})
        return True

    @callback
    def _on_notification_action(self, event: Event) -> None:
        pressed = self.watch.press(event.data.get("action"))
        if pressed == PAUSE:
            self._background(self._async_pause(), "pause")
        elif pressed == IGNORE:
            self._fire("ignored", {})
            self._save(force=True)
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
