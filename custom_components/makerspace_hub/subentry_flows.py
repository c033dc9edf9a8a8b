"""Subentry flows of a hub: add and reconfigure machines, recording sensors and printers.

Each flow validates through the classes of `settings`, so what the UI accepts is
exactly what the runtime can read. Names are unique per kind within a hub.
"""

from dataclasses import replace
from types import MappingProxyType
from typing import Any, ClassVar

from homeassistant.components import webhook
from homeassistant.config_entries import ConfigSubentry, ConfigSubentryFlow, SubentryFlowResult
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
    TextSelectorConfig,
    TimeSelector,
)
from homeassistant.util import slugify
import voluptuous as vol

from .board_gate import board_url
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
    CONF_KIND,
    CONF_NAME,
    CONF_PAUSE_ENTITY,
    CONF_PAUSED_STATES,
    CONF_POLL_INTERVAL,
    CONF_POWER_ENTITY,
    CONF_PRINTING_STATES,
    CONF_SECOND_RELAY,
    CONF_SENSITIVITY,
    CONF_STATUS_ENTITY,
    CONF_UNAUTHORIZED_WARN_ONLY,
    CONF_WEBHOOK_ID,
    DEFAULT_AUTO_START,
    DEFAULT_CAPTURE_DURATION_SECONDS,
    DEFAULT_CAPTURE_INTERVAL_SECONDS,
    DEFAULT_CAPTURE_WINDOW_END,
    DEFAULT_CAPTURE_WINDOW_START,
    DEFAULT_PAUSED_STATES,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_PRINTING_STATES,
    DEFAULT_SENSITIVITY,
    KIND_ACTION,
    KIND_CAMERA,
    KIND_SAMPLES,
    MAX_SENSITIVITY,
    MIN_POLL_INTERVAL,
    MIN_SENSITIVITY,
    PRINTER_ACTION_NOTIFY,
    PRINTER_ACTIONS,
    RECORDING_KINDS,
    SUBENTRY_MACHINE,
    SUBENTRY_PRINTER,
    SUBENTRY_RECORDING_SENSOR,
)
from .dm_mac_import import parse_machines_json
from .settings import (
    InvalidConfigError,
    MachineSettings,
    PrinterSettings,
    RecordingSensorSettings,
    SecondRelaySettings,
    validate_slug_name,
)

CONF_HAS_SECOND_RELAY = "has_second_relay"
CONF_NEW_BOARD_URL = "new_board_url"
CONF_MACHINES_JSON = "machines_json"
MAX_SCHEDULE_SECONDS = 86400


def _authorizations_selector(known: list[str]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=known, multiple=True, custom_value=True, mode=SelectSelectorMode.DROPDOWN
        )
    )


def _clean_list(values: list[str] | None) -> list[str]:
    """Strip entries of a free-text list and drop the empty ones, keeping order."""
    return list(dict.fromkeys(value.strip() for value in values or [] if value.strip()))


def _seconds_selector(minimum: int) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=MAX_SCHEDULE_SECONDS,
            step=1,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement="s",
        )
    )


def _states_selector(suggestions: tuple[str, ...]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=list(suggestions),
            multiple=True,
            custom_value=True,
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


_SCHEDULE_DEFAULTS = {
    CONF_CAPTURE_WINDOW_START: DEFAULT_CAPTURE_WINDOW_START,
    CONF_CAPTURE_WINDOW_END: DEFAULT_CAPTURE_WINDOW_END,
    CONF_CAPTURE_DURATION_SECONDS: DEFAULT_CAPTURE_DURATION_SECONDS,
    CONF_CAPTURE_INTERVAL_SECONDS: DEFAULT_CAPTURE_INTERVAL_SECONDS,
    CONF_AUTO_START: DEFAULT_AUTO_START,
}
_PRINTER_DEFAULTS = {
    CONF_PRINTING_STATES: list(DEFAULT_PRINTING_STATES),
    CONF_PAUSED_STATES: list(DEFAULT_PAUSED_STATES),
    CONF_ACTION: PRINTER_ACTION_NOTIFY,
    CONF_SENSITIVITY: DEFAULT_SENSITIVITY,
    CONF_POLL_INTERVAL: DEFAULT_POLL_INTERVAL,
}


class _HubSubentryFlow(ConfigSubentryFlow):
    """What the three kinds share: siblings, uniqueness, finishing."""

    subentry_type: ClassVar[str]

    def _current(self) -> dict[str, Any]:
        """Return the stored data when reconfiguring, else nothing."""
        if self.source == "reconfigure":
            return dict(self._get_reconfigure_subentry().data)
        return {}

    def _siblings(self) -> list[ConfigSubentry]:
        """Return the other subentries of this kind in the hub."""
        own = self.context.get("subentry_id") if self.source == "reconfigure" else None
        return [
            subentry
            for subentry in self._get_entry().subentries.values()
            if subentry.subentry_type == self.subentry_type and subentry.subentry_id != own
        ]

    def _finish(
        self, *, title: str, data: dict[str, Any], unique_id: str, **create: Any
    ) -> SubentryFlowResult:
        if self.source == "reconfigure":
            return self.async_update_and_abort(
                self._get_entry(),
                self._get_reconfigure_subentry(),
                title=title,
                data=data,
                unique_id=unique_id,
            )
        return self.async_create_entry(title=title, data=data, unique_id=unique_id, **create)


class MachineSubentryFlow(_HubSubentryFlow):
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
            machine = {
                CONF_NAME: user_input[CONF_NAME].strip(),
                CONF_ALIAS: user_input.get(CONF_ALIAS),
                CONF_AUTHORIZATIONS_OR: _clean_list(user_input.get(CONF_AUTHORIZATIONS_OR)),
                CONF_UNAUTHORIZED_WARN_ONLY: user_input[CONF_UNAUTHORIZED_WARN_ONLY],
                CONF_ALWAYS_ENABLED: user_input[CONF_ALWAYS_ENABLED],
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
                authorizations_or=tuple(_clean_list(user_input.get(CONF_AUTHORIZATIONS_OR))),
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


class RecordingSensorSubentryFlow(_HubSubentryFlow):
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
                vol.Required(CONF_CAPTURE_WINDOW_START): TimeSelector(),
                vol.Required(CONF_CAPTURE_WINDOW_END): TimeSelector(),
                vol.Required(CONF_CAPTURE_DURATION_SECONDS): _seconds_selector(1),
                vol.Required(CONF_CAPTURE_INTERVAL_SECONDS): _seconds_selector(1),
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


class PrinterSubentryFlow(_HubSubentryFlow):
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
                CONF_PRINTING_STATES: _clean_list(user_input.get(CONF_PRINTING_STATES)),
                CONF_PAUSED_STATES: _clean_list(user_input.get(CONF_PAUSED_STATES)),
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
                vol.Required(CONF_POLL_INTERVAL): _seconds_selector(MIN_POLL_INTERVAL),
            }
        )
        suggested = user_input or self._current() or _PRINTER_DEFAULTS
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )
