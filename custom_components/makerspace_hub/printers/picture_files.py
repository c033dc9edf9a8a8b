"""A printer's pictures on disk, and the view that serves its alerts' pictures.

Each printer keeps its pictures in `.storage/makerspace_hub/<entry id>/printer/<subentry
id>/`, beside the printers' state files and named by the subentry id, so a renamed
printer keeps them (its state file follows its name) and the view finds them from
the ids in its URL:

- `failure.jpg`: the failure picture of the current print (see `pictures`);
- `alert-<ms since 1970>.jpg`: each failure alert's picture, the last MAX_ALERT_FRAMES.

`AlertFrameView` serves an alert's picture at
`/api/makerspace_hub/alert_image/<entry id>/<subentry id>/alert-<ms>.jpg` to logged-in
users, and to anyone with the signed link an alert carries (`alert_frame_link`,
valid ALERT_LINK_VALID). Home Assistant's image proxy tokens rotate every 5 minutes:
no use for an alert read hours later.

The blocking functions here run in a thread of their own (`run_in_thread`), never on
the event loop; `sweep` deletes the folders of removed printers.
"""

import asyncio
from collections.abc import Iterable
from contextlib import suppress
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path
import re
import shutil

from aiohttp import web
from homeassistant.components.http.auth import async_sign_path
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from ..const import DOMAIN, LOGGER, SUBENTRY_PRINTER
from ..storage.owner_store import StateWriter, run_in_thread
from ..storage.state_files import lock_path

ALERT_FRAME_PATH = f"/api/{DOMAIN}/alert_image"
FAILURE_FILE = "failure.jpg"
ALERT_FRAME = re.compile(r"alert-[0-9]{13}\.jpg")
MAX_ALERT_FRAMES = 5
# An alert's link works this long (and until Home Assistant restarts: its signing
# secret is kept in memory only). Long enough for an alert read after a weekend
# away from the shop; a leaked link shows one picture of a print bed, read-only.
ALERT_LINK_VALID = timedelta(days=7)
READ_TIMEOUT_SEC = 10.0
_CACHE_CONTROL = f"private, max-age={int(ALERT_LINK_VALID.total_seconds())}"
_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


def printers_folder(hass: HomeAssistant, entry_id: str) -> Path:
    """Return the folder of a hub's printer state files (and picture folders)."""
    return Path(hass.config.path(".storage", DOMAIN, entry_id, SUBENTRY_PRINTER))


def alert_frame_name(wall: float) -> str:
    """Return the file name of an alert's picture taken at `wall` (seconds since 1970)."""
    return f"alert-{round(wall * 1000):013d}.jpg"


def alert_frame_link(hass: HomeAssistant, entry_id: str, subentry_id: str, name: str) -> str:
    """Return the signed path of an alert's picture (relative: the app and browser add the host).

    Signed for Home Assistant's content user (read-only), not for whoever caused the
    alert: an alert has no user.
    """
    return async_sign_path(
        hass,
        f"{ALERT_FRAME_PATH}/{entry_id}/{subentry_id}/{name}",
        ALERT_LINK_VALID,
        use_content_user=True,
    )


@callback
def async_sweep(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Delete the pictures of the hub's removed printers, in the background."""
    printers = [
        subentry_id
        for subentry_id, subentry in entry.subentries.items()
        if subentry.subentry_type == SUBENTRY_PRINTER
    ]
    folder = printers_folder(hass, entry.entry_id)

    async def async_sweep_in_thread() -> None:
        try:
            await run_in_thread(hass, sweep, folder, printers)
        except OSError as err:
            LOGGER.warning("Cannot delete the pictures of removed printers: %s", err)

    hass.async_create_background_task(async_sweep_in_thread(), f"{DOMAIN} picture sweep")


# --- blocking, in a thread of their own ---------------------------------------------


def write_picture(writer: StateWriter, path: Path, data: bytes) -> None:
    """Write a picture atomically with the state files' writer; no lock file stays."""
    writer.write(path, data)
    lock_path(path).unlink(missing_ok=True)  # one writer per printer: nobody waits on it


def save_failure(writer: StateWriter, folder: Path, jpeg: bytes, alert_name: str) -> None:
    """Write the failure picture and the alert's picture; keep the last MAX_ALERT_FRAMES."""
    write_picture(writer, folder / FAILURE_FILE, jpeg)
    write_picture(writer, folder / alert_name, jpeg)
    frames = sorted(path for path in folder.iterdir() if ALERT_FRAME.fullmatch(path.name))
    for old in frames[:-MAX_ALERT_FRAMES]:
        old.unlink(missing_ok=True)


def read_failure(folder: Path) -> tuple[bytes, float] | None:
    """Return the failure picture and when it was written (None: there is none)."""
    path = folder / FAILURE_FILE
    try:
        return path.read_bytes(), path.stat().st_mtime
    except FileNotFoundError:
        return None


def delete_failure(folder: Path) -> None:
    """Delete the failure picture (a new print began)."""
    (folder / FAILURE_FILE).unlink(missing_ok=True)


def sweep(folder: Path, printers: Iterable[str]) -> None:
    """Delete the picture folders of printers that are no longer in the hub."""
    keep = set(printers)
    with suppress(FileNotFoundError):
        for path in folder.iterdir():
            if path.is_dir() and _ID.fullmatch(path.name) and path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)


def _read_frame(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


# --- the view -----------------------------------------------------------------------


class AlertFrameView(HomeAssistantView):
    """Serves the pictures of a printer's failure alerts."""

    url = ALERT_FRAME_PATH + "/{entry_id}/{subentry_id}/{name}"
    name = f"api:{DOMAIN}:alert_image"
    requires_auth = True

    async def get(
        self, request: web.Request, entry_id: str, subentry_id: str, name: str
    ) -> web.StreamResponse:
        """Answer the picture, or a 404 for anything that is not one."""
        hass = request.app[KEY_HASS]
        entry = hass.config_entries.async_get_entry(entry_id)
        subentry = None if entry is None else entry.subentries.get(subentry_id)
        if (
            entry is None
            or entry.domain != DOMAIN
            or subentry is None
            or subentry.subentry_type != SUBENTRY_PRINTER
            or not _ID.fullmatch(entry_id)
            or not _ID.fullmatch(subentry_id)
            or not ALERT_FRAME.fullmatch(name)
        ):
            return self.json_message("No such picture", HTTPStatus.NOT_FOUND)
        path = printers_folder(hass, entry_id) / subentry_id / name
        try:
            async with asyncio.timeout(READ_TIMEOUT_SEC):
                image = await run_in_thread(hass, _read_frame, path)
        except (TimeoutError, OSError):
            return self.json_message("The picture cannot be read", HTTPStatus.SERVICE_UNAVAILABLE)
        if image is None:
            return self.json_message("No such picture", HTTPStatus.NOT_FOUND)
        # A picture never changes: a browser may keep it as long as its link works.
        return web.Response(
            body=image, content_type="image/jpeg", headers={"Cache-Control": _CACHE_CONTROL}
        )
