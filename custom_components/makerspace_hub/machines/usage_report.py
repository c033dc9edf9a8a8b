"""The usage report: the `usage_report` action's period, and its CSV download.

The action (registered in `services`) answers with the sessions and totals of a
period; with `csv: true` also with a link to `UsageReportView`, which serves the same
report as a CSV file. The link is a path signed by Home Assistant for the caller
(CSV_LINK_VALID), so a browser or a phone opens it without a token, and only
while it is valid; it names the period and filters in its query, which the
signature covers. Without a signature (or with a login, whose token is then what
Home Assistant checked) the view is for admins only: the report holds members' names.
"""

from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from aiohttp import hdrs, web
from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util import dt as dt_util
from yarl import URL

from ..const import DOMAIN
from .usage_log import UsageLog

USAGE_PATH = f"/api/{DOMAIN}/usage"
CSV_LINK_VALID = timedelta(hours=1)
_SIGNATURE = "authSig"  # Home Assistant's signed-path query parameter


def as_utc(moment: datetime) -> datetime:
    """Return a moment in UTC; one without a time zone is in Home Assistant's."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(moment)


def csv_link(
    hass: HomeAssistant,
    entry_id: str,
    start: datetime,
    end: datetime,
    *,
    machine_ids: list[str] | None,
    account_id: str | None,
) -> str:
    """Return a signed link to the CSV of a report (a full URL when one is known)."""
    query = {"start": start.isoformat(), "end": end.isoformat()}
    if machine_ids is not None:
        query["machines"] = ",".join(machine_ids)
    if account_id is not None:
        query["member"] = account_id
    path = async_sign_path(
        hass, str(URL(f"{USAGE_PATH}/{entry_id}").with_query(query)), CSV_LINK_VALID
    )
    try:
        return get_url(hass) + path
    except NoURLAvailableError:
        return path


class UsageReportView(HomeAssistantView):
    """Serves a hub's usage report as CSV."""

    url = USAGE_PATH + "/{entry_id}"
    name = f"api:{DOMAIN}:usage"
    requires_auth = True

    async def get(self, request: web.Request, entry_id: str) -> web.StreamResponse:
        """Return the report the (signed) query names."""
        # Home Assistant checks a request's Authorization header before a path's
        # signature: with a header, the signature was not what let it in, and the
        # user must be an admin (a user's own token plus any `authSig` is no pass).
        signed = _SIGNATURE in request.query and hdrs.AUTHORIZATION not in request.headers
        if not signed and not request[KEY_HASS_USER].is_admin:
            return self.json_message("Only administrators may read usage", HTTPStatus.FORBIDDEN)
        hass = request.app[KEY_HASS]
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            return self.json_message("No such makerspace is running", HTTPStatus.NOT_FOUND)
        try:
            period = _period(request.query)
        except ValueError as err:
            return self.json_message(str(err), HTTPStatus.BAD_REQUEST)
        usage: UsageLog = entry.runtime_data.usage
        try:
            report = await usage.async_report(*period[:2], **period[2])
        except HomeAssistantError as err:
            return self.json_message(str(err), HTTPStatus.SERVICE_UNAVAILABLE)
        start = datetime.fromtimestamp(period[0], dt_util.UTC).date().isoformat()
        return web.Response(
            body=report.as_csv().encode(),
            content_type="text/csv",
            charset="utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="usage-{start}.csv"',
                "Cache-Control": "no-store",
            },
        )


def _period(query: Any) -> tuple[float, float, dict[str, Any]]:
    """Return start, end and filters of a report's query; raise ValueError if unusable."""
    try:
        start = as_utc(datetime.fromisoformat(query["start"])).timestamp()
        end = as_utc(datetime.fromisoformat(query["end"])).timestamp()
    except (KeyError, ValueError) as err:
        raise ValueError("start and end must be ISO 8601 times") from err
    if end <= start:
        raise ValueError("end must be after start")
    machines = query.get("machines")
    return (
        start,
        end,
        {
            "machine_ids": machines.split(",") if machines else None,
            "account_id": query.get("member") or None,
        },
    )
