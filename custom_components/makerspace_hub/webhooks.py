"""The boards' way in: the hub webhook and one webhook per machine.

The hub webhook routes by `machine_name`; on a machine's own webhook `machine_name`
is optional and, if present, must be that machine's, so a leaked URL can only speak
for its own machine.

A reply is computed from memory and never waits on the disk. Bad input changes
nothing and gets a JSON error: 400 (not JSON, not an object, a field of the wrong
type, a missing or mismatching `machine_name`), 404 (unknown machine), 405 (not a
POST), 413 (body over 16 KiB), 415 (not JSON content), 403 (from the internet while
the hub allows the local network only).

The local-network rule is enforced here rather than by Home Assistant's webhook
`local_only` flag: that flag answers an empty 200 and logs the full webhook id, a
secret, at WARNING; here the board gets a clear 403 and the log a masked id.
"""

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from ipaddress import ip_address

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.network import is_cloud_connection
from homeassistant.util import network as network_util

from .board_protocol import MAX_BODY_BYTES, BoardRequestError, parse_board_update
from .const import DOMAIN, LOGGER
from .machine import Machine

type Handler = Callable[[HomeAssistant, str, web.Request], Awaitable[web.Response]]

ALL_METHODS = ("GET", "HEAD", "POST", "PUT")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _read_body(request: web.Request) -> bytes:
    if request.method != "POST":
        raise BoardRequestError(HTTPStatus.METHOD_NOT_ALLOWED, "boards must POST")
    content_type = request.headers.get("Content-Type", "application/json")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise BoardRequestError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise BoardRequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body larger than {MAX_BODY_BYTES} bytes"
        )
    body = bytearray()
    while chunk := await request.content.read(MAX_BODY_BYTES + 1 - len(body)):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BoardRequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"request body larger than {MAX_BODY_BYTES} bytes",
            )
    return bytes(body)


def machine_handler(machine: Machine) -> Handler:
    """Return the handler of one machine's own webhook."""

    async def handle(hass: HomeAssistant, webhook_id: str, request: web.Request) -> web.Response:
        try:
            update = parse_board_update(await _read_body(request))
        except BoardRequestError as err:
            return _refuse(machine.name, err)
        if update.machine_name is not None and update.machine_name != machine.name:
            return _refuse(
                machine.name,
                BoardRequestError(
                    HTTPStatus.BAD_REQUEST, "machine_name is not this webhook's machine"
                ),
            )
        return web.json_response(machine.async_handle_update(update).as_json())

    return handle


def hub_handler(machines: Callable[[], dict[str, Machine]]) -> Handler:
    """Return the handler of the hub webhook; `machines` maps names to machines."""

    async def handle(hass: HomeAssistant, webhook_id: str, request: web.Request) -> web.Response:
        try:
            update = parse_board_update(await _read_body(request))
            if update.machine_name is None:
                raise BoardRequestError(HTTPStatus.BAD_REQUEST, "machine_name is required")
            machine = machines().get(update.machine_name)
            if machine is None:
                raise BoardRequestError(HTTPStatus.NOT_FOUND, "unknown machine")
        except BoardRequestError as err:
            return _refuse("hub", err)
        return web.json_response(machine.async_handle_update(update).as_json())

    return handle


def _refuse(where: str, err: BoardRequestError) -> web.Response:
    # The board's fault, not ours: debug only, and never a traceback.
    LOGGER.debug("Refused a board post to %s webhook: %s %s", where, err.status, err.message)
    return _error(err.status, err.message)


def _from_local_network(hass: HomeAssistant, request: web.Request) -> bool:
    if is_cloud_connection(hass) or request.remote is None:
        return False
    try:
        return network_util.is_local(ip_address(request.remote))
    except ValueError:
        return False


def _local_only(handler: Handler, where: str) -> Handler:
    """Wrap `handler` to refuse posts from outside the local network."""
    warned = False

    async def handle(hass: HomeAssistant, webhook_id: str, request: web.Request) -> web.Response:
        nonlocal warned
        if _from_local_network(hass, request):
            return await handler(hass, webhook_id, request)
        if not warned:
            warned = True
            LOGGER.warning(
                "Refused a post to the %s webhook (…%s) from %s, outside the local network; "
                "allow the internet in the hub's options if the board really is remote",
                where,
                webhook_id[-4:],
                request.remote,
            )
        return _error(
            HTTPStatus.FORBIDDEN,
            "only the local network may post here (the hub's options can allow the internet)",
        )

    return handle


@callback
def async_register_webhooks(
    hass: HomeAssistant,
    hub_webhook_id: str,
    machines: dict[str, Machine],
    local_only: bool,
) -> Callable[[], None]:
    """Register the hub's and every machine's webhook; return the unregisterer."""
    by_name = {machine.name: machine for machine in machines.values()}
    registered: list[str] = []

    def register(name: str, webhook_id: str, handler: Handler, where: str) -> None:
        webhook.async_register(
            hass,
            DOMAIN,
            name,
            webhook_id,
            _local_only(handler, where) if local_only else handler,
            local_only=False,  # enforced by _local_only, see above
            allowed_methods=ALL_METHODS,
        )
        registered.append(webhook_id)

    register("Makerspace hub boards", hub_webhook_id, hub_handler(lambda: by_name), "hub")
    for machine in machines.values():
        register(
            f"Board of {machine.name}",
            machine.settings.webhook_id,
            machine_handler(machine),
            f"{machine.name} board",
        )

    def unregister() -> None:
        for webhook_id in registered:
            webhook.async_unregister(hass, webhook_id)

    return unregister
