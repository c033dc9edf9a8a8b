"""The hub's options, typed and validated (pure: no Home Assistant imports).

Owners get these values passed in; they never read the hub or the config entry.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from .const import (
    CONF_EXPIRY_GRACE_DAYS,
    CONF_MIN_FREE_GB,
    CONF_ML_API_TOKEN,
    CONF_ML_API_URL,
    CONF_NON_ADMINS_MAKE_USABLE,
    CONF_NOTIFY_SERVICES,
    CONF_OOPS_ALERTS,
    CONF_PRINT_WARNING_ALERTS,
    CONF_RECORD_USAGE,
    CONF_RECORDINGS_DIR,
    CONF_SNAPSHOT_BASE_URL,
    CONF_USAGE_RETENTION_DAYS,
    CONF_USERS_FILE,
    CONF_WEBHOOKS_ALLOW_INTERNET,
    DEFAULT_EXPIRY_GRACE_DAYS,
    DEFAULT_RECORDINGS_DIR,
    DEFAULT_USAGE_RETENTION_DAYS,
    DEFAULT_USERS_FILE,
    MAX_EXPIRY_GRACE_DAYS,
    MAX_MIN_FREE_GB,
    MAX_USAGE_RETENTION_DAYS,
)
from .validation import (
    InvalidConfigError,
    read_bool,
    read_int,
    read_optional_float,
    read_optional_str,
    read_str_list,
)


@dataclass(frozen=True, kw_only=True)
class HubOptions:
    """The hub's options, with defaults for anything not stored."""

    users_file: str = DEFAULT_USERS_FILE
    notify_services: tuple[str, ...] = ()
    expiry_grace_days: int = DEFAULT_EXPIRY_GRACE_DAYS
    ml_api_url: str | None = None
    ml_api_token: str | None = field(default=None, repr=False)
    snapshot_base_url: str | None = None
    recordings_dir: str = DEFAULT_RECORDINGS_DIR
    # GB (10^9 bytes) the recording sensors' retention keeps free on the recordings
    # disk; 0: no floor.
    min_free_gb: float = 0.0
    webhooks_allow_internet: bool = False
    oops_alerts: bool = False
    print_warning_alerts: bool = False
    # Off: only admins (and automations) make a machine usable again; see `authority`.
    non_admins_make_usable: bool = False
    # Usage records (`machines.usage`): whether ended sessions are recorded, and
    # how long the records are kept.
    record_usage: bool = True
    usage_retention_days: int = DEFAULT_USAGE_RETENTION_DAYS

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        """Read (and validate) stored options."""
        grace = read_int(options, CONF_EXPIRY_GRACE_DAYS, DEFAULT_EXPIRY_GRACE_DAYS, 0)
        if grace > MAX_EXPIRY_GRACE_DAYS:
            raise InvalidConfigError("invalid_value", CONF_EXPIRY_GRACE_DAYS)
        retention = read_int(options, CONF_USAGE_RETENTION_DAYS, DEFAULT_USAGE_RETENTION_DAYS, 1)
        if retention > MAX_USAGE_RETENTION_DAYS:
            raise InvalidConfigError("invalid_value", CONF_USAGE_RETENTION_DAYS)
        min_free_gb = read_optional_float(options, CONF_MIN_FREE_GB) or 0.0
        if not 0 <= min_free_gb <= MAX_MIN_FREE_GB:
            raise InvalidConfigError("invalid_value", CONF_MIN_FREE_GB)
        ml_api_url = read_optional_str(options, CONF_ML_API_URL)
        snapshot_base_url = read_optional_str(options, CONF_SNAPSHOT_BASE_URL)
        return cls(
            users_file=read_optional_str(options, CONF_USERS_FILE) or DEFAULT_USERS_FILE,
            notify_services=read_str_list(options, CONF_NOTIFY_SERVICES),
            expiry_grace_days=grace,
            ml_api_url=ml_api_url.rstrip("/") if ml_api_url else None,
            ml_api_token=read_optional_str(options, CONF_ML_API_TOKEN),
            snapshot_base_url=snapshot_base_url.rstrip("/") if snapshot_base_url else None,
            recordings_dir=read_optional_str(options, CONF_RECORDINGS_DIR)
            or DEFAULT_RECORDINGS_DIR,
            min_free_gb=min_free_gb,
            webhooks_allow_internet=read_bool(options, CONF_WEBHOOKS_ALLOW_INTERNET, False),
            oops_alerts=read_bool(options, CONF_OOPS_ALERTS, False),
            print_warning_alerts=read_bool(options, CONF_PRINT_WARNING_ALERTS, False),
            non_admins_make_usable=read_bool(options, CONF_NON_ADMINS_MAKE_USABLE, False),
            record_usage=read_bool(options, CONF_RECORD_USAGE, True),
            usage_retention_days=retention,
        )

    def as_options(self) -> dict[str, Any]:
        """Return the options to store (optional values only when set)."""
        options: dict[str, Any] = {
            CONF_USERS_FILE: self.users_file,
            CONF_NOTIFY_SERVICES: list(self.notify_services),
            CONF_EXPIRY_GRACE_DAYS: self.expiry_grace_days,
            CONF_RECORDINGS_DIR: self.recordings_dir,
            CONF_MIN_FREE_GB: self.min_free_gb,
            CONF_WEBHOOKS_ALLOW_INTERNET: self.webhooks_allow_internet,
            CONF_OOPS_ALERTS: self.oops_alerts,
            CONF_PRINT_WARNING_ALERTS: self.print_warning_alerts,
            CONF_NON_ADMINS_MAKE_USABLE: self.non_admins_make_usable,
            CONF_RECORD_USAGE: self.record_usage,
            CONF_USAGE_RETENTION_DAYS: self.usage_retention_days,
        }
        optional = {
            CONF_ML_API_URL: self.ml_api_url,
            CONF_ML_API_TOKEN: self.ml_api_token,
            CONF_SNAPSHOT_BASE_URL: self.snapshot_base_url,
        }
        return options | {key: value for key, value in optional.items() if value is not None}
