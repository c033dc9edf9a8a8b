"""A printer's devices in Home Assistant: its camera, its pause and power controls.

Glue: `PrinterControls` takes camera snapshots (bounded by SNAPSHOT_TIMEOUT_SEC; a
failing camera is counted in the printer's health) and calls the printer's pause
entity (a button, a switch, a script) and power switch through Home Assistant's
actions, fires the printer's `paused` / `powered_off` events and says what
happened, for the alert (a sentence each, as phrases of `exceptions.alert_print_*`).
A control that is missing, unavailable or fails is logged and kept as the printer's
last error; the alert says so instead of claiming a pause.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from ..alert_words import Phrase, phrase
from ..const import LOGGER, PRINTER_ACTION_PAUSE_AND_OFF
from .health import PrinterHealth
from .print_watch import pause_call
from .settings import PrinterSettings

if TYPE_CHECKING:
    from homeassistant.components.camera import Image

SNAPSHOT_TIMEOUT_SEC = 20


class PrinterControls:
    """Pauses a printer and cuts its power, as its settings say."""

    def __init__(
        self,
        hass: HomeAssistant,
        settings: PrinterSettings,
        health: PrinterHealth,
        fire: Callable[[str, dict[str, Any]], None],
    ) -> None:
        """Control the printer of `settings`; record errors in `health`, events with `fire`."""
        self.hass = hass
        self.settings = settings
        self.health = health
        self._fire = fire

    async def async_snapshot(self) -> "Image | None":
        """Return a snapshot of the printer's camera (None: none came; counted)."""
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
                    "%s: no snapshot from %s: %s",
                    self.settings.name,
                    self.settings.camera_entity,
                    err,
                )
            return None
        if self.health.camera_works():
            LOGGER.info(
                "%s: snapshots from %s work again", self.settings.name, self.settings.camera_entity
            )
        return image

    async def async_pause(self) -> tuple[list[Phrase], bool]:
        """Pause (and power off, if that is the action); return what happened, powered off."""
        pause, power = self.settings.pause_entity, self.settings.power_entity
        said: list[Phrase] = []
        powered_off = False
        if pause:
            domain, service = pause_call(pause)
            paused = await self._async_call(domain, service, pause, "paused")
            said.append(
                phrase("alert_print_paused")
                if paused
                else phrase("alert_print_pause_failed", entity=pause)
            )
        if self.settings.action == PRINTER_ACTION_PAUSE_AND_OFF and power:
            if await self._async_call("switch", "turn_off", power, "powered_off"):
                said.append(phrase("alert_print_powered_off"))
                powered_off = True
            else:
                said.append(phrase("alert_print_power_off_failed", entity=power))
        return said, powered_off

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
            LOGGER.error("%s: could not %s %s: %s", self.settings.name, service, entity_id, err)
            self.health.last_error = f"{entity_id}: {err}"
            return False
        self._fire(event, {"entity_id": entity_id})
        return True
