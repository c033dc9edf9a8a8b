"""What a printer integration's device tells about a printer (pure: no Home Assistant imports).

When the status entity chosen for a new printer belongs to a known printer
integration, its device's other entities name the printer's camera, pause button and
power switch, and the integration's own states say when it prints and when it is
paused. `propose` takes the status entity and the device's entities as plain data (the
glue reads them from the entity registry) and returns what it found; an integration
it does not know, or an entity it cannot tell apart for sure, proposes nothing, and
the user fills that field in as before. A proposal is only a suggestion: the user
confirms or changes it in the form.

The integrations' entities, as they register them (`key` is what their unique id is
made of besides the config entry id or the printer's serial):

- OctoPrint (core `octoprint`): unique ids "<name>-<instance id>"; the status sensor
  "Current State" shows OctoPrint's state text ("Operational", "Printing",
  "Printing from SD", "Pausing", "Paused", "Resuming", ...); the button "Pause Job";
  one camera (the webcam), no power switch.
- PrusaLink (core `prusalink`): unique ids "<entry id>_<key>"; the status sensor
  (translation key `printer_state`) is an enum ("idle", "busy", "printing", "paused",
  "finished", "stopped", "error", "attention", "ready"); the button `pause_job`; its
  only camera is the job's preview picture (`job_preview`), no live view, so no
  camera is proposed.
- Bambu Lab (HACS `bambu_lab`): unique ids "<serial>_<key>"; the sensor
  `print_status` is the lower-cased gcode state ("running", "pause", "prepare",
  "finish", "failed", "idle", ...); the button `pause`; the camera `camera`. Its
  switches (lights, sounds, camera settings) never power the printer.
- Moonraker (HACS `moonraker`, Klipper): unique ids "<entry id>_<key>"; the sensor
  `print_state` shows Klipper's print_stats state ("standby", "printing", "paused",
  "complete", "cancelled", "error"); the button `pause_print`; webcams
  "<name>_<index>" next to the `thumbnail` camera (the file's preview); switches are
  Moonraker's power devices and Klipper's output pins ("output_pin <name>").
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..const import (
    CONF_CAMERA_ENTITY,
    CONF_PAUSE_ENTITY,
    CONF_PAUSED_STATES,
    CONF_POWER_ENTITY,
    CONF_PRINTING_STATES,
)

OCTOPRINT = "octoprint"
PRUSALINK = "prusalink"
BAMBU_LAB = "bambu_lab"
MOONRAKER = "moonraker"

# Words in a Moonraker power device's name that say it powers the printer, for a
# printer with more than one power device (lights, enclosure fans, ...).
POWER_DEVICE_WORDS = ("printer", "psu", "power")


@dataclass(frozen=True, kw_only=True)
class DeviceEntity:
    """One entity of the printer's device, as the entity registry describes it."""

    entity_id: str
    platform: str  # the integration that made it
    unique_id: str
    config_entry_id: str | None = None

    @property
    def domain(self) -> str:
        """Return the entity's domain ("camera", "button", ...)."""
        return self.entity_id.partition(".")[0]


@dataclass(frozen=True, kw_only=True)
class StatusStates:
    """The states of an integration's print status entity."""

    printing: tuple[str, ...]
    paused: tuple[str, ...]
    known: tuple[str, ...]  # every state it takes, offered in the form's lists


@dataclass(frozen=True, kw_only=True)
class PrinterIntegration:
    """How one integration names the entities a printer needs."""

    key: Callable[[DeviceEntity], str]
    statuses: Mapping[str, StatusStates]  # status entity key -> its states
    pause_keys: frozenset[str]
    live_camera: Callable[[str], bool]  # is the camera with this key a live view?
    power_switch: Callable[[str], bool] = lambda key: False  # does this switch power it?
    power_words: tuple[str, ...] = ()  # among several power switches, the printer's


@dataclass(frozen=True, kw_only=True)
class PrinterProposal:
    """What the status entity's device proposes; empty fields were not found."""

    integration: str | None = None
    camera_entity: str | None = None
    printing_states: tuple[str, ...] = ()
    paused_states: tuple[str, ...] = ()
    known_states: tuple[str, ...] = ()
    pause_entity: str | None = None
    power_entity: str | None = None

    def as_suggestions(self) -> dict[str, Any]:
        """Return the form values proposed, only those that were found."""
        found: dict[str, Any] = {
            CONF_CAMERA_ENTITY: self.camera_entity,
            CONF_PRINTING_STATES: list(self.printing_states) or None,
            CONF_PAUSED_STATES: list(self.paused_states) or None,
            CONF_PAUSE_ENTITY: self.pause_entity,
            CONF_POWER_ENTITY: self.power_entity,
        }
        return {key: value for key, value in found.items() if value}


def _name_before_dash(entity: DeviceEntity) -> str:
    """OctoPrint: "Current State-<instance id>" -> "Current State"."""
    return entity.unique_id.partition("-")[0]


def _key_after_owner(entity: DeviceEntity) -> str:
    """Return the key of "<entry id>_<key>" or "<serial>_<key>".

    The config entry id is cut when the unique id starts with it; otherwise (a
    printer's serial) at the first "_": entry ids and serials have none.
    """
    owner = f"{entity.config_entry_id}_"
    if entity.config_entry_id and entity.unique_id.startswith(owner):
        return entity.unique_id.removeprefix(owner)
    return entity.unique_id.partition("_")[2]


INTEGRATIONS: Mapping[str, PrinterIntegration] = {
    OCTOPRINT: PrinterIntegration(
        key=_name_before_dash,
        statuses={
            "Current State": StatusStates(
                printing=("Printing", "Printing from SD"),
                # Pausing and resuming are the same print: were they neither printing
                # nor paused, coming back to "Printing" would start a new one.
                paused=("Pausing", "Paused", "Resuming"),
                known=(
                    "Operational",
                    "Starting",
                    "Printing",
                    "Printing from SD",
                    "Pausing",
                    "Paused",
                    "Resuming",
                    "Finishing",
                    "Cancelling",
                    "Error",
                    "Offline",
                    "Offline after error",
                ),
            )
        },
        pause_keys=frozenset({"Pause Job"}),
        live_camera=lambda key: True,  # its one camera is the webcam
    ),
    PRUSALINK: PrinterIntegration(
        key=_key_after_owner,
        statuses={
            "printer.state": StatusStates(
                printing=("printing",),
                # "attention": the printer waits for the user mid-print (filament
                # runout, a crash); the print goes on after it. A paused state never
                # starts a print, so one before a print does no harm.
                paused=("paused", "attention"),
                known=(
                    "idle",
                    "busy",
                    "printing",
                    "paused",
                    "finished",
                    "stopped",
                    "error",
                    "attention",
                    "ready",
                ),
            )
        },
        pause_keys=frozenset({"job.pause_job"}),
        live_camera=lambda key: key != "job_preview",
    ),
    BAMBU_LAB: PrinterIntegration(
        key=_key_after_owner,
        statuses={
            "print_status": StatusStates(
                printing=("running",),
                paused=("pause",),
                known=(
                    "idle",
                    "prepare",
                    "running",
                    "pause",
                    "finish",
                    "failed",
                    "init",
                    "slicing",
                    "offline",
                ),
            )
        },
        pause_keys=frozenset({"pause"}),
        live_camera=lambda key: key == "camera",
    ),
    MOONRAKER: PrinterIntegration(
        key=_key_after_owner,
        statuses={
            "print_state": StatusStates(
                printing=("printing",),
                paused=("paused",),
                known=("standby", "printing", "paused", "complete", "cancelled", "error"),
            )
        },
        pause_keys=frozenset({"pause_print"}),
        live_camera=lambda key: key != "thumbnail",
        power_switch=lambda key: not key.startswith("output_pin"),
        power_words=POWER_DEVICE_WORDS,
    ),
}


def _only(entities: list[DeviceEntity]) -> str | None:
    """Return the entity when there is exactly one: of several, none is sure."""
    return entities[0].entity_id if len(entities) == 1 else None


def _power_switch(integration: PrinterIntegration, powers: list[DeviceEntity]) -> str | None:
    """Return the one power switch, or among several the one named for the printer."""
    if len(powers) > 1:
        powers = [
            s
            for s in powers
            if any(word in integration.key(s).lower() for word in integration.power_words)
        ]
    return _only(powers)


def propose(status: DeviceEntity, device: Iterable[DeviceEntity]) -> PrinterProposal:
    """Propose a printer's settings from its status entity and its device's entities.

    `device` holds the device's entities (the status entity among them or not); only
    those of the status entity's integration count: another integration's entity on
    the same device is not one this module knows.
    """
    integration = INTEGRATIONS.get(status.platform)
    if integration is None:
        return PrinterProposal()
    keyed = [
        (integration.key(e), e)
        for e in device
        if e.platform == status.platform and e.entity_id != status.entity_id
    ]

    def found(domain: str, wanted: Callable[[str], bool]) -> list[DeviceEntity]:
        return [e for key, e in keyed if e.domain == domain and wanted(key)]

    states = integration.statuses.get(integration.key(status))
    return PrinterProposal(
        integration=status.platform,
        camera_entity=_only(found("camera", integration.live_camera)),
        printing_states=states.printing if states else (),
        paused_states=states.paused if states else (),
        known_states=states.known if states else (),
        pause_entity=_only(found("button", integration.pause_keys.__contains__)),
        power_entity=_power_switch(integration, found("switch", integration.power_switch)),
    )
