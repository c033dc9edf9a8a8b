"""A recording sensor's stored subentry, typed and validated (pure).

No Home Assistant imports; also resolves the recordings directory option.

A window start or end is stored as text: a clock time `HH:MM:SS`, or `sunrise` /
`sunset` with an optional offset `+HH:MM` / `-HH:MM` (e.g. `sunset-01:00`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath
import re
from typing import Any, Self

from ..const import (
    CONF_ACTION,
    CONF_AUTO_START,
    CONF_CAMERA_ENTITY,
    CONF_CAPTURE_DURATION_SECONDS,
    CONF_CAPTURE_INTERVAL_SECONDS,
    CONF_CAPTURE_WINDOW_END,
    CONF_CAPTURE_WINDOW_START,
    CONF_ENTITIES,
    CONF_KEEP_DAYS,
    CONF_KIND,
    CONF_NAME,
    CONF_WEEKDAYS,
    DEFAULT_AUTO_START,
    DEFAULT_CAPTURE_DURATION_SECONDS,
    DEFAULT_CAPTURE_INTERVAL_SECONDS,
    DEFAULT_CAPTURE_WINDOW_END,
    DEFAULT_CAPTURE_WINDOW_START,
    KIND_ACTION,
    KIND_CAMERA,
    KIND_SAMPLES,
    MAX_KEEP_DAYS,
    RECORDING_KINDS,
)
from ..validation import (
    InvalidConfigError,
    parse_time,
    read_bool,
    read_int,
    read_optional_str,
    read_str_list,
    resolve_config_path,
    validate_slug_name,
)
from .schedule import SUN_EVENTS, WEEKDAYS, WindowTime

_SUN_TIME = re.compile(r"(sunrise|sunset)(?:([+-])(\d{1,2}):([0-5]\d))?")


def parse_window_time(value: Any, key: str) -> WindowTime:
    """Read a stored window start or end; spaces and capitals are forgiven."""
    if isinstance(value, str):
        text = "".join(value.split()).lower()
        if text.startswith(SUN_EVENTS):
            found = _SUN_TIME.fullmatch(text)
            if found is None or int(found[3] or 0) > 23:
                raise InvalidConfigError("invalid_time", key)
            offset = timedelta(hours=int(found[3] or 0), minutes=int(found[4] or 0))
            return WindowTime(event=found[1], offset=-offset if found[2] == "-" else offset)
    return WindowTime(clock=parse_time(value, key))


def window_time_text(value: WindowTime) -> str:
    """Return a window start or end as stored: `08:00:00`, `sunrise`, `sunset-01:00`."""
    if value.clock is not None:
        return value.clock.isoformat()
    minutes = int(abs(value.offset).total_seconds()) // 60
    if not minutes:
        return value.event or ""
    sign = "-" if value.offset < timedelta() else "+"
    return f"{value.event}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def read_weekdays(data: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the stored weekdays in week order (every day when not stored)."""
    days = set(read_str_list(data, CONF_WEEKDAYS, WEEKDAYS))
    if not days <= set(WEEKDAYS):
        raise InvalidConfigError("invalid_value", CONF_WEEKDAYS)
    if not days:
        raise InvalidConfigError("weekdays_required", CONF_WEEKDAYS)
    return tuple(day for day in WEEKDAYS if day in days)


_DEFAULT_WINDOW_START = parse_window_time(DEFAULT_CAPTURE_WINDOW_START, "")
_DEFAULT_WINDOW_END = parse_window_time(DEFAULT_CAPTURE_WINDOW_END, "")


def resolve_recordings_dir(value: str, config_dir: str, local_media_dir: str) -> str:
    """Resolve the recordings directory option.

    A relative path that starts with `media` lands in Home Assistant's local media
    folder, wherever the installation keeps it (`<config>/media` in a container,
    `/media` on Home Assistant OS), so clips appear in the media browser (which lists
    audio, video and images: not the samples' CSV files).
    Other relative paths are relative to the config directory.
    """
    path = PurePath(value)
    if not path.is_absolute() and path.parts and path.parts[0] == "media":
        return str(PurePath(local_media_dir, *path.parts[1:]))
    return resolve_config_path(value, config_dir)


@dataclass(frozen=True, kw_only=True)
class RecordingSensorSettings:
    """One scheduled recording sensor (a Beemon sensor)."""

    name: str
    kind: str
    camera_entity: str | None = None
    entities: tuple[str, ...] = ()
    action: tuple[dict[str, Any], ...] = ()
    capture_window_start: WindowTime = _DEFAULT_WINDOW_START
    capture_window_end: WindowTime = _DEFAULT_WINDOW_END
    capture_duration_seconds: int = DEFAULT_CAPTURE_DURATION_SECONDS
    capture_interval_seconds: int = DEFAULT_CAPTURE_INTERVAL_SECONDS
    auto_start: bool = DEFAULT_AUTO_START
    weekdays: tuple[str, ...] = WEEKDAYS  # the days whose window runs, in week order
    keep_days: int = 0  # days of recordings kept, today included; 0: all

    @property
    def weekday_numbers(self) -> frozenset[int]:
        """Return the weekdays as `date.weekday()` numbers."""
        return frozenset(WEEKDAYS.index(day) for day in self.weekdays)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """Read and validate recording sensor data."""
        name = validate_slug_name(data.get(CONF_NAME))
        kind = data.get(CONF_KIND)
        if kind not in RECORDING_KINDS:
            raise InvalidConfigError("invalid_value", CONF_KIND)
        action = data.get(CONF_ACTION) or []
        if isinstance(action, Mapping):
            action = [action]
        if not isinstance(action, list) or not all(isinstance(step, Mapping) for step in action):
            raise InvalidConfigError("invalid_action", CONF_ACTION)
        settings = cls(
            name=name,
            kind=kind,
            camera_entity=read_optional_str(data, CONF_CAMERA_ENTITY),
            entities=read_str_list(data, CONF_ENTITIES),
            action=tuple(dict(step) for step in action),
            capture_window_start=parse_window_time(
                data.get(CONF_CAPTURE_WINDOW_START, DEFAULT_CAPTURE_WINDOW_START),
                CONF_CAPTURE_WINDOW_START,
            ),
            capture_window_end=parse_window_time(
                data.get(CONF_CAPTURE_WINDOW_END, DEFAULT_CAPTURE_WINDOW_END),
                CONF_CAPTURE_WINDOW_END,
            ),
            capture_duration_seconds=read_int(
                data, CONF_CAPTURE_DURATION_SECONDS, DEFAULT_CAPTURE_DURATION_SECONDS, 1
            ),
            capture_interval_seconds=read_int(
                data, CONF_CAPTURE_INTERVAL_SECONDS, DEFAULT_CAPTURE_INTERVAL_SECONDS, 1
            ),
            auto_start=read_bool(data, CONF_AUTO_START, DEFAULT_AUTO_START),
            weekdays=read_weekdays(data),
            keep_days=read_int(data, CONF_KEEP_DAYS, 0, 0),
        )
        if settings.keep_days > MAX_KEEP_DAYS:
            raise InvalidConfigError("invalid_value", CONF_KEEP_DAYS)
        if kind == KIND_CAMERA:
            if settings.camera_entity is None:
                raise InvalidConfigError("camera_entity_required", CONF_CAMERA_ENTITY)
            # A camera cannot record two clips at once.
            if settings.capture_duration_seconds > settings.capture_interval_seconds:
                raise InvalidConfigError(
                    "duration_longer_than_interval", CONF_CAPTURE_DURATION_SECONDS
                )
        if kind == KIND_SAMPLES and not settings.entities:
            raise InvalidConfigError("entities_required", CONF_ENTITIES)
        if kind == KIND_ACTION and not settings.action:
            raise InvalidConfigError("action_required", CONF_ACTION)
        return settings

    def as_data(self) -> dict[str, Any]:
        """Return the subentry data to store (only the fields of its kind)."""
        data: dict[str, Any] = {
            CONF_NAME: self.name,
            CONF_KIND: self.kind,
            CONF_CAPTURE_WINDOW_START: window_time_text(self.capture_window_start),
            CONF_CAPTURE_WINDOW_END: window_time_text(self.capture_window_end),
            CONF_CAPTURE_DURATION_SECONDS: self.capture_duration_seconds,
            CONF_CAPTURE_INTERVAL_SECONDS: self.capture_interval_seconds,
            CONF_AUTO_START: self.auto_start,
            CONF_WEEKDAYS: list(self.weekdays),
            CONF_KEEP_DAYS: self.keep_days,
        }
        if self.kind == KIND_CAMERA:
            data[CONF_CAMERA_ENTITY] = self.camera_entity
        elif self.kind == KIND_SAMPLES:
            data[CONF_ENTITIES] = list(self.entities)
        else:
            data[CONF_ACTION] = [dict(step) for step in self.action]
        return data
