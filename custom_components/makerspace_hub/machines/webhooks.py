"""The boards' way in: reading a post and answering it from a running machine.

`board_gate` decides which webhook ids answer and who answers them; this module holds
what every answer shares. The hub webhook routes by `machine_name`; on a machine's
own webhook `machine_name` is optional and, if present, must be that machine's, so a
leaked URL can only speak for its own machine.

A reply is computed from memory and never waits on the disk. Bad input changes
nothing and gets a JSON error: 400 (not JSON, not an object, a field of the wrong
type, no `machine_name` on the hub webhook), 405 (not a POST), 413 (body over 16
KiB), 415 (not JSON content), 403 (from the internet while the hub allows the local
network only). A well-formed post naming a machine the hub does not know, or another
machine than its URL's, gets a six-key relay-off reply instead ("Unknown machine"):
on a 4xx a board keeps its relay as it was, and a renamed or removed machine's board
must not keep running (safety spec).

Early answers: until a machine runs (the hub starting, reloading, retrying its setup
or failed) its board still gets a valid six-key reply, relay off, with the reason on
the display, and a replaced or removed board URL answers relay off with "New URL
needed"; `board_gate` gives those.

The local-network rule is enforced here rather than by Home Assistant's webhook
`local_only` flag: that flag answers an empty 200 and logs the full webhook id, a
secret, at WARNING; here the board gets a clear 403 and the log a masked id.
"""

from functools import lru_cache
from http import HTTPStatus
from ipaddress import ip_address

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.network import is_cloud_connection
from homeassistant.util import network as network_util

from ..const import LOGGER
from .board_protocol import (
    MAX_BODY_BYTES,
    BoardRequestError,
    BoardUpdate,
    Reply,
    Screen,
    parse_board_update,
    reply_body,
)
from .machine import Machine

ALL_METHODS = ("GET", "HEAD", "POST", "PUT")
JSON = "application/json"
ADDRESSES_KEPT = 1024  # remote addresses whose local-network verdict is kept


def mask_webhook_id(webhook_id: str) -> str:
    """Return a webhook id as logs may show it: a secret, so its last 4 characters."""
    return f"…{webhook_id[-4:]}"


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


async def async_read_update(request: web.Request) -> BoardUpdate:
    """Read and validate a board's post; raise BoardRequestError for bad input."""
    return parse_board_update(await _read_body(request))


def required_machine_name(update: BoardUpdate) -> str:
    """Return the machine a post to the hub webhook names."""
    if update.machine_name is None:
        raise BoardRequestError(HTTPStatus.BAD_REQUEST, "machine_name is required")
    return update.machine_name


def _answer(body: bytes) -> web.Response:
    # What `web.json_response(reply.as_json())` answers, from the encoded reply.
    return web.Response(body=body, content_type=JSON, charset="utf-8")


def machine_reply(machine: Machine, update: BoardUpdate) -> web.Response:
    """Answer a post from the running machine."""
    return _answer(machine.last_reply.body(machine.async_handle_update(update)))


def early_reply(screen: Screen) -> web.Response:
    """Answer without a running machine: everything off, `screen` on the display."""
    reply = Reply(relay=False, screen=screen, oops_led=False, second_relay=False)
    return _answer(reply_body(reply))


def refuse(where: str, err: BoardRequestError) -> web.Response:
    """Answer bad input with its JSON error."""
    # The board's fault, not ours: debug only, and never a traceback.
    LOGGER.debug("Refused a board post to %s webhook: %s %s", where, err.status, err.message)
    return _error(err.status, err.message)


def from_local_network(hass: HomeAssistant, request: web.Request) -> bool:
    """Return True for a post from the local network (not through the cloud)."""
    if is_cloud_connection(hass) or request.remote is None:
        return False
    return _is_local_address(request.remote)


@lru_cache(maxsize=ADDRESSES_KEPT)
def _is_local_address(remote: str) -> bool:
    # The same few boards post every second: parse each address once.
    try:
        return network_util.is_local(ip_address(remote))
    except ValueError:
        return False


def refuse_internet(where: str, webhook_id: str, request: web.Request, warn: bool) -> web.Response:
    """Refuse a post from outside the local network; `warn` the first time only."""
    if warn:
        LOGGER.warning(
            "Refused a post to the %s webhook (%s) from %s, outside the local network; "
            "allow the internet in the hub's options if the board really is remote",
            where,
            mask_webhook_id(webhook_id),
            request.remote,
        )
    return _error(
        HTTPStatus.FORBIDDEN,
        "only the local network may post here (the hub's options can allow the internet)",
    )
