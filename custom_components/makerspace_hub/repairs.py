"""Repair flows: the repair issues a user fixes from Home Assistant's Repairs page.

`ml_api_token_rejected` (raised by `printers.ml_service`): the self-hosted Obico ML
API rejects the hub's token. Its fix flow asks for the new token, checks it exactly
as the options flow checks the ML API settings (`config_flow.async_validate_ml_api`)
and stores it in the hub's options; like any options change, that reloads the hub
(its update listener), and the reloaded hub's ML API starts without the issue. A
repair flow cannot open the options flow, and a reauthentication
(`ConfigEntryAuthFailed`) would stop the whole hub, machines included, for a
credential only the printers use.
"""

from typing import Any

from homeassistant import data_entry_flow
from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .config_flow import async_validate_ml_api
from .const import CONF_ML_API_TOKEN, DOMAIN, LOGGER
from .hub_options import HubOptions
from .printers.ml_service import TOKEN_ISSUE
from .validation import InvalidConfigError

# The field is empty on every showing: a token, rejected or not, is never sent back.
TOKEN_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_ML_API_TOKEN): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        )
    }
)


class MlApiTokenRepairFlow(RepairsFlow):
    """Ask for the ML API token of one hub, check it and store it."""

    def __init__(self, entry_id: str | None) -> None:
        """Fix the token of the hub entry `entry_id`."""
        self._entry_id = entry_id

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> data_entry_flow.FlowResult:
        """Show the token form (what arrives here is the issue id, not a token)."""
        return await self.async_step_token()

    async def async_step_token(
        self, user_input: dict[str, Any] | None = None
    ) -> data_entry_flow.FlowResult:
        """Check the token with the ML API; store it once the ML API accepts it."""
        entry = self._entry()
        options = _ml_api_options(entry, None) if entry is not None else None
        if entry is None or options is None or options.ml_api_url is None:
            return self.async_abort(reason="ml_api_not_configured")
        placeholders = {"hub": entry.title, "url": options.ml_api_url}
        errors: dict[str, str] = {}
        if user_input is not None:
            # Read like the options flow reads it (stripped; blank = no token).
            options = _ml_api_options(entry, user_input[CONF_ML_API_TOKEN])
            if options is None or options.ml_api_url is None:
                return self.async_abort(reason="ml_api_not_configured")
            try:
                await async_validate_ml_api(self.hass, options.ml_api_url, options.ml_api_token)
            except InvalidConfigError as problem:
                # The URL's problems belong to the whole form: only the token is asked.
                field = CONF_ML_API_TOKEN if problem.field == CONF_ML_API_TOKEN else "base"
                errors[field] = problem.key
            else:
                new_options = {
                    key: value for key, value in entry.options.items() if key != CONF_ML_API_TOKEN
                }
                if options.ml_api_token is not None:
                    new_options[CONF_ML_API_TOKEN] = options.ml_api_token
                # The hub's update listener reloads it, as after its options flow.
                self.hass.config_entries.async_update_entry(entry, options=new_options)
                LOGGER.info("%s: the ML API accepts the new token; it is saved", entry.title)
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="token",
            data_schema=TOKEN_SCHEMA,
            errors=errors,
            description_placeholders=placeholders,
        )

    def _entry(self) -> ConfigEntry | None:
        if self._entry_id is None:
            return None
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        return entry if entry is not None and entry.domain == DOMAIN else None


def _ml_api_options(entry: ConfigEntry, token: str | None) -> HubOptions | None:
    """Return the hub's options, with `token` when given; None when they do not read."""
    options = dict(entry.options)
    if token is not None:
        options[CONF_ML_API_TOKEN] = token
    try:
        return HubOptions.from_options(options)
    except InvalidConfigError:
        return None


async def async_create_fix_flow(
    hass: HomeAssistant,
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """Return the fix flow of a fixable issue of this integration."""
    entry_id = (data or {}).get("entry_id")
    if issue_id.startswith(f"{TOKEN_ISSUE}_") and isinstance(entry_id, str):
        return MlApiTokenRepairFlow(entry_id)
    # Only the token issue is fixable; an unknown one aborts with a reason.
    return MlApiTokenRepairFlow(None)
