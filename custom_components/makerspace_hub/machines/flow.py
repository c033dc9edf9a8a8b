"""Add one machine, import dm_mac machines, or reconfigure a machine."""

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from homeassistant.components import webhook
from homeassistant.config_entries import ConfigSubentry, SubentryFlowResult
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)
import voluptuous as vol

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
    SUBENTRY_MACHINE,
)
from ..subentry_flow import HubSubentryFlow, clean_list
from ..validation import InvalidConfigError
from .board_urls import board_url
from .dm_mac_import import parse_machines_json
from .settings import MachineSettings, SecondRelaySettings

CONF_HAS_SECOND_RELAY = "has_second_relay"
CONF_NEW_BOARD_URL = "new_board_url"
CONF_MACHINES_JSON = "machines_json"
MAX_IDLE_CURRENT_AMPS = 100

# Sessions that end by themselves: off (0) and the default idle current when adding.
_SESSION_LIMIT_DEFAULTS: dict[str, Any] = {
    CONF_IDLE_LOGOUT_MINUTES: 0,
    CONF_IDLE_CURRENT_AMPS: DEFAULT_IDLE_CURRENT_AMPS,
    CONF_MAX_SESSION_MINUTES: 0,
}
# A service interval in hours of use: off (0), and no lockout, when adding.
_SERVICE_DEFAULTS: dict[str, Any] = {
    CONF_SERVICE_INTERVAL_HOURS: 0,
    CONF_LOCK_OUT_WHEN_SERVICE_DUE: False,
}


def _authorizations_selector(known: list[str]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=known, multiple=True, custom_value=True, mode=SelectSelectorMode.DROPDOWN
        )
    )


def _number_selector(minimum: float, maximum: float, step: float, unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement=unit,
        )
    )


def _minutes_selector() -> NumberSelector:
    return _number_selector(0, MAX_SESSION_LIMIT_MINUTES, 1, "min")


class MachineSubentryFlow(HubSubentryFlow):
    """Add one machine, import dm_mac machines, or reconfigure a machine."""

    subentry_type = SUBENTRY_MACHINE

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._machine: dict[str, Any] = {}
        self._new_board_url = False

    def _known_authorizations(self) -> list[str]:
        names = {
            authorization
            for subentry in self._siblings()
            for authorization in subentry.data.get(CONF_AUTHORIZATIONS_OR, [])
        }
        return sorted(names)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Offer adding one machine or importing a dm_mac machines.json."""
        return self.async_show_menu(step_id="user", menu_options=["machine", "import_dm_mac"])

    async def async_step_machine(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add one machine."""
        return await self._async_machine_step("machine", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a machine's rules; its webhook stays unless a new board URL is asked for."""
        return await self._async_machine_step("reconfigure", user_input)

    async def _async_machine_step(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        current = self._current()
        errors: dict[str, str] = {}
        if user_input is not None:
            # Stored keys the form does not show stay as they are; what is stored is
            # then exactly what MachineSettings reads (`as_data`).
            machine = {
                **current,
                CONF_NAME: user_input[CONF_NAME].strip(),
                CONF_ALIAS: user_input.get(CONF_ALIAS),
                CONF_AUTHORIZATIONS_OR: clean_list(user_input.get(CONF_AUTHORIZATIONS_OR)),
                CONF_UNAUTHORIZED_WARN_ONLY: user_input[CONF_UNAUTHORIZED_WARN_ONLY],
                CONF_ALWAYS_ENABLED: user_input[CONF_ALWAYS_ENABLED],
                **{key: user_input[key] for key in _SESSION_LIMIT_DEFAULTS},
                **{key: user_input[key] for key in _SERVICE_DEFAULTS},
            }
            try:
                MachineSettings.from_data(machine)
            except InvalidConfigError as problem:
                errors[problem.field] = problem.key
            else:
                if any(s.data[CONF_NAME] == machine[CONF_NAME] for s in self._siblings()):
                    errors[CONF_NAME] = "name_taken"
                else:
                    self._machine = machine
                    self._new_board_url = bool(user_input.get(CONF_NEW_BOARD_URL))
                    if user_input[CONF_HAS_SECOND_RELAY]:
                        return await self.async_step_second_relay()
                    return self._async_finish_machine(None)
        suggested = user_input or {
            **_SESSION_LIMIT_DEFAULTS,
            **_SERVICE_DEFAULTS,
            **current,
            CONF_HAS_SECOND_RELAY: CONF_SECOND_RELAY in current,
        }
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): TextSelector(),
                vol.Optional(CONF_ALIAS): TextSelector(),
                vol.Optional(CONF_AUTHORIZATIONS_OR): _authorizations_selector(
                    self._known_authorizations()
                ),
                vol.Required(CONF_UNAUTHORIZED_WARN_ONLY, default=False): BooleanSelector(),
                vol.Required(CONF_ALWAYS_ENABLED, default=False): BooleanSelector(),
                # An emptied box means off (and the default idle current).
                vol.Required(CONF_IDLE_LOGOUT_MINUTES, default=0): _minutes_selector(),
                vol.Required(
                    CONF_IDLE_CURRENT_AMPS, default=DEFAULT_IDLE_CURRENT_AMPS
                ): _number_selector(0.01, MAX_IDLE_CURRENT_AMPS, 0.01, "A"),
                vol.Required(CONF_MAX_SESSION_MINUTES, default=0): _minutes_selector(),
                vol.Required(CONF_SERVICE_INTERVAL_HOURS, default=0): _number_selector(
                    0, MAX_SERVICE_INTERVAL_HOURS, 1, "h"
                ),
                vol.Required(CONF_LOCK_OUT_WHEN_SERVICE_DUE, default=False): BooleanSelector(),
                vol.Required(CONF_HAS_SECOND_RELAY, default=False): BooleanSelector(),
            }
        )
        if current:  # a leaked URL can be replaced; the old one then answers relay off
            schema = schema.extend(
                {vol.Required(CONF_NEW_BOARD_URL, default=False): BooleanSelector()}
            )
        placeholders = {}
        if current:
            placeholders = {
                "board_url": board_url(self.hass, current[CONF_WEBHOOK_ID]),
                "hub_url": board_url(self.hass, self._get_entry().data[CONF_WEBHOOK_ID]),
            }
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_second_relay(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Set the rules of the machine's second relay."""
        if user_input is not None:
            relay = SecondRelaySettings(
                authorizations_or=tuple(clean_list(user_input.get(CONF_AUTHORIZATIONS_OR))),
                unauthorized_warn_only=user_input[CONF_UNAUTHORIZED_WARN_ONLY],
                always_enabled=user_input[CONF_ALWAYS_ENABLED],
                alias=(user_input.get(CONF_ALIAS) or "").strip() or None,
            )
            return self._async_finish_machine(relay)
        schema = vol.Schema(
            {
                vol.Optional(CONF_ALIAS): TextSelector(),
                vol.Optional(CONF_AUTHORIZATIONS_OR): _authorizations_selector(
                    self._known_authorizations()
                ),
                vol.Required(CONF_UNAUTHORIZED_WARN_ONLY, default=False): BooleanSelector(),
                vol.Required(CONF_ALWAYS_ENABLED, default=False): BooleanSelector(),
            }
        )
        return self.async_show_form(
            step_id="second_relay",
            data_schema=self.add_suggested_values_to_schema(
                schema, self._current().get(CONF_SECOND_RELAY)
            ),
        )

    def _async_finish_machine(self, second_relay: SecondRelaySettings | None) -> SubentryFlowResult:
        webhook_id = self._current().get(CONF_WEBHOOK_ID)
        if webhook_id is None or self._new_board_url:
            webhook_id = webhook.async_generate_id()
        machine = replace(
            MachineSettings.from_data(self._machine),
            second_relay=second_relay,
            webhook_id=webhook_id,
        )
        placeholders = {
            "board_url": board_url(self.hass, webhook_id),
            "hub_url": board_url(self.hass, self._get_entry().data[CONF_WEBHOOK_ID]),
            "name": machine.name,
        }
        if self._new_board_url:
            # `async_update_and_abort` shows no placeholders (Home Assistant 2025.4):
            # update, then abort with the new URL. The board gate retires the old one.
            self.hass.config_entries.async_update_subentry(
                self._get_entry(),
                self._get_reconfigure_subentry(),
                title=machine.display_name,
                data=machine.as_data(),
                unique_id=machine.name,
            )
            return self.async_abort(reason="new_board_url", description_placeholders=placeholders)
        return self._finish(
            title=machine.display_name,
            data=machine.as_data(),
            unique_id=machine.name,
            description="board_urls",
            description_placeholders=placeholders,
        )

    async def async_step_import_dm_mac(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Create one machine per entry of a dm_mac machines.json."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            existing = {subentry.data[CONF_NAME] for subentry in self._siblings()}
            try:
                machines = parse_machines_json(user_input[CONF_MACHINES_JSON], existing)
            except InvalidConfigError as problem:
                errors[problem.field] = problem.key
                placeholders = problem.placeholders
            else:
                entry = self._get_entry()
                for parsed in machines:
                    machine = replace(parsed, webhook_id=webhook.async_generate_id())
                    self.hass.config_entries.async_add_subentry(
                        entry,
                        ConfigSubentry(
                            data=MappingProxyType(machine.as_data()),
                            subentry_type=SUBENTRY_MACHINE,
                            title=machine.display_name,
                            unique_id=machine.name,
                        ),
                    )
                return self.async_abort(
                    reason="machines_imported",
                    description_placeholders={
                        "count": str(len(machines)),
                        "names": ", ".join(machine.name for machine in machines),
                    },
                )
        return self.async_show_form(
            step_id="import_dm_mac",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_MACHINES_JSON): TextSelector(
                            TextSelectorConfig(multiline=True)
                        )
                    }
                ),
                user_input,
            ),
            errors=errors,
            description_placeholders=placeholders,
        )
