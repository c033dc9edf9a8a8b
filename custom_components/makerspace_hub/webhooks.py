"""The boards' way in: the hub webhook and one webhook per machine.

The hub webhook routes by `machine_name`; on a machine's own webhook `machine_name`
is optional and, if present, must be that machine's, so a leaked URL can only speak
for its own machine.

A reply is computed from memory and never waits on the disk. Bad input changes
nothing and gets a JSON error: 400 (not JSON, not an object, a field of the wrong
type, a missing or mismatching `machine_name`), 404 (unknown machine), 405 (not a
POST), 413 (body over 16 KiB), 415 (not JSON content).
"""

from collections.abc import Awaitable, Callable
from http import HTTPStatus

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant, callback

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


@callback
def async_register_webhooks(
    hass: HomeAssistant,
    hub_webhook_id: str,
    machines: dict[str, Machine],
    local_only: bool,
) -> Callable[[], None]:
    """Register the hub's and every machine's webhook; return the unregisterer."""
    by_name = {machine.name: machine for machine in machines.values()}
    registered = [hub_webhook_id]
    webhook.async_register(
        hass,
        DOMAIN,
        "Makerspace hub boards",
        hub_webhook_id,
        hub_handler(lambda: by_name),
        local_only=local_only,
        allowed_methods=ALL_METHODS,
    )
    for machine in machines.values():
        webhook.async_register(
            hass,
            DOMAIN,
            f"Board of {machine.name}",
            machine.settings.webhook_id,
            machine_handler(machine),
            local_only=local_only,
            allowed_methods=ALL_METHODS,
        )
        registered.append(machine.settings.webhook_id)

    def unregister() -> None:
        for webhook_id in registered:
            webhook.async_unregister(hass, webhook_id)

    return unregister
