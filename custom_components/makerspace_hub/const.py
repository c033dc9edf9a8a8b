"""Constants of makerspace_hub: the domain, the stored configuration keys and defaults.

The keys below are a contract: config entries, subentries and the dm_mac import store
exactly these, and later releases must keep reading them.
"""

import logging
from typing import Final

DOMAIN: Final = "makerspace_hub"
LOGGER = logging.getLogger(__package__)

# The bus event fired for every event of a machine, printer or recording sensor
# (`bus_events`): its data name the device, the hub entry and the event type.
EVENT_MAKERSPACE_HUB: Final = "makerspace_hub_event"
ATTR_ENTRY_ID: Final = "entry_id"
ATTR_TYPE: Final = "type"

# Hub entry data.
CONF_NAME: Final = "name"
CONF_WEBHOOK_ID: Final = "webhook_id"

# Hub options.
CONF_USERS_FILE: Final = "users_file"
CONF_NOTIFY_SERVICES: Final = "notify_services"
CONF_EXPIRY_GRACE_DAYS: Final = "expiry_grace_days"
CONF_ML_API_URL: Final = "ml_api_url"
CONF_ML_API_TOKEN: Final = "ml_api_token"  # noqa: S105 - a key, not a secret
CONF_SNAPSHOT_BASE_URL: Final = "snapshot_base_url"
CONF_RECORDINGS_DIR: Final = "recordings_dir"
CONF_WEBHOOKS_ALLOW_INTERNET: Final = "webhooks_allow_internet"
CONF_OOPS_ALERTS: Final = "oops_alerts"
CONF_PRINT_WARNING_ALERTS: Final = "print_warning_alerts"
CONF_NON_ADMINS_MAKE_USABLE: Final = "non_admins_make_usable"
CONF_RECORD_USAGE: Final = "record_usage"
CONF_USAGE_RETENTION_DAYS: Final = "usage_retention_days"

DEFAULT_USERS_FILE: Final = "makerspace_hub/users.json"
DEFAULT_EXPIRY_GRACE_DAYS: Final = 7
DEFAULT_USAGE_RETENTION_DAYS: Final = 1096  # three years, a leap day included
MAX_USAGE_RETENTION_DAYS: Final = 36525  # a hundred years
DEFAULT_RECORDINGS_DIR: Final = "media/makerspace_hub"
MAX_EXPIRY_GRACE_DAYS: Final = 365

# Subentry types: each subentry is one device linked to the hub device.
SUBENTRY_MACHINE: Final = "machine"
SUBENTRY_RECORDING_SENSOR: Final = "recording_sensor"
SUBENTRY_PRINTER: Final = "printer"

# Machine subentry (same keys as a dm_mac machines.json entry, plus the webhook).
CONF_ALIAS: Final = "alias"
CONF_AUTHORIZATIONS_OR: Final = "authorizations_or"
CONF_UNAUTHORIZED_WARN_ONLY: Final = "unauthorized_warn_only"
CONF_ALWAYS_ENABLED: Final = "always_enabled"
# Machine subentry, beyond dm_mac: sessions that end by themselves (0 = never).
CONF_IDLE_LOGOUT_MINUTES: Final = "idle_logout_minutes"
CONF_IDLE_CURRENT_AMPS: Final = "idle_current_amps"
CONF_MAX_SESSION_MINUTES: Final = "max_session_minutes"
DEFAULT_IDLE_CURRENT_AMPS: Final = 0.5
MAX_SESSION_LIMIT_MINUTES: Final = 7 * 24 * 60  # the longest idle or session limit: a week
# Machine subentry, beyond dm_mac: a service interval in hours of use (0 = off).
CONF_SERVICE_INTERVAL_HOURS: Final = "service_interval_hours"
CONF_LOCK_OUT_WHEN_SERVICE_DUE: Final = "lock_out_when_service_due"
MAX_SERVICE_INTERVAL_HOURS: Final = 100_000
CONF_SECOND_RELAY: Final = "second_relay"
SLUG_NAME_PATTERN: Final = r"^[a-z0-9_-]+$"

# Recording sensor subentry.
CONF_KIND: Final = "kind"
CONF_CAMERA_ENTITY: Final = "camera_entity"
CONF_ENTITIES: Final = "entities"
CONF_ACTION: Final = "action"
CONF_CAPTURE_WINDOW_START: Final = "capture_window_start"
CONF_CAPTURE_WINDOW_END: Final = "capture_window_end"
CONF_CAPTURE_DURATION_SECONDS: Final = "capture_duration_seconds"
CONF_CAPTURE_INTERVAL_SECONDS: Final = "capture_interval_seconds"
CONF_AUTO_START: Final = "auto_start"

KIND_CAMERA: Final = "camera"
KIND_SAMPLES: Final = "samples"
KIND_ACTION: Final = "action"
RECORDING_KINDS: Final = (KIND_CAMERA, KIND_SAMPLES, KIND_ACTION)

DEFAULT_CAPTURE_WINDOW_START: Final = "08:00:00"
DEFAULT_CAPTURE_WINDOW_END: Final = "20:00:00"
DEFAULT_CAPTURE_DURATION_SECONDS: Final = 60
DEFAULT_CAPTURE_INTERVAL_SECONDS: Final = 300
DEFAULT_AUTO_START: Final = True

# Printer subentry (the printer's `action` is one of PRINTER_ACTIONS, unlike the
# recording sensor's `action`, which is an action sequence).
CONF_STATUS_ENTITY: Final = "status_entity"
CONF_PRINTING_STATES: Final = "printing_states"
CONF_PAUSED_STATES: Final = "paused_states"
CONF_PAUSE_ENTITY: Final = "pause_entity"
CONF_POWER_ENTITY: Final = "power_entity"
CONF_SENSITIVITY: Final = "sensitivity"
CONF_POLL_INTERVAL: Final = "poll_interval"
CONF_GRACE_MINUTES: Final = "grace_minutes"
MAX_GRACE_MINUTES: Final = 240

PRINTER_ACTION_NOTIFY: Final = "notify"
PRINTER_ACTION_PAUSE: Final = "pause"
PRINTER_ACTION_PAUSE_AND_OFF: Final = "pause_and_off"
PRINTER_ACTIONS: Final = (
    PRINTER_ACTION_NOTIFY,
    PRINTER_ACTION_PAUSE,
    PRINTER_ACTION_PAUSE_AND_OFF,
)

DEFAULT_PRINTING_STATES: Final = ("printing", "running")
DEFAULT_PAUSED_STATES: Final = ("paused", "pause")
DEFAULT_SENSITIVITY: Final = 1.0
MIN_SENSITIVITY: Final = 0.8
MAX_SENSITIVITY: Final = 1.2
DEFAULT_POLL_INTERVAL: Final = 10
MIN_POLL_INTERVAL: Final = 5

# Recording retention (issue 17): per sensor, days of recordings kept (0 = all); the
# sensor's weekdays (`recording.schedule.WEEKDAYS`, default all); per hub, the space
# kept free on the recordings disk (0 = no floor).
CONF_KEEP_DAYS: Final = "keep_days"
CONF_WEEKDAYS: Final = "weekdays"
CONF_MIN_FREE_GB: Final = "min_free_gb"
MAX_KEEP_DAYS: Final = 36525  # a hundred years
MAX_MIN_FREE_GB: Final = 1_000_000.0  # a petabyte
