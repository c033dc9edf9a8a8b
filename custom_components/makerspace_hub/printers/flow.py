"""Add or reconfigure a 3D printer watched for failures."""

from typing import Any

from homeassistant.config_entries import SubentryFlowResult
from homeassistant.helpers.selector import (
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
from homeassistant.util import slugify
import voluptuous as vol

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
    PRINTER_ACTIONS,
    SUBENTRY_PRINTER,
)
from ..subentry_flow import HubSubentryFlow, clean_list, seconds_selector
from ..validation import InvalidConfigError
from .settings import PrinterSettings


def _states_selector(suggestions: tuple[str, ...]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=list(suggestions),
            multiple=True,
            custom_value=True,
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


_PRINTER_DEFAULTS = {
    CONF_PRINTING_STATES: list(DEFAULT_PRINTING_STATES),
    CONF_PAUSED_STATES: list(DEFAULT_PAUSED_STATES),
    CONF_ACTION: PRINTER_ACTION_NOTIFY,
    CONF_SENSITIVITY: DEFAULT_SENSITIVITY,
    CONF_POLL_INTERVAL: DEFAULT_POLL_INTERVAL,
    CONF_GRACE_MINUTES: 0,
}


class PrinterSubentryFlow(HubSubentryFlow):
    """Add or reconfigure a 3D printer watched for failures."""

    subentry_type = SUBENTRY_PRINTER

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a printer."""
        return await self._async_printer_step("user", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a printer's settings."""
        return await self._async_printer_step("reconfigure", user_input)

    async def _async_printer_step(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                **user_input,
                CONF_PRINTING_STATES: clean_list(user_input.get(CONF_PRINTING_STATES)),
                CONF_PAUSED_STATES: clean_list(user_input.get(CONF_PAUSED_STATES)),
            }
            try:
                printer = PrinterSettings.from_data(data)
            except InvalidConfigError as problem:
                errors[problem.field] = problem.key
            else:
                slug = slugify(printer.name)
                if any(slugify(s.data[CONF_NAME]) == slug for s in self._siblings()):
                    errors[CONF_NAME] = "name_taken"
                else:
                    return self._finish(title=printer.name, data=printer.as_data(), unique_id=slug)
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): TextSelector(),
                vol.Required(CONF_CAMERA_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="camera")
                ),
                vol.Required(CONF_STATUS_ENTITY): EntitySelector(),
                vol.Required(CONF_PRINTING_STATES): _states_selector(DEFAULT_PRINTING_STATES),
                vol.Required(CONF_PAUSED_STATES): _states_selector(DEFAULT_PAUSED_STATES),
                vol.Required(CONF_ACTION): SelectSelector(
                    SelectSelectorConfig(
                        options=list(PRINTER_ACTIONS),
                        translation_key="printer_action",
                        mode=SelectSelectorMode.LIST,
                    )
                ),
                vol.Optional(CONF_PAUSE_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain=["button", "input_button", "script", "switch"])
                ),
                vol.Optional(CONF_POWER_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="switch")
                ),
                vol.Required(CONF_SENSITIVITY): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_SENSITIVITY,
                        max=MAX_SENSITIVITY,
                        step=0.05,
                        mode=NumberSelectorMode.SLIDER,
                    )
                ),
                vol.Required(CONF_POLL_INTERVAL): seconds_selector(MIN_POLL_INTERVAL),
                # A default: reconfiguring a printer added before the option keeps 0.
                vol.Required(CONF_GRACE_MINUTES, default=0): NumberSelector(
                    NumberSelectorConfig(
                        min=0,
                        max=MAX_GRACE_MINUTES,
                        step=1,
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement="min",
                    )
                ),
            }
        )
        suggested = user_input or self._current() or _PRINTER_DEFAULTS
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )
