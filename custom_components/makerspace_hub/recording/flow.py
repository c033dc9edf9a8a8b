"""Add or reconfigure a recording sensor (camera, samples or action)."""

from typing import Any

from homeassistant.config_entries import SubentryFlowResult
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.script import async_validate_actions_config
from homeassistant.helpers.selector import (
    ActionSelector,
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
import voluptuous as vol

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
    SUBENTRY_RECORDING_SENSOR,
)
from ..subentry_flow import HubSubentryFlow, seconds_selector
from ..validation import InvalidConfigError, validate_slug_name
from .schedule import WEEKDAYS
from .settings import RecordingSensorSettings

_SCHEDULE_DEFAULTS = {
    CONF_CAPTURE_WINDOW_START: DEFAULT_CAPTURE_WINDOW_START,
    CONF_CAPTURE_WINDOW_END: DEFAULT_CAPTURE_WINDOW_END,
    CONF_CAPTURE_DURATION_SECONDS: DEFAULT_CAPTURE_DURATION_SECONDS,
    CONF_CAPTURE_INTERVAL_SECONDS: DEFAULT_CAPTURE_INTERVAL_SECONDS,
    CONF_AUTO_START: DEFAULT_AUTO_START,
    CONF_WEEKDAYS: list(WEEKDAYS),
    CONF_KEEP_DAYS: 0,
}
# A clock time, or sunrise / sunset with an offset: text (the data description says how).
_WINDOW_TIME = TextSelector()
_WEEKDAYS = SelectSelector(
    SelectSelectorConfig(
        options=list(WEEKDAYS),
        multiple=True,
        translation_key="weekday",
        mode=SelectSelectorMode.LIST,
    )
)
_KEEP_DAYS = NumberSelector(
    NumberSelectorConfig(
        min=0, max=MAX_KEEP_DAYS, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="days"
    )
)


class RecordingSensorSubentryFlow(HubSubentryFlow):
    """Add or reconfigure a scheduled recording sensor.

    First its name and kind, then what it records and when.
    """

    subentry_type = SUBENTRY_RECORDING_SENSOR

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._identity: dict[str, Any] = {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Name the sensor and choose what it records."""
        return await self._async_identity_step("user", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Rename the sensor or change what it records."""
        return await self._async_identity_step("reconfigure", user_input)

    async def _async_identity_step(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            try:
                validate_slug_name(name)
            except InvalidConfigError as problem:
                errors[problem.field] = problem.key
            else:
                if any(s.data[CONF_NAME] == name for s in self._siblings()):
                    errors[CONF_NAME] = "name_taken"
                else:
                    self._identity = {CONF_NAME: name, CONF_KIND: user_input[CONF_KIND]}
                    return await self._async_schedule_step(user_input[CONF_KIND], None)
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): TextSelector(),
                vol.Required(CONF_KIND): SelectSelector(
                    SelectSelectorConfig(
                        options=list(RECORDING_KINDS),
                        translation_key="recording_kind",
                        mode=SelectSelectorMode.LIST,
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input or self._current()),
            errors=errors,
        )

    async def async_step_camera(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Record clips from a camera."""
        return await self._async_schedule_step(KIND_CAMERA, user_input)

    async def async_step_samples(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Sample entity states into a daily CSV file."""
        return await self._async_schedule_step(KIND_SAMPLES, user_input)

    async def async_step_action(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Run actions at each slot."""
        return await self._async_schedule_step(KIND_ACTION, user_input)

    async def _async_schedule_step(
        self, kind: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            data = {**user_input, **self._identity}
            try:
                if kind == KIND_ACTION:
                    await self._async_validate_action(data.get(CONF_ACTION))
                sensor = RecordingSensorSettings.from_data(data)
            except InvalidConfigError as problem:
                errors[problem.field] = problem.key
                placeholders = problem.placeholders
            else:
                return self._finish(title=sensor.name, data=sensor.as_data(), unique_id=sensor.name)
        what: dict[str, dict[vol.Marker, Any]] = {
            KIND_CAMERA: {
                vol.Required(CONF_CAMERA_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="camera")
                )
            },
            KIND_SAMPLES: {
                vol.Required(CONF_ENTITIES): EntitySelector(EntitySelectorConfig(multiple=True))
            },
            KIND_ACTION: {vol.Required(CONF_ACTION): ActionSelector()},
        }
        schema = vol.Schema(
            {
                **what[kind],
                vol.Required(CONF_CAPTURE_WINDOW_START): _WINDOW_TIME,
                vol.Required(CONF_CAPTURE_WINDOW_END): _WINDOW_TIME,
                vol.Required(CONF_CAPTURE_DURATION_SECONDS): seconds_selector(1),
                vol.Required(CONF_CAPTURE_INTERVAL_SECONDS): seconds_selector(1),
                # Defaults: clients that predate them (the demo's provisioning) omit them.
                vol.Required(CONF_WEEKDAYS, default=list(WEEKDAYS)): _WEEKDAYS,
                vol.Required(CONF_KEEP_DAYS, default=0): _KEEP_DAYS,
                vol.Required(CONF_AUTO_START): BooleanSelector(),
            }
        )
        return self.async_show_form(
            step_id=kind,
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {**_SCHEDULE_DEFAULTS, **self._current()}
            ),
            errors=errors,
            description_placeholders={CONF_NAME: self._identity[CONF_NAME], **placeholders},
        )

    async def _async_validate_action(self, action: Any) -> None:
        if not action:
            raise InvalidConfigError("action_required", CONF_ACTION)
        try:
            await async_validate_actions_config(self.hass, cv.SCRIPT_SCHEMA(action))
        except (vol.Invalid, HomeAssistantError) as err:
            raise InvalidConfigError("invalid_action", CONF_ACTION, {"error": str(err)}) from err
