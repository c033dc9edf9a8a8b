"""One 3D printer in Home Assistant: follows its print, polls the ML API, acts.

While the status entity is in a printing state, every `poll_interval` seconds the
camera's snapshot is scored (`detection_service`) and fed to the printer's
`FailureDetector`. A print starts when the status enters printing from a state that
is neither printing nor paused; pausing and resuming is the same print. On the
first `failure` verdict of a print the printer's action runs once: notify, pause,
or pause and power off. The alert goes out once the action is done and says what
actually happened; its buttons only act on the print they were sent for.
"""

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import time
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, STATE_UNKNOWN
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
from ..const import DOMAIN, LOGGER, PRINTER_ACTION_NOTIFY, PRINTER_ACTION_PAUSE_AND_OFF
from ..hub_options import HubOptions
from ..listeners import EventSource
from ..storage.owner_store import OwnerStore
from .detector import FAILURE, SAFE, WARMING_UP, WARNING, FailureDetector
from .ml_api import MlApiError
from .ml_service import MLService
from .settings import PrinterSettings

if TYPE_CHECKING:
    from homeassistant.components.camera import Image


SNAPSHOT_TIMEOUT_SEC = 20
WARNING_ALERT_COOLDOWN_SEC = 90.0
HISTORY_LENGTH = 50
# A frame changes the baseline a little; it is saved at most this often.
FRAME_SAVE_INTERVAL_SEC = 60.0
NOTIFICATION_ACTION_EVENT = "mobile_app_notification_action"
PRINT_NAME_ATTRIBUTES = ("filename", "file_name", "file", "job_name", "print_name", "task_name")
IDLE = "idle"


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
        job = cls()
        for key in ("active", "acted", "ignored", "failure"):
            if not isinstance(data.get(key, False), bool):
                raise ValueError(f"print.{key} must be true or false")
            setattr(job, key, data.get(key, False))
        name, file, started = data.get("name"), data.get("file"), data.get("started")
        if name is not None and not isinstance(name, str):
            raise ValueError("print.name must be text")
        if file is not None and not isinstance(file, str):
            raise ValueError("print.file must be text")
        if started is not None and (
            isinstance(started, bool) or not isinstance(started, int | float)
        ):
            raise ValueError("print.started must be a number")
        job.name, job.file, job.started = name, file, started
        return job


@dataclass(slots=True)
class Frame:
    """One analysed frame that was not plain safe (for diagnostics)."""

    at: datetime
    score: float
    verdict: str
    probability: float


@dataclass(slots=True)
class PrinterHealth:
    """What went wrong lately."""

    camera_errors: int = 0
    camera_failing: bool = False
    last_error: str | None = None
    history: deque[Frame] = field(default_factory=lambda: deque(maxlen=HISTORY_LENGTH))


class Printer(EventSource[str, dict[str, Any]]):
    """A printer watched for failures."""

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
        self.service = ml_service
        self.detector = FailureDetector()
        self.job = PrintJob()
        self.health = PrinterHealth()
        self.stagger_sec = 0.0
        self._stops: list[CALLBACK_TYPE] = []
        self._polling: CALLBACK_TYPE | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy = False
        self._last_warning_alert: float | None = None
        self._saved_at = 0.0

    # --- life cycle ------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the saved baseline and print; unusable data is set aside."""
        data = self.store.data or {}
        try:
            self.detector = FailureDetector.from_dict(data.get("detector", {}))
            self.job = PrintJob.from_dict(data.get("print", {}))
        except ValueError as err:
            await self.store.async_set_aside(str(err))
            self.detector, self.job = FailureDetector(), PrintJob()

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
        self._stops.append(self.service.async_add_listener(self._notify))
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
        return self.service.available

    @property
    def detection_state(self) -> str:
        """Return idle, warming_up, safe, warning or failure."""
        if not self.job.active or self.job.verdict is None:
            return IDLE
        if self.detector.warming_up:
            return WARMING_UP
        return self.job.verdict

    # --- the print -------------------------------------------------------------------

    @callback
    def _on_status_event(self, event: Event[EventStateChangedData]) -> None:
        self._follow(event.data["new_state"])

    @callback
    def _follow(self, state: State | None) -> None:
        status = state.state if state is not None else None
        if status in self.settings.printing_states:
            file = _print_file(state)
            if not self.job.active or (
                file is not None and self.job.file is not None and file != self.job.file
            ):
                # A new print, also when the last one ended while the printer was
                # unavailable (or unseen, e.g. while Home Assistant was down).
                self._new_print(file)
            self._start_polling(first_delay=self.stagger_sec)
        elif status in (None, STATE_UNAVAILABLE, STATE_UNKNOWN, *self.settings.paused_states):
            # Paused, or no word from the printer (e.g. at startup): the print goes on.
            self._stop_polling()
        else:
            self._stop_polling()
            if self.job.active:  # finished, cancelled or failed: the print is over
                self.job.active = False
                self._save(force=True)
        self._notify()

    @callback
    def _new_print(self, file: str | None) -> None:
        now = dt_util.now()
        self.detector.new_print()
        self._last_warning_alert = None
        self.job = PrintJob(
            active=True,
            name=file or f"Print started at {now.strftime('%H:%M')}",
            file=file,
            started=now.timestamp(),
        )
        LOGGER.debug("%s: a new print: %s", self.name, self.job.name)
        self._fire("print_started", {})
        self._save(force=True)

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
        if self._busy or not self.service.configured:
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
                score = await self.service.async_predict(image.content, image.content_type)
            except MlApiError:
                self._notify()  # the service logged it and marks detection unavailable
                return
            # The print may have ended, or another begun, while the frame was scored.
            if self.job.active and self.job.started == started and self._polling is not None:
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
            self.health.camera_errors += 1
            self.health.last_error = f"camera: {err}"
            if not self.health.camera_failing:
                LOGGER.warning(
                    "%s: no snapshot from %s: %s", self.name, self.settings.camera_entity, err
                )
            self.health.camera_failing = True
            self._notify()
            return None
        if self.health.camera_failing:
            LOGGER.info("%s: snapshots from %s work again", self.name, self.settings.camera_entity)
            self.health.camera_failing = False
        return image

    @callback
    def _analyse(self, score: float) -> None:
        sensitivity = self.settings.sensitivity
        verdict = self.detector.add_frame(score, sensitivity)
        probability = self.detector.probability(sensitivity)
        changed = verdict != self.job.verdict
        self.job.verdict, self.job.probability = verdict, probability
        if verdict != SAFE:
            self.health.history.append(Frame(dt_util.utcnow(), score, verdict, probability))
        if verdict == FAILURE and not self.job.acted and not self.job.ignored:
            self._act(probability)
        elif verdict == WARNING and self.options.print_warning_alerts:
            self._warn(probability)
        self._save(force=changed)
        self._notify()

    # --- actions ---------------------------------------------------------------------

    @callback
    def _act(self, probability: float) -> None:
        self.job.acted = self.job.failure = True
        self._fire("failure", {"probability": round(probability * 100, 1)})
        self._background(self._async_act(probability), "failure action")

    async def _async_act(self, probability: float) -> None:
        """Run the printer's action, then alert with what actually happened."""
        action = self.settings.action
        done = ""
        if action != PRINTER_ACTION_NOTIFY:
            done = " " + await self._async_pause()
        actions = [{"action": self._button("IGNORE"), "title": "Ignore"}]
        if action == PRINTER_ACTION_NOTIFY and self.settings.pause_entity:
            actions.insert(0, {"action": self._button("PAUSE"), "title": "Pause print"})
        await self._async_alert(
            "failure",
            f"{self.name} may be failing",
            f"{self.job.name} on {self.name}: failure probability {probability * 100:.0f} %.{done}",
            actions,
        )

    @callback
    def _warn(self, probability: float) -> None:
        now = time.monotonic()
        if (
            self._last_warning_alert is not None
            and now - self._last_warning_alert < WARNING_ALERT_COOLDOWN_SEC
        ):
            return
        self._last_warning_alert = now
        self._fire("warning", {"probability": round(probability * 100, 1)})
        self._alert(
            "warning",
            f"{self.name} might be failing",
            f"{self.job.name} on {self.name}: failure probability {probability * 100:.0f} %. "
            "Have a look.",
            None,
        )

    def _button(self, what: str) -> str:
        """Return a notification button's id, bound to this printer and print."""
        return f"{DOMAIN.upper()}_{what}_{self.subentry_id}_{(self.job.started or 0) * 1000:.0f}"

    @callback
    def _alert(
        self, key: str, title: str, message: str, actions: list[dict[str, str]] | None
    ) -> None:
        self._background(self._async_alert(key, title, message, actions), f"{key} alert")

    async def _async_alert(
        self, key: str, title: str, message: str, actions: list[dict[str, str]] | None
    ) -> None:
        await self.alerts.async_send(key, title, message, actions)

    async def _async_pause(self) -> str:
        """Pause (and power off, if that is the action); return what happened."""
        pause, power = self.settings.pause_entity, self.settings.power_entity
        said: list[str] = []
        if pause:
            domain = pause.split(".", 1)[0]
            service = {"button": "press", "input_button": "press", "script": "turn_on"}.get(
                domain, "turn_on"
            )
            paused = await self._async_call(domain, service, pause, "paused")
            said.append("The print was paused." if paused else f"Pausing failed ({pause}).")
        if self.settings.action == PRINTER_ACTION_PAUSE_AND_OFF and power:
            if await self._async_call("switch", "turn_off", power, "powered_off"):
                said.append("The printer was powered off.")
                # No print goes on without power: whatever the status says next.
                self.job.active = False
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
        # Buttons of an earlier print do not match: the ids carry when it started.
        action = event.data.get("action")
        if action == self._button("PAUSE") and self.job.active:
            self._background(self._async_pause(), "pause")
        elif action == self._button("IGNORE"):
            self.job.ignored, self.job.failure = True, False
            self._fire("ignored", {})
            self._save(force=True)
            self._notify()

    # --- plumbing --------------------------------------------------------------------

    @callback
    def _background(self, coro: Any, what: str) -> None:
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
        self.store.save({"detector": self.detector.as_dict(), "print": self.job.as_dict()})
        self._saved_at = now


def _print_file(state: State | None) -> str | None:
    """Return the print's name from the status entity's attributes, if it has one."""
    attributes = state.attributes if state is not None else {}
    return next(
        (str(attributes[key]) for key in PRINT_NAME_ATTRIBUTES if attributes.get(key)), None
    )
