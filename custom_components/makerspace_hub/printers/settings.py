"""A printer's stored subentry, typed and validated (pure: no Home Assistant imports)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from ..const import (
    CONF_ACTION,
    CONF_CAMERA_ENTITY,
    CONF_GRACE_MINUTES,
    CONF_NAME,
    CONF_PAUSE_ENTITY,
    CONF_PAUSED_STATES,
    CONF_POLL_INTERVAL,
    CONF_POWER_ENTITY,
    CONF_PRINTING_STATES,
    CONF_SENSITIVITY,
    CONF_STATUS_ENTITY,
    DEFAULT_PAUSED_STATES,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_PRINTING_STATES,
    DEFAULT_SENSITIVITY,
    MAX_GRACE_MINUTES,
    MAX_SENSITIVITY,
    MIN_POLL_INTERVAL,
    MIN_SENSITIVITY,
    PRINTER_ACTION_NOTIFY,
    PRINTER_ACTION_PAUSE_AND_OFF,
    PRINTER_ACTIONS,
)
from ..validation import (
    InvalidConfigError,
    read_int,
    read_optional_str,
    read_required_str,
    read_str_list,
)


@dataclass(frozen=True, kw_only=True)
class PrinterSettings:
    """One 3D printer watched for print failures."""

    name: str
    camera_entity: str
    status_entity: str
    printing_states: tuple[str, ...] = DEFAULT_PRINTING_STATES
    paused_states: tuple[str, ...] = DEFAULT_PAUSED_STATES
    action: str = PRINTER_ACTION_NOTIFY
    pause_entity: str | None = None
    power_entity: str | None = None
    sensitivity: float = DEFAULT_SENSITIVITY
    poll_interval: int = DEFAULT_POLL_INTERVAL
    # No action and no alert in a print's first minutes (the first layer); frames
    # still warm the detector up.
    grace_minutes: int = 0

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """Read and validate printer data."""
        action = data.get(CONF_ACTION, PRINTER_ACTION_NOTIFY)
        if action not in PRINTER_ACTIONS:
            raise InvalidConfigError("invalid_value", CONF_ACTION)
        sensitivity = data.get(CONF_SENSITIVITY, DEFAULT_SENSITIVITY)
        if (
            isinstance(sensitivity, bool)
            or not isinstance(sensitivity, int | float)
            or not MIN_SENSITIVITY <= sensitivity <= MAX_SENSITIVITY
        ):
            raise InvalidConfigError("invalid_value", CONF_SENSITIVITY)
        settings = cls(
            name=read_required_str(data, CONF_NAME, "name_required"),
            camera_entity=read_required_str(data, CONF_CAMERA_ENTITY, "camera_entity_required"),
            status_entity=read_required_str(data, CONF_STATUS_ENTITY, "status_entity_required"),
            printing_states=read_str_list(data, CONF_PRINTING_STATES, DEFAULT_PRINTING_STATES),
            paused_states=read_str_list(data, CONF_PAUSED_STATES, DEFAULT_PAUSED_STATES),
            action=action,
            pause_entity=read_optional_str(data, CONF_PAUSE_ENTITY),
            power_entity=read_optional_str(data, CONF_POWER_ENTITY),
            sensitivity=float(sensitivity),
            poll_interval=read_int(
                data, CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL, MIN_POLL_INTERVAL
            ),
            grace_minutes=read_int(data, CONF_GRACE_MINUTES, 0, 0),
        )
        if settings.grace_minutes > MAX_GRACE_MINUTES:
            raise InvalidConfigError("invalid_value", CONF_GRACE_MINUTES)
        if not settings.printing_states:
            raise InvalidConfigError("printing_states_required", CONF_PRINTING_STATES)
        if action != PRINTER_ACTION_NOTIFY and settings.pause_entity is None:
            raise InvalidConfigError("pause_entity_required", CONF_PAUSE_ENTITY)
        if action == PRINTER_ACTION_PAUSE_AND_OFF and settings.power_entity is None:
            raise InvalidConfigError("power_entity_required", CONF_POWER_ENTITY)
        return settings

    def as_data(self) -> dict[str, Any]:
        """Return the subentry data to store."""
        data: dict[str, Any] = {
            CONF_NAME: self.name,
            CONF_CAMERA_ENTITY: self.camera_entity,
            CONF_STATUS_ENTITY: self.status_entity,
            CONF_PRINTING_STATES: list(self.printing_states),
            CONF_PAUSED_STATES: list(self.paused_states),
            CONF_ACTION: self.action,
            CONF_SENSITIVITY: self.sensitivity,
            CONF_POLL_INTERVAL: self.poll_interval,
            CONF_GRACE_MINUTES: self.grace_minutes,
        }
        if self.pause_entity:
            data[CONF_PAUSE_ENTITY] = self.pause_entity
        if self.power_entity:
            data[CONF_POWER_ENTITY] = self.power_entity
        return data
