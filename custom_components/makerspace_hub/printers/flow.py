"""Add or reconfigure a 3D printer watched for failures.

Adding takes two steps: the name and the status entity, then the full form, where
what the status entity's device proposes (`printer_devices`: camera, printing and
paused states, pause button, power switch) is filled in for the user to confirm or
change. Reconfiguring shows the full form with the stored values.
"""

from collections.abc import Iterable
from typing import Any

from homeassistant.config_entries import SubentryFlowResult
from homeassistant.helpers import entity_registry as er
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
from ..validation import InvalidConfigError, read_required_str
from .printer_devices import DeviceEntity, PrinterProposal, propose
from .settings import PrinterSettings


def _states_selector(*groups: Iterable[str] | None) -> SelectSelector:
    """Return a list of states to pick from (the groups' states, once each) or to type."""
    options = clean_list([state for group in groups for state in group or ()])
    return SelectSelector(
        SelectSelectorConfig(
            options=options,
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


def _entity(entry: er.RegistryEntry) -> DeviceEntity:
    return DeviceEntity(
        entity_id=entry.entity_id,
        platform=entry.platform,
        unique_id=entry.unique_id,
        config_entry_id=entry.config_entry_id,
    )


class PrinterSubentryFlow(HubSubentryFlow):
    """Add a printer in two steps, or reconfigure one.

    Adding: first the name and the status entity; then the full form, where what the
    status entity's device tells (`printer_devices`) is proposed. Reconfiguring: the
    full form with the stored values.
    """

    subentry_type = SUBENTRY_PRINTER

    def __init__(self) -> None:
        """Start with nothing chosen."""
        super().__init__()
        self._chosen: dict[str, Any] = {}
        self._proposal = PrinterProposal()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a printer: its name and its status entity."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                name = read_required_str(user_input, CONF_NAME, "name_required")
            except InvalidConfigError as problem:
                errors[problem.field] = problem.key
            else:
                if self._name_taken(name):
                    errors[CONF_NAME] = "name_taken"
                else:
                    status_entity = user_input[CONF_STATUS_ENTITY]
                    self._chosen = {CONF_NAME: name, CONF_STATUS_ENTITY: status_entity}
                    self._proposal = self._propose(status_entity)
                    return await self.async_step_printer()
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): TextSelector(),
                vol.Required(CONF_STATUS_ENTITY): EntitySelector(),
            }
        )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
        )

    async def async_step_printer(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add a printer: the full form, with what its device proposes filled in."""
        proposed = _PRINTER_DEFAULTS | self._chosen | self._proposal.as_suggestions()
        return await self._async_printer_step("printer", user_input, proposed)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a printer's settings."""
        return await self._async_printer_step("reconfigure", user_input, self._current())

    def _propose(self, status_entity: str) -> PrinterProposal:
        """Read the status entity's device's entities; propose from them."""
        registry = er.async_get(self.hass)
        status = registry.async_get(status_entity)
        if status is None or status.device_id is None:
            return PrinterProposal()
        device = er.async_entries_for_device(registry, status.device_id)
        return propose(_entity(status), [_entity(entry) for entry in device])

    def _name_taken(self, name: str) -> bool:
        slug = slugify(name)
        return any(slugify(s.data[CONF_NAME]) == slug for s in self._siblings())

    async def _async_printer_step(
        self, step_id: str, user_input: dict[str, Any] | None, suggested: dict[str, Any]
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
                if self._name_taken(printer.name):
                    errors[CONF_NAME] = "name_taken"
                else:
                    return self._finish(
                        title=printer.name, data=printer.as_data(), unique_id=slugify(printer.name)
                    )
        suggested = user_input or suggested
        known = self._proposal.known_states
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): TextSelector(),
                vol.Required(CONF_CAMERA_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="camera")
                ),
                vol.Required(CONF_STATUS_ENTITY): EntitySelector(),
                vol.Required(CONF_PRINTING_STATES): _states_selector(
                    DEFAULT_PRINTING_STATES, known, suggested.get(CONF_PRINTING_STATES)
                ),
                vol.Required(CONF_PAUSED_STATES): _states_selector(
                    DEFAULT_PAUSED_STATES, known, suggested.get(CONF_PAUSED_STATES)
                ),
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
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )
