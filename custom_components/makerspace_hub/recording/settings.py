"""A recording sensor's stored subentry, typed and validated (pure).

No Home Assistant imports; also resolves the recordings directory option.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import PurePath
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
    CONF_KIND,
    CONF_NAME,
    DEFAULT_AUTO_START,
    DEFAULT_CAPTURE_DURATION_SECONDS,
    DEFAULT_CAPTURE_INTERVAL_SECONDS,
    DEFAULT_CAPTURE_WINDOW_END,
    DEFAULT_CAPTURE_WINDOW_START,
    KIND_ACTION,
    KIND_CAMERA,
    KIND_SAMPLES,
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

_DEFAULT_WINDOW_START = time.fromisoformat(DEFAULT_CAPTURE_WINDOW_START)
_DEFAULT_WINDOW_END = time.fromisoformat(DEFAULT_CAPTURE_WINDOW_END)


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
    capture_window_start: time = _DEFAULT_WINDOW_START
    capture_window_end: time = _DEFAULT_WINDOW_END
    capture_duration_seconds: int = DEFAULT_CAPTURE_DURATION_SECONDS
    capture_interval_seconds: int = DEFAULT_CAPTURE_INTERVAL_SECONDS
    auto_start: bool = DEFAULT_AUTO_START

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
            capture_window_start=parse_time(
                data.get(CONF_CAPTURE_WINDOW_START, DEFAULT_CAPTURE_WINDOW_START),
                CONF_CAPTURE_WINDOW_START,
            ),
            capture_window_end=parse_time(
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
        )
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
            CONF_CAPTURE_WINDOW_START: self.capture_window_start.isoformat(),
            CONF_CAPTURE_WINDOW_END: self.capture_window_end.isoformat(),
            CONF_CAPTURE_DURATION_SECONDS: self.capture_duration_seconds,
            CONF_CAPTURE_INTERVAL_SECONDS: self.capture_interval_seconds,
            CONF_AUTO_START: self.auto_start,
        }
        if self.kind == KIND_CAMERA:
            data[CONF_CAMERA_ENTITY] = self.camera_entity
        elif self.kind == KIND_SAMPLES:
            data[CONF_ENTITIES] = list(self.entities)
        else:
            data[CONF_ACTION] = [dict(step) for step in self.action]
        return data
