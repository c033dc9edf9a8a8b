"""UI configuration of a makerspace hub: the hub entry and its options.

The subentry flows live in their wings (`machines.flow`, `printers.flow`, `recording.flow`;
what they share in `subentry_flow`).
"""

import os
from typing import Any

from homeassistant.components import webhook
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
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
    TextSelectorType,
)
from homeassistant.util import slugify
import voluptuous as vol
from yarl import URL

from .const import (
    CONF_EXPIRY_GRACE_DAYS,
    CONF_MIN_FREE_GB,
    CONF_ML_API_TOKEN,
    CONF_ML_API_URL,
    CONF_NAME,
    CONF_NON_ADMINS_MAKE_USABLE,
    CONF_NOTIFY_SERVICES,
    CONF_OOPS_ALERTS,
    CONF_PRINT_WARNING_ALERTS,
    CONF_RECORD_USAGE,
    CONF_RECORDINGS_DIR,
    CONF_SNAPSHOT_BASE_URL,
    CONF_USAGE_RETENTION_DAYS,
    CONF_USERS_FILE,
    CONF_WEBHOOK_ID,
    CONF_WEBHOOKS_ALLOW_INTERNET,
    DEFAULT_USAGE_RETENTION_DAYS,
    DOMAIN,
    MAX_EXPIRY_GRACE_DAYS,
    MAX_MIN_FREE_GB,
    MAX_USAGE_RETENTION_DAYS,
)
from .hub import OWNER_KINDS
from .hub_options import HubOptions
from .machines.board_urls import board_url
from .machines.flow import CONF_NEW_BOARD_URL
from .printers.ml_api import (
    MlApiClient,
    MlApiNotObicoError,
    MlApiTokenRejectedError,
    MlApiUnreachableError,
)
from .recording.settings import resolve_recordings_dir
from .validation import InvalidConfigError, resolve_config_path

NOTIFY_DOMAIN = "notify"
# `notify.send_message` targets notify entities and cannot be called without one.
_ENTITY_NOTIFY_SERVICE = "send_message"


class MakerspaceHubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a makerspace hub."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the makerspace's name."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            if not name:
                errors[CONF_NAME] = "name_required"
            else:
                await self.async_set_unique_id(slugify(name) or name.casefold())
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=name,
                    data={CONF_NAME: name, CONF_WEBHOOK_ID: webhook.async_generate_id()},
                    options=HubOptions().as_options(),
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_NAME): TextSelector()}), user_input
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the hub's board URL; issue a new one when it leaked."""
        entry = self._get_reconfigure_entry()
        if user_input is not None and user_input[CONF_NEW_BOARD_URL]:
            new_id = webhook.async_generate_id()
            # The board gate retires the old id: it keeps answering relay off with
            # "New URL needed". The entry's update listener reloads the hub.
            self.hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_WEBHOOK_ID: new_id}
            )
            return self.async_abort(
                reason="new_board_url",
                description_placeholders={"hub_url": board_url(self.hass, new_id)},
            )
        hub_url = board_url(self.hass, entry.data[CONF_WEBHOOK_ID])
        if user_input is not None:
            return self.async_abort(
                reason="board_url_kept", description_placeholders={"hub_url": hub_url}
            )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema(
                {vol.Required(CONF_NEW_BOARD_URL, default=False): BooleanSelector()}
            ),
            description_placeholders={"hub_url": hub_url},
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Return the options flow of a hub."""
        return MakerspaceHubOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the kinds of devices a hub holds."""
        return {kind.subentry_type: kind.flow for kind in OWNER_KINDS}


def _notify_services(hass: HomeAssistant) -> list[str]:
    return sorted(
        f"{NOTIFY_DOMAIN}.{service}"
        for service in hass.services.async_services_for_domain(NOTIFY_DOMAIN)
        if service != _ENTITY_NOTIFY_SERVICE
    )


def _is_http_url(value: str) -> bool:
    try:
        url = URL(value)
    except ValueError:
        return False
    return url.scheme in ("http", "https") and bool(url.host)


def _options_schema(hass: HomeAssistant) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_USERS_FILE): TextSelector(),
            vol.Required(CONF_EXPIRY_GRACE_DAYS): NumberSelector(
                NumberSelectorConfig(
                    min=0,
                    max=MAX_EXPIRY_GRACE_DAYS,
                    step=1,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement="days",
                )
            ),
            vol.Optional(CONF_NOTIFY_SERVICES): SelectSelector(
                SelectSelectorConfig(
                    options=_notify_services(hass),
                    multiple=True,
                    custom_value=True,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            vol.Optional(CONF_ML_API_URL): TextSelector(
                TextSelectorConfig(type=TextSelectorType.URL)
            ),
            vol.Optional(CONF_ML_API_TOKEN): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD)
            ),
            vol.Optional(CONF_SNAPSHOT_BASE_URL): TextSelector(
                TextSelectorConfig(type=TextSelectorType.URL)
            ),
            vol.Required(CONF_PRINT_WARNING_ALERTS): BooleanSelector(),
            vol.Required(CONF_RECORDINGS_DIR): TextSelector(),
            # A default: clients that predate the option (the demo's provisioning) omit it.
            vol.Required(CONF_MIN_FREE_GB, default=0): NumberSelector(
                NumberSelectorConfig(
                    min=0,
                    max=MAX_MIN_FREE_GB,
                    step=0.1,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement="GB",
                )
            ),
            vol.Required(CONF_OOPS_ALERTS): BooleanSelector(),
            vol.Required(CONF_WEBHOOKS_ALLOW_INTERNET): BooleanSelector(),
            # A default: clients that predate the option (the demo's provisioning) omit it.
            vol.Required(CONF_NON_ADMINS_MAKE_USABLE, default=False): BooleanSelector(),
            vol.Required(CONF_RECORD_USAGE, default=True): BooleanSelector(),
            vol.Required(
                CONF_USAGE_RETENTION_DAYS, default=DEFAULT_USAGE_RETENTION_DAYS
            ): NumberSelector(
                NumberSelectorConfig(
                    min=1,
                    max=MAX_USAGE_RETENTION_DAYS,
                    step=1,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement="days",
                )
            ),
        }
    )


class MakerspaceHubOptionsFlow(OptionsFlow):
    """Edit a hub's options."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and validate all options in one form."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            try:
                options = HubOptions.from_options(user_input)
                await self._async_validate(options)
            except InvalidConfigError as problem:
                errors[problem.field] = problem.key
                placeholders.update(problem.placeholders)
            else:
                return self.async_create_entry(data=options.as_options())
        suggested = user_input or HubOptions.from_options(self.config_entry.options).as_options()
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(_options_schema(self.hass), suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_validate(self, options: HubOptions) -> None:
        hass = self.hass
        users_file = resolve_config_path(options.users_file, hass.config.config_dir)
        if await hass.async_add_executor_job(os.path.isdir, users_file):
            raise InvalidConfigError("users_file_is_directory", CONF_USERS_FILE)

        for service in options.notify_services:
            domain, _, name = service.partition(".")
            if domain != NOTIFY_DOMAIN or not hass.services.has_service(domain, name):
                raise InvalidConfigError(
                    "notify_service_not_found", CONF_NOTIFY_SERVICES, {"service": service}
                )

        if options.snapshot_base_url and not _is_http_url(options.snapshot_base_url):
            raise InvalidConfigError("invalid_url", CONF_SNAPSHOT_BASE_URL)
        if options.ml_api_token and not options.ml_api_url:
            raise InvalidConfigError("ml_api_token_without_url", CONF_ML_API_TOKEN)
        if options.ml_api_url:
            await async_validate_ml_api(hass, options.ml_api_url, options.ml_api_token)

        recordings_dir = resolve_recordings_dir(
            options.recordings_dir,
            hass.config.config_dir,
            hass.config.media_dirs.get("local", hass.config.path("media")),
        )
        if not await hass.async_add_executor_job(hass.config.is_allowed_path, recordings_dir):
            raise InvalidConfigError(
                "recordings_dir_not_allowed", CONF_RECORDINGS_DIR, {"path": recordings_dir}
            )


async def async_validate_ml_api(hass: HomeAssistant, url: str, token: str | None) -> None:
    """Check that an Obico ML API answers at `url` and accepts `token`.

    The one check of the ML API settings: the options flow and the rejected-token
    repair (`repairs`) both save only what passed it. Raise InvalidConfigError
    naming the field at fault.
    """
    if not _is_http_url(url):
        raise InvalidConfigError("invalid_url", CONF_ML_API_URL)
    client = MlApiClient(async_get_clientsession(hass), url, token)
    try:
        await client.async_validate()
    except MlApiUnreachableError as err:
        raise InvalidConfigError("ml_api_cannot_connect", CONF_ML_API_URL) from err
    except MlApiNotObicoError as err:
        raise InvalidConfigError("ml_api_not_obico", CONF_ML_API_URL) from err
    except MlApiTokenRejectedError as err:
        raise InvalidConfigError("ml_api_invalid_token", CONF_ML_API_TOKEN) from err
