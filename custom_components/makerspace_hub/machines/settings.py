"""A machine's stored subentry, typed and validated (pure: no Home Assistant imports).

The config flow, the dm_mac import and the runtime read a machine's dict only through
these classes, so every key is interpreted, defaulted and validated in one place.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from ..const import (
    CONF_ALIAS,
    CONF_ALWAYS_ENABLED,
    CONF_AUTHORIZATIONS_OR,
    CONF_IDLE_CURRENT_AMPS,
    CONF_IDLE_LOGOUT_MINUTES,
    CONF_LOCK_OUT_WHEN_SERVICE_DUE,
    CONF_MAX_SESSION_MINUTES,
    CONF_NAME,
    CONF_SECOND_RELAY,
    CONF_SERVICE_INTERVAL_HOURS,
    CONF_UNAUTHORIZED_WARN_ONLY,
    CONF_WEBHOOK_ID,
    DEFAULT_IDLE_CURRENT_AMPS,
    MAX_SERVICE_INTERVAL_HOURS,
    MAX_SESSION_LIMIT_MINUTES,
)
from ..validation import (
    InvalidConfigError,
    read_bool,
    read_int,
    read_optional_float,
    read_optional_str,
    read_str_list,
    validate_slug_name,
)


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
            authorizations_or=read_str_list(data, CONF_AUTHORIZATIONS_OR),
            unauthorized_warn_only=read_bool(data, CONF_UNAUTHORIZED_WARN_ONLY, False),
            always_enabled=read_bool(data, CONF_ALWAYS_ENABLED, False),
            alias=read_optional_str(data, CONF_ALIAS),
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
    # Sessions that end by themselves (0 = never): after this long below
    # `idle_current_amps` as the board reports it, or this long in all.
    idle_logout_minutes: int = 0
    idle_current_amps: float = DEFAULT_IDLE_CURRENT_AMPS
    max_session_minutes: int = 0
    # A service interval in hours of use (0 = off), and whether the machine locks out
    # when it runs out (at the end of the running session: `service`).
    service_interval_hours: int = 0
    lock_out_when_service_due: bool = False

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
            alias=read_optional_str(data, CONF_ALIAS),
            authorizations_or=read_str_list(data, CONF_AUTHORIZATIONS_OR),
            unauthorized_warn_only=read_bool(data, CONF_UNAUTHORIZED_WARN_ONLY, False),
            always_enabled=read_bool(data, CONF_ALWAYS_ENABLED, False),
            second_relay=None
            if second_relay is None
            else SecondRelaySettings.from_data(second_relay),
            webhook_id=read_optional_str(data, CONF_WEBHOOK_ID) or "",
            idle_logout_minutes=_minutes(data, CONF_IDLE_LOGOUT_MINUTES),
            idle_current_amps=_amps(data),
            max_session_minutes=_minutes(data, CONF_MAX_SESSION_MINUTES),
            service_interval_hours=_whole(
                data, CONF_SERVICE_INTERVAL_HOURS, MAX_SERVICE_INTERVAL_HOURS
            ),
            lock_out_when_service_due=read_bool(data, CONF_LOCK_OUT_WHEN_SERVICE_DUE, False),
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
        # Only when set: a machine without them keeps dm_mac's shape.
        if self.idle_logout_minutes:
            data[CONF_IDLE_LOGOUT_MINUTES] = self.idle_logout_minutes
            data[CONF_IDLE_CURRENT_AMPS] = self.idle_current_amps
        if self.max_session_minutes:
            data[CONF_MAX_SESSION_MINUTES] = self.max_session_minutes
        if self.service_interval_hours:
            data[CONF_SERVICE_INTERVAL_HOURS] = self.service_interval_hours
            data[CONF_LOCK_OUT_WHEN_SERVICE_DUE] = self.lock_out_when_service_due
        return data


def _whole(data: Mapping[str, Any], key: str, maximum: int) -> int:
    value = read_int(data, key, 0, 0)
    if value > maximum:
        raise InvalidConfigError("invalid_value", key)
    return value


def _minutes(data: Mapping[str, Any], key: str) -> int:
    return _whole(data, key, MAX_SESSION_LIMIT_MINUTES)


def _amps(data: Mapping[str, Any]) -> float:
    if (amps := read_optional_float(data, CONF_IDLE_CURRENT_AMPS)) is None:
        return DEFAULT_IDLE_CURRENT_AMPS
    if amps <= 0:
        raise InvalidConfigError("invalid_value", CONF_IDLE_CURRENT_AMPS)
    return amps
