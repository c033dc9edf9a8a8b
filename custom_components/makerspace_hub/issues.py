"""Repair issues: raised while a problem lasts, removed when it is over."""

from collections.abc import Mapping

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN


@callback
def async_set_issue(
    hass: HomeAssistant,
    issue_id: str,
    translation_key: str,
    placeholders: Mapping[str, str] | None,
    *,
    severity: ir.IssueSeverity = ir.IssueSeverity.ERROR,
    fix_data: Mapping[str, str] | None = None,
) -> None:
    """Raise (or update) the issue; `placeholders` None removes it.

    With `fix_data` the issue is fixable: `repairs` builds its fix flow from that data
    (never a secret: the issue registry stores it and shows it to the frontend).
    """
    if placeholders is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    data: dict[str, str | int | float | None] | None = (
        dict(fix_data) if fix_data is not None else None
    )
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=data is not None,
        data=data,
        severity=severity,
        translation_key=translation_key,
        translation_placeholders=dict(placeholders),
    )
