"""Sensors of the hub, of each machine and of every device.

Hub: members, fobs, members file loaded at, state save timeouts, recordings disk
free (with a floor set). Machine: RFID (who is on it), usage hours, sessions, hours
until service (with a service interval) and the board's readings (disabled by
default, throttled: `readings`). Printer: failure probability, detection, frames,
camera errors, last error, baseline. Recording sensor: next recording, recordings
today, last recording, failed recordings. Every device: its state save timeouts.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
import time
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfInformation,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import SUBENTRY_MACHINE, SUBENTRY_PRINTER, SUBENTRY_RECORDING_SENSOR
from .entity import EntityMaker, Observable, async_add_owner_entities
from .hub import MakerspaceConfigEntry
from .machines.machine import Machine
from .machines.members_file import MembersFile
from .machines.service import hours_until_service
from .machines.sessions import CARD_UNKNOWN
from .printers.print_watch import DETECTION_STATES, NOT_PRINTING
from .printers.printer import Printer
from .readings import (
    Reading,
    ReadingDescription,
    ReadingEntity,
    Throttle,
    crossed_idle_current,
    telemetry,
    went_down,
)
from .recording.recording_sensor import RecordingSensor
from .recording.recordings_disk import RecordingsDisk
from .storage.hub_storage import HubStorage
from .storage.owner_store import OwnerStore

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class MakerspaceSensorDescription[T](SensorEntityDescription, ReadingDescription[T]):
    """A sensor computed from its source."""

    exists_fn: Callable[[T], bool] = lambda _: True


def _timestamp(value: float | None) -> datetime | None:
    return None if value is None else dt_util.utc_from_timestamp(value)


HUB_STORAGE_SENSORS: tuple[MakerspaceSensorDescription[HubStorage], ...] = (
    MakerspaceSensorDescription(
        key="state_save_timeouts",
        translation_key="state_save_timeouts",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda storage: storage.save_timeouts,
    ),
)
HUB_MEMBER_SENSORS: tuple[MakerspaceSensorDescription[MembersFile], ...] = (
    MakerspaceSensorDescription(
        key="members",
        translation_key="members",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda members_file: len(members_file.members),
    ),
    MakerspaceSensorDescription(
        key="fobs",
        translation_key="fobs",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda members_file: members_file.members.fob_count,
    ),
    MakerspaceSensorDescription(
        key="members_loaded_at",
        translation_key="members_loaded_at",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda members_file: members_file.loaded_at,
        attributes_fn=lambda members_file: {
            "path": str(members_file.path),
            "problem": members_file.problem,
        },
    ),
)
HUB_DISK_SENSORS: tuple[MakerspaceSensorDescription[RecordingsDisk], ...] = (
    MakerspaceSensorDescription(
        key="recordings_disk_free",
        translation_key="recordings_disk_free",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.GIGABYTES,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda disk: disk.free_gb,
        attributes_fn=lambda disk: disk.attributes(),
        exists_fn=lambda disk: disk.floor > 0,
    ),
)
OWNER_SENSORS: tuple[MakerspaceSensorDescription[OwnerStore], ...] = (
    MakerspaceSensorDescription(
        key="state_save_timeouts",
        translation_key="state_save_timeouts",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda store: store.save_timeouts,
    ),
)


def _snoozed_until(printer: Printer) -> str | None:
    """Return until when the print's actions are snoozed (None: not snoozed now)."""
    until = printer.job.snoozed_until
    if not printer.job.active or until is None or until <= time.time():
        return None
    return dt_util.utc_from_timestamp(until).isoformat()


def _session_attributes(machine: Machine) -> Mapping[str, Any]:
    session = machine.state.session
    return {
        "member": session.full_name if session else None,
        "session_kind": session.kind if session else None,
        "session_start": _timestamp(session.started if session else None),
        # None: unknown (a board not heard yet, or told relay off while not running).
        "card_present": None
        if machine.state.card == CARD_UNKNOWN
        else machine.state.card is not None,
        "last_fob": machine.state.last_fob,
    }


def _hours_until_service(machine: Machine) -> float:
    """Hours left (negative: overdue), moving with the usage sensor's minute."""
    settings, seconds = machine.settings, machine.usage_hours * 3600
    left = hours_until_service(
        settings.service_interval_hours, seconds, machine.state.serviced_at_seconds
    )
    return round(left, 2)


PRINTER_SENSORS: tuple[MakerspaceSensorDescription[Printer], ...] = (
    MakerspaceSensorDescription(
        key="failure_probability",
        translation_key="failure_probability",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda printer: (
            None
            if printer.detection_state == NOT_PRINTING or printer.job.probability is None
            else round(printer.job.probability * 100, 1)
        ),
        available_fn=lambda printer: printer.available,
    ),
    MakerspaceSensorDescription(
        key="detection",
        translation_key="detection",
        device_class=SensorDeviceClass.ENUM,
        options=list(DETECTION_STATES),
        value_fn=lambda printer: printer.detection_state,
        attributes_fn=lambda printer: {
            "print": printer.job.name if printer.job.active else None,
            "snoozed_until": _snoozed_until(printer),
        },
        available_fn=lambda printer: printer.available,
    ),
    MakerspaceSensorDescription(
        key="frames",
        translation_key="frames",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda printer: printer.detector.current_frame_num,
        available_fn=lambda printer: printer.available,
    ),
    MakerspaceSensorDescription(
        key="camera_errors",
        translation_key="camera_errors",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda printer: printer.health.camera_errors,
    ),
    MakerspaceSensorDescription(
        key="last_error",
        translation_key="last_error",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda printer: (
            (printer.health.last_error or printer.ml_service.last_error or "")[:255] or None
        ),
    ),
    MakerspaceSensorDescription(
        key="baseline",
        translation_key="baseline",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=3,
        value_fn=lambda printer: round(printer.detector.rolling_mean_long, 4),
        attributes_fn=lambda printer: {"frames": printer.detector.lifetime_frame_num},
    ),
)
RECORDING_SENSORS: tuple[MakerspaceSensorDescription[RecordingSensor], ...] = (
    MakerspaceSensorDescription(
        key="next_recording",
        translation_key="next_recording",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda sensor: sensor.next_slot,
    ),
    MakerspaceSensorDescription(
        key="recordings_today",
        translation_key="recordings_today",
        state_class=SensorStateClass.TOTAL,
        value_fn=lambda sensor: sensor.recordings_today,
    ),
    MakerspaceSensorDescription(
        key="last_recording",
        translation_key="last_recording",
        value_fn=lambda sensor: sensor.counts.last_recording,
        attributes_fn=lambda sensor: {"time": sensor.counts.last_recording_at},
    ),
    MakerspaceSensorDescription(
        key="failed_recordings",
        translation_key="failed_recordings",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda sensor: sensor.counts.failed,
        attributes_fn=lambda sensor: {"last_error": sensor.counts.last_error},
    ),
)
MACHINE_SENSORS: tuple[MakerspaceSensorDescription[Machine], ...] = (
    MakerspaceSensorDescription(
        key="rfid",
        translation_key="rfid",
        value_fn=lambda machine: machine.state.session.name if machine.state.session else None,
        attributes_fn=_session_attributes,
    ),
    MakerspaceSensorDescription(
        key="usage",
        translation_key="usage",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.HOURS,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=1,
        value_fn=lambda machine: machine.usage_hours,
    ),
    MakerspaceSensorDescription(
        key="sessions",
        translation_key="sessions",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda machine: machine.state.sessions,
    ),
    MakerspaceSensorDescription(
        key="hours_until_service",
        translation_key="hours_until_service",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.HOURS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=_hours_until_service,
        exists_fn=lambda machine: machine.settings.service_interval_hours > 0,
    ),
    MakerspaceSensorDescription(
        key="uptime",
        translation_key="uptime",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda machine: machine.state.uptime,
        throttle=Throttle(urgent=went_down),  # a reboot at once
    ),
    MakerspaceSensorDescription(
        key="wifi_signal_db",
        translation_key="wifi_signal_db",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        # Disabled like every reading (`readings`): the signal wanders with each post.
        entity_registry_enabled_default=False,
        value_fn=telemetry("wifi_signal_db"),
        throttle=Throttle(),
    ),
    MakerspaceSensorDescription(
        key="wifi_signal_percent",
        translation_key="wifi_signal_percent",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=telemetry("wifi_signal_percent"),
        throttle=Throttle(),
    ),
    MakerspaceSensorDescription(
        key="internal_temperature",
        translation_key="internal_temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=telemetry("internal_temperature_c"),
        throttle=Throttle(),
    ),
    MakerspaceSensorDescription(
        key="amps",
        translation_key="amps",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=telemetry("amps"),
        throttle=Throttle(urgent=crossed_idle_current),  # in use / idle at once
    ),
    MakerspaceSensorDescription(
        key="last_checkin",
        translation_key="last_checkin",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda machine: machine.last_checkin,
        throttle=Throttle(),  # the Online binary sensor shows a silent board at once
    ),
    MakerspaceSensorDescription(
        key="display",
        translation_key="display",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda machine: machine.reply.display.replace("\n", " / "),
    ),
)


def _described(descriptions: tuple[MakerspaceSensorDescription[Any], ...]) -> EntityMaker:
    """Every device's OWNER_SENSORS (from its store), then its kind's `descriptions`."""
    return lambda entry, subentry_id, owner: [
        *(MakerspaceSensor(entry, subentry_id, d, owner.store) for d in OWNER_SENSORS),
        *(
            MakerspaceSensor(entry, subentry_id, d, owner)
            for d in descriptions
            if d.exists_fn(owner)
        ),
    ]


SENSORS: dict[str, EntityMaker] = {
    SUBENTRY_MACHINE: _described(MACHINE_SENSORS),
    SUBENTRY_PRINTER: _described(PRINTER_SENSORS),
    SUBENTRY_RECORDING_SENSOR: _described(RECORDING_SENSORS),
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's sensors, each machine's and each device's timeouts sensor."""
    hub = entry.runtime_data
    disks = {sensor.disk for sensor in hub.recording_sensors.values()}  # one, or none
    on_disks = [(d, disk) for disk in disks for d in HUB_DISK_SENSORS if d.exists_fn(disk)]
    async_add_entities(
        [
            *(MakerspaceSensor(entry, None, d, hub.storage) for d in HUB_STORAGE_SENSORS),
            *(MakerspaceSensor(entry, None, d, hub.members_file) for d in HUB_MEMBER_SENSORS),
            *(MakerspaceSensor(entry, None, d, disk) for d, disk in on_disks),
        ]
    )
    async_add_owner_entities(entry, async_add_entities, hub.owners, SENSORS)


class MakerspaceSensor[T: Observable](ReadingEntity[T], SensorEntity):
    """A sensor of the hub or of a device, computed from its source."""

    entity_description: MakerspaceSensorDescription[T]

    @property
    def native_value(self) -> Reading:
        """Return the value."""
        return self.entity_description.value_fn(self.source)
