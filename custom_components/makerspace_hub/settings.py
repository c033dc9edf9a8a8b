"""Typed, validated views of the stored configuration: hub options and subentries.

Pure Python (no Home Assistant imports). The config flows, the dm_mac import and the
runtime read stored dicts only through these classes, so every key is interpreted,
defaulted and validated in one place. Invalid values raise `InvalidConfigError`, whose
`key` is a translation key and whose `field` names the offending form field.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from pathlib import PurePath
import re
from typing import Any, Self

from .const import (
    CONF_ACTION,
    CONF_ALIAS,
    CONF_ALWAYS_ENABLED,
    CONF_AUTHORIZATIONS_OR,
    CONF_AUTO_START,
    CONF_CAMERA_ENTITY,
    CONF_CAPTURE_DURATION_SECONDS,
    CONF_CAPTURE_INTERVAL_SECONDS,
    CONF_CAPTURE_WINDOW_END,
    CONF_CAPTURE_WINDOW_START,
    CONF_ENTITIES,
    CONF_EXPIRY_GRACE_DAYS,
    CONF_KIND,
    CONF_ML_API_TOKEN,
    CONF_ML_API_URL,
    CONF_NAME,
    CONF_NON_ADMINS_MAKE_USABLE,
    CONF_NOTIFY_SERVICES,
    CONF_OOPS_ALERTS,
    CONF_PAUSE_ENTITY,
    CONF_PAUSED_STATES,
    CONF_POLL_INTERVAL,
    CONF_POWER_ENTITY,
    CONF_PRINT_WARNING_ALERTS,
    CONF_PRINTING_STATES,
    CONF_RECORDINGS_DIR,
    CONF_SECOND_RELAY,
    CONF_SENSITIVITY,
    CONF_SNAPSHOT_BASE_URL,
    CONF_STATUS_ENTITY,
    CONF_UNAUTHORIZED_WARN_ONLY,
    CONF_USERS_FILE,
    CONF_WEBHOOK_ID,
    CONF_WEBHOOKS_ALLOW_INTERNET,
    DEFAULT_AUTO_START,
    DEFAULT_CAPTURE_DURATION_SECONDS,
    DEFAULT_CAPTURE_INTERVAL_SECONDS,
    DEFAULT_CAPTURE_WINDOW_END,
    DEFAULT_CAPTURE_WINDOW_START,
    DEFAULT_EXPIRY_GRACE_DAYS,
    DEFAULT_PAUSED_STATES,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_PRINTING_STATES,
    DEFAULT_RECORDINGS_DIR,
    DEFAULT_SENSITIVITY,
    DEFAULT_USERS_FILE,
    KIND_ACTION,
    KIND_CAMERA,
    KIND_SAMPLES,
    MAX_EXPIRY_GRACE_DAYS,
    MAX_SENSITIVITY,
    MIN_POLL_INTERVAL,
    MIN_SENSITIVITY,
    PRINTER_ACTION_NOTIFY,
    PRINTER_ACTION_PAUSE_AND_OFF,
    PRINTER_ACTIONS,
    RECORDING_KINDS,
    SLUG_NAME_PATTERN,
)

_NAME_RE = re.compile(SLUG_NAME_PATTERN)
_DEFAULT_WINDOW_START = time.fromisoformat(DEFAULT_CAPTURE_WINDOW_START)
_DEFAULT_WINDOW_END = time.fromisoformat(DEFAULT_CAPTURE_WINDOW_END)


class InvalidConfigError(ValueError):
    """A configuration value is invalid.

    `key` is the translation key of the error, `field` the form field it belongs
    to ("base" for the whole form) and `placeholders` fill the translated text.
    """

    def __init__(
        self, key: str, field: str = "base", placeholders: Mapping[str, str] | None = None
    ) -> None:
        """Describe the problem."""
        super().__init__(f"{key} ({field}): {placeholders}")
        self.key = key
        self.field = field
        self.placeholders = dict(placeholders or {})


def _bool(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise InvalidConfigError("invalid_value", key)
    return value


def _int(data: Mapping[str, Any], key: str, default: int, minimum: int) -> int:
    value = data.get(key, default)
    # Number selectors hand over floats; accept them only when they are whole.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidConfigError("invalid_value", key)
    if value != int(value) or value < minimum:
        raise InvalidConfigError("invalid_value", key)
    return int(value)


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidConfigError("invalid_value", key)
    return value.strip() or None


def _str_list(data: Mapping[str, Any], key: str, default: Sequence[str] = ()) -> tuple[str, ...]:
    value = data.get(key, list(default))
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise InvalidConfigError("invalid_value", key)
    return tuple(value)


def _required_str(data: Mapping[str, Any], key: str, problem: str) -> str:
    value = _optional_str(data, key)
    if value is None:
        raise InvalidConfigError(problem, key)
    return value


def parse_time(value: Any, key: str) -> time:
    """Parse `HH:MM:SS` (or `HH:MM`) as stored by the time selector."""
    if not isinstance(value, str):
        raise InvalidConfigError("invalid_time", key)
    try:
        return time.fromisoformat(value)
    except ValueError as err:
        raise InvalidConfigError("invalid_time", key) from err


def validate_slug_name(value: Any, key: str = CONF_NAME) -> str:
    """Return a valid name for a machine or recording sensor.

    A machine's name is its board's ESPHome device name, a recording sensor's name
    is its folder under the recordings directory: `^[a-z0-9_-]+$` for both.
    """
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise InvalidConfigError("invalid_name", key)
    return value


@dataclass(frozen=True, kw_only=True)
class HubSettings:
    """The hub's options, with defaults for anything not stored."""

    users_file: str = DEFAULT_USERS_FILE
    notify_services: tuple[str, ...] = ()
    expiry_grace_days: int = DEFAULT_EXPIRY_GRACE_DAYS
    ml_api_url: str | None = None
    ml_api_token: str | None = field(default=None, repr=False)
    snapshot_base_url: str | None = None
    recordings_dir: str = DEFAULT_RECORDINGS_DIR
    webhooks_allow_internet: bool = False
    oops_alerts: bool = False
    print_warning_alerts: bool = False
    # Off: only admins (and automations) make a machine usable again; see `authority`.
    non_admins_make_usable: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        """Read (and validate) stored options."""
        grace = _int(options, CONF_EXPIRY_GRACE_DAYS, DEFAULT_EXPIRY_GRACE_DAYS, 0)
        if grace > MAX_EXPIRY_GRACE_DAYS:
            raise InvalidConfigError("invalid_value", CONF_EXPIRY_GRACE_DAYS)
        ml_api_url = _optional_str(options, CONF_ML_API_URL)
        snapshot_base_url = _optional_str(options, CONF_SNAPSHOT_BASE_URL)
        return cls(
            users_file=_optional_str(options, CONF_USERS_FILE) or DEFAULT_USERS_FILE,
            notify_services=_str_list(options, CONF_NOTIFY_SERVICES),
            expiry_grace_days=grace,
            ml_api_url=ml_api_url.rstrip("/") if ml_api_url else None,
            ml_api_token=_optional_str(options, CONF_ML_API_TOKEN),
            snapshot_base_url=snapshot_base_url.rstrip("/") if snapshot_base_url else None,
            recordings_dir=_optional_str(options, CONF_RECORDINGS_DIR) or DEFAULT_RECORDINGS_DIR,
            webhooks_allow_internet=_bool(options, CONF_WEBHOOKS_ALLOW_INTERNET, False),
            oops_alerts=_bool(options, CONF_OOPS_ALERTS, False),
            print_warning_alerts=_bool(options, CONF_PRINT_WARNING_ALERTS, False),
            non_admins_make_usable=_bool(options, CONF_NON_ADMINS_MAKE_USABLE, False),
        )

    def as_options(self) -> dict[str, Any]:
        """Return the options to store (optional values only when set)."""
        options: dict[str, Any] = {
            CONF_USERS_FILE: self.users_file,
            CONF_NOTIFY_SERVICES: list(self.notify_services),
            CONF_EXPIRY_GRACE_DAYS: self.expiry_grace_days,
            CONF_RECORDINGS_DIR: self.recordings_dir,
            CONF_WEBHOOKS_ALLOW_INTERNET: self.webhooks_allow_internet,
            CONF_OOPS_ALERTS: self.oops_alerts,
            CONF_PRINT_WARNING_ALERTS: self.print_warning_alerts,
            CONF_NON_ADMINS_MAKE_USABLE: self.non_admins_make_usable,
        }
        optional = {
            CONF_ML_API_URL: self.ml_api_url,
            CONF_ML_API_TOKEN: self.ml_api_token,
            CONF_SNAPSHOT_BASE_URL: self.snapshot_base_url,
        }
        return options | {key: value for key, value in optional.items() if value is not None}


def resolve_config_path(value: str, config_dir: str) -> str:
    """Resolve a path option: absolute as given, relative to the config directory."""
    path = PurePath(value)
    return str(path if path.is_absolute() else PurePath(config_dir, path))


def resolve_recordings_dir(value: str, config_dir: str, local_media_dir: str) -> str:
    """Resolve the recordings directory option.

    A relative path that starts with `media` lands in Home Assistant's local media
    folder, wherever the installation keeps it (`<config>/media` in a container,
    `/media` on Home Assistant OS), so recordings appear in the media browser.
    Other relative paths are relative to the config directory.
    """
    path = PurePath(value)
    if not path.is_absolute() and path.parts and path.parts[0] == "media":
        return str(PurePath(local_media_dir, *path.parts[1:]))
    return resolve_config_path(value, config_dir)


@dataclass(frozen=True, kw_only=True)
class SecondRelaySettings:
    """Rules of a machine's optional second relay (e.g. a dust collector)."""

    authorizations_or: tuple[str, ...] = ()
    unauthorized_warn_only: bool = False
    always_enabled: bool = False
    alias: str | None = None

    @classmethod
    def from_data(cls, data: Any) -> Self:
        """Read and validate a `second_relay` object."""
        if not isinstance(data, Mapping):
            raise InvalidConfigError("invalid_value", CONF_SECOND_RELAY)
        return cls(
            authorizations_or=_str_list(data, CONF_AUTHORIZATIONS_OR),
            unauthorized_warn_only=_bool(data, CONF_UNAUTHORIZED_WARN_ONLY, False),
            always_enabled=_bool(data, CONF_ALWAYS_ENABLED, False),
            alias=_optional_str(data, CONF_ALIAS),
        )

    def as_data(self) -> dict[str, Any]:
        """Return the object to store."""
        data: dict[str, Any] = {
            CONF_AUTHORIZATIONS_OR: list(self.authorizations_or),
            CONF_UNAUTHORIZED_WARN_ONLY: self.unauthorized_warn_only,
            CONF_ALWAYS_ENABLED: self.always_enabled,
        }
        if self.alias:
            data[CONF_ALIAS] = self.alias
        return data


# The keys of one dm_mac machines.json entry (the machine name is its object key).
DM_MAC_MACHINE_KEYS = frozenset(
    {
        CONF_ALIAS,
        CONF_AUTHORIZATIONS_OR,
        CONF_UNAUTHORIZED_WARN_ONLY,
        CONF_ALWAYS_ENABLED,
        CONF_SECOND_RELAY,
    }
)
DM_MAC_SECOND_RELAY_KEYS = frozenset(
    {CONF_ALIAS, CONF_AUTHORIZATIONS_OR, CONF_UNAUTHORIZED_WARN_ONLY, CONF_ALWAYS_ENABLED}
)


@dataclass(frozen=True, kw_only=True)
class MachineSettings:
    """One machine: its access rules and its board's webhook."""

    name: str
    alias: str | None = None
    authorizations_or: tuple[str, ...] = ()
    unauthorized_warn_only: bool = False
    always_enabled: bool = False
    second_relay: SecondRelaySettings | None = None
    webhook_id: str = field(default="", repr=False)

    @property
    def display_name(self) -> str:
        """Return the alias when set, else the name."""
        return self.alias or self.name

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """Read and validate machine data (a subentry or a dm_mac entry with its name)."""
        second_relay = data.get(CONF_SECOND_RELAY)
        return cls(
            name=validate_slug_name(data.get(CONF_NAME)),
            alias=_optional_str(data, CONF_ALIAS),
            authorizations_or=_str_list(data, CONF_AUTHORIZATIONS_OR),
            unauthorized_warn_only=_bool(data, CONF_UNAUTHORIZED_WARN_ONLY, False),
            always_enabled=_bool(data, CONF_ALWAYS_ENABLED, False),
            second_relay=None
            if second_relay is None
            else SecondRelaySettings.from_data(second_relay),
            webhook_id=_optional_str(data, CONF_WEBHOOK_ID) or "",
        )

    def as_data(self) -> dict[str, Any]:
        """Return the subentry data to store."""
        data: dict[str, Any] = {
            CONF_NAME: self.name,
            CONF_AUTHORIZATIONS_OR: list(self.authorizations_or),
            CONF_UNAUTHORIZED_WARN_ONLY: self.unauthorized_warn_only,
            CONF_ALWAYS_ENABLED: self.always_enabled,
            CONF_WEBHOOK_ID: self.webhook_id,
        }
        if self.alias:
            data[CONF_ALIAS] = self.alias
        if self.second_relay is not None:
            data[CONF_SECOND_RELAY] = self.second_relay.as_data()
        return data


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
            camera_entity=_optional_str(data, CONF_CAMERA_ENTITY),
            entities=_str_list(data, CONF_ENTITIES),
            action=tuple(dict(step) for step in action),
            capture_window_start=parse_time(
                data.get(CONF_CAPTURE_WINDOW_START, DEFAULT_CAPTURE_WINDOW_START),
                CONF_CAPTURE_WINDOW_START,
            ),
            capture_window_end=parse_time(
                data.get(CONF_CAPTURE_WINDOW_END, DEFAULT_CAPTURE_WINDOW_END),
                CONF_CAPTURE_WINDOW_END,
            ),
            capture_duration_seconds=_int(
                data, CONF_CAPTURE_DURATION_SECONDS, DEFAULT_CAPTURE_DURATION_SECONDS, 1
            ),
            capture_interval_seconds=_int(
                data, CONF_CAPTURE_INTERVAL_SECONDS, DEFAULT_CAPTURE_INTERVAL_SECONDS, 1
            ),
            auto_start=_bool(data, CONF_AUTO_START, DEFAULT_AUTO_START),
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
            name=_required_str(data, CONF_NAME, "name_required"),
            camera_entity=_required_str(data, CONF_CAMERA_ENTITY, "camera_entity_required"),
            status_entity=_required_str(data, CONF_STATUS_ENTITY, "status_entity_required"),
            printing_states=_str_list(data, CONF_PRINTING_STATES, DEFAULT_PRINTING_STATES),
            paused_states=_str_list(data, CONF_PAUSED_STATES, DEFAULT_PAUSED_STATES),
            action=action,
            pause_entity=_optional_str(data, CONF_PAUSE_ENTITY),
            power_entity=_optional_str(data, CONF_POWER_ENTITY),
            sensitivity=float(sensitivity),
            poll_interval=_int(data, CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL, MIN_POLL_INTERVAL),
        )
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
        }
        if self.pause_entity:
            data[CONF_PAUSE_ENTITY] = self.pause_entity
        if self.power_entity:
            data[CONF_POWER_ENTITY] = self.power_entity
        return data
