"""What the detector saw: the printers' image entities and their alerts' pictures.

The fake ML API answers boxes; the pictures are read back with Pillow, through Home
Assistant's image proxy and the alerts' signed links, over real HTTP.
"""

from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import jwt
from PIL import Image
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.printers.boxes import ORANGE, RED, YELLOW
from custom_components.makerspace_hub.printers.picture_files import (
    ALERT_LINK_VALID,
    FAILURE_FILE,
    MAX_ALERT_FRAMES,
    alert_frame_name,
    printers_folder,
    save_failure,
)
from custom_components.makerspace_hub.storage.hub_storage import DATA_STORAGE
from custom_components.makerspace_hub.storage.state_files import AtomicFileWriter

from ..conftest import TRANSLATIONS, subentry_by_title
from ..restart import restarted
from ..slow_disk import SlowDisk
from .shop import MakeShop, Shop

GREY = (128, 128, 128)
# [xc, yc, w, h] boxes on an 800x600 picture, one per colour.
SURE = ["failure", 0.95, [200, 200, 120, 120]]  # red, from (140, 140) to (260, 260)
MAYBE = ["failure", 0.55, [450, 300, 100, 100]]  # orange, from (400, 250) to (500, 350)
FAINT = ["failure", 0.25, [650, 450, 80, 80]]  # yellow, from (610, 410) to (690, 490)
# Enough to fail within two frames of a warmed-up print (3.05 per frame).
FAILING = [
    SURE,
    ["failure", 0.95, [560, 120, 60, 60]],
    MAYBE,
    ["failure", 0.35, [80, 500, 40, 40]],
    FAINT,
]


def bed_picture() -> bytes:
    """Return an 800x600 grey JPEG: the printer's camera."""
    out = BytesIO()
    Image.new("RGB", (800, 600), GREY).save(out, format="JPEG", quality=95)
    return out.getvalue()


def colour_at(jpeg: bytes, x: int, y: int) -> tuple[int, int, int]:
    with Image.open(BytesIO(jpeg)) as picture:
        return picture.convert("RGB").getpixel((x, y))  # type: ignore[return-value]


def near(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    """Return True when two colours differ by JPEG noise only."""
    return max(abs(a - b) for a, b in zip(colour, expected, strict=True)) <= 40


def assert_boxes(jpeg: bytes) -> None:
    """Each box is outlined in its colour, on its left edge, where the ML API said."""
    assert near(colour_at(jpeg, 141, 200), RED)
    assert near(colour_at(jpeg, 401, 300), ORANGE)
    assert near(colour_at(jpeg, 611, 450), YELLOW)
    assert near(colour_at(jpeg, 200, 200), GREY)  # inside a box: the picture as it was
    assert near(colour_at(jpeg, 20, 20), GREY)


async def camera_shows_the_bed(shop: Shop, name: str = "prusa") -> bytes:
    picture = bed_picture()

    async def snapshot(width: int | None = None, height: int | None = None) -> bytes:
        return picture

    # The fake camera's picture (the camera is outside the project).
    shop.world["cameras"][name].async_camera_image = snapshot
    return picture


async def fail(shop: Shop, name: str = "prusa") -> None:
    """Warm the print up with clean frames, then fail it (the action runs)."""
    await shop.status(name, "printing", filename="benchy.gcode")  # frame 1
    await shop.frames(29)
    shop.ml_api.detections.extend([FAILING] * 2)
    await shop.frames(2)
    assert shop.printer(name).job.acted


async def proxied(client: TestClient, entity_id: str, token: str | None = None) -> bytes:
    response = await client.get(
        f"/api/image_proxy/{entity_id}", params={"token": token} if token else None
    )
    assert response.status == 200
    assert response.content_type == "image/jpeg"
    return await response.read()


def test_the_images_have_names() -> None:
    names = TRANSLATIONS["entity"]["image"]
    assert names["detection"]["name"] == "Detection"
    assert names["failure"]["name"] == "Failure"


async def test_the_detection_image_shows_the_last_frames_boxes(
    make_shop: MakeShop,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    shop = await make_shop("prusa")
    client = await hass_client()
    detection = shop.entity("image", "prusa", "detection")
    assert shop.hass.states.get(detection).state == "unavailable"  # nothing scored yet
    original = await camera_shows_the_bed(shop)
    shop.ml_api.detections.append([SURE, MAYBE, FAINT])
    before = dt_util.utcnow()
    await shop.status("prusa", "printing")  # the first frame is taken at once

    state = shop.hass.states.get(detection)
    assert before <= datetime.fromisoformat(state.state) <= dt_util.utcnow()
    drawn = await proxied(client, detection)
    assert drawn != original
    assert_boxes(drawn)
    # Drawn once per frame: asked again, the same picture (not drawn anew).
    pictures = shop.printer("prusa").pictures
    assert await pictures.async_detection_jpeg() is await pictures.async_detection_jpeg()

    await shop.frames(1)  # a frame without detections: no boxes any more
    assert shop.hass.states.get(detection).state != state.state
    clean = await proxied(client, detection)
    assert near(colour_at(clean, 141, 200), GREY)
    # Not without a login or the entity's token.
    anonymous = await hass_client_no_auth()
    assert (await anonymous.get(f"/api/image_proxy/{detection}")).status == 403

    await shop.status("prusa", "idle")  # the print is over: the last frame stays
    assert shop.hass.states.get(detection).state != "unavailable"
    # No failure yet: no failure picture.
    assert shop.state("image", "prusa", "failure").state == "unavailable"


async def test_the_failure_image_is_the_frame_that_acted_until_the_next_print(
    make_shop: MakeShop, hass_client: ClientSessionGenerator
) -> None:
    shop = await make_shop("prusa")
    client = await hass_client()
    await camera_shows_the_bed(shop)
    failure = shop.entity("image", "prusa", "failure")
    await fail(shop)
    state = shop.hass.states.get(failure)
    assert state.state != "unavailable"
    acted = await proxied(client, failure)
    assert_boxes(acted)

    await shop.frames(2)  # later frames see nothing: the failure picture stays
    assert shop.hass.states.get(failure).state == state.state
    assert await proxied(client, failure) == acted
    folder = printers_folder(shop.hass, shop.entry.entry_id) / shop.printer("prusa").subentry_id
    assert (folder / FAILURE_FILE).read_bytes() == acted

    await shop.status("prusa", "idle")
    assert shop.hass.states.get(failure).state == state.state  # kept after the print
    await shop.status("prusa", "printing", filename="bracket.gcode")
    assert shop.hass.states.get(failure).state == "unavailable"
    assert not (folder / FAILURE_FILE).exists()


async def test_the_failure_image_survives_a_restart(
    make_shop: MakeShop,
    hass: HomeAssistant,
    config_dir: Path,
    aiohttp_client: ClientSessionGenerator,
) -> None:
    shop = await make_shop("prusa")
    await camera_shows_the_bed(shop)
    await fail(shop)
    acted = shop.printer("prusa").pictures.failure_jpeg
    assert acted is not None
    unique_id = f"{shop.entry.entry_id}_{subentry_by_title(shop.entry, 'prusa').subentry_id}"
    async with restarted(hass, config_dir, aiohttp_client) as (new, new_client):
        assert new_client is not None
        await new.async_block_till_done(wait_background_tasks=True)  # the picture is read
        registry = er.async_get(new)
        failure = registry.async_get_entity_id("image", DOMAIN, f"{unique_id}_failure")
        detection = registry.async_get_entity_id("image", DOMAIN, f"{unique_id}_detection")
        assert failure is not None
        assert detection is not None
        state = new.states.get(failure)
        assert state.state != "unavailable"
        served = await proxied(new_client, failure, state.attributes["access_token"])
        assert served == acted
        assert_boxes(served)
        # The last frame is not kept across a restart: nothing scored since.
        assert new.states.get(detection).state == "unavailable"


async def test_the_failure_alert_links_its_picture(
    make_shop: MakeShop,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    shop = await make_shop("prusa")
    await camera_shows_the_bed(shop)
    await fail(shop)
    (alert,) = shop.notifications
    link = alert.data["data"]["image"]
    subentry_id = shop.printer("prusa").subentry_id
    path, _, query = link.partition("?")
    folder = f"/api/makerspace_hub/alert_image/{shop.entry.entry_id}/{subentry_id}"
    assert path.startswith(f"{folder}/alert-")
    assert query.startswith("authSig=")
    assert alert.data["data"]["actions"]  # the buttons stay

    anonymous = await hass_client_no_auth()
    response = await anonymous.get(link)
    assert response.status == 200
    assert response.content_type == "image/jpeg"
    picture = await response.read()
    assert picture == shop.printer("prusa").pictures.failure_jpeg
    assert_boxes(picture)

    # The signature is the credential: without it, or changed, or for another file, no.
    signature = query.removeprefix("authSig=")
    claims = jwt.decode(signature, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == ALERT_LINK_VALID.total_seconds() == 7 * 24 * 3600
    tampered = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    other = f"{folder}/{alert_frame_name(1)}?{query}"
    for refused in (path, f"{path}?authSig={tampered}", other):
        assert (await anonymous.get(refused)).status == 401
    # Logged in, the picture needs no signature; anything that is not one is a 404.
    client = await hass_client()
    assert await (await client.get(path)).read() == picture
    for missing in (
        f"{folder}/{alert_frame_name(1)}",
        f"{folder}/{FAILURE_FILE}",
        f"{folder}/alert-1.jpg",
        f"{folder}/alert-1234567890123.jpg.lock",
        f"/api/makerspace_hub/alert_image/{shop.entry.entry_id}/nope/{path.rsplit('/', 1)[1]}",
        f"/api/makerspace_hub/alert_image/nope/{subentry_id}/{path.rsplit('/', 1)[1]}",
    ):
        response = await client.get(missing)
        assert response.status == 404, missing
        assert (await response.json())["message"] == "No such picture"
    # Home Assistant itself refuses a path that climbs out (400), before the view.
    assert (await client.get(f"{folder}/..%2F..%2Fprusa.json")).status == 400


async def test_without_notify_services_the_notification_shows_the_picture(
    make_shop: MakeShop, hass_client_no_auth: ClientSessionGenerator
) -> None:
    shop = await make_shop("prusa", notify_services=[])
    kept: list[dict[str, Any]] = []

    def follow(kind: Any, notifications: dict[str, Any]) -> None:
        if kind == persistent_notification.UpdateType.ADDED:
            kept.extend(notifications.values())

    persistent_notification.async_register_callback(shop.hass, follow)
    await camera_shows_the_bed(shop)
    await fail(shop)
    (note,) = kept
    assert note["title"] == "prusa may be failing"
    text, _, markdown = note["message"].partition("\n\n")
    assert "failure probability" in text
    assert markdown.startswith("![prusa may be failing](/api/makerspace_hub/alert_image/")
    link = markdown.removeprefix("![prusa may be failing](").removesuffix(")")
    response = await (await hass_client_no_auth()).get(link)
    assert response.status == 200
    assert await response.read() == shop.printer("prusa").pictures.failure_jpeg


async def test_a_hung_disk_sends_the_alert_without_its_picture(
    make_shop: MakeShop, hass: HomeAssistant
) -> None:
    shop = await make_shop("prusa")
    await camera_shows_the_bed(shop)
    disk = SlowDisk()
    hass.data[DATA_STORAGE].writer = disk
    held = disk.hang(FAILURE_FILE)
    await shop.status("prusa", "printing")
    await shop.frames(29)
    shop.ml_api.detections.extend([FAILING] * 2)
    await shop.frames(1)
    # The failing frame: its picture's save hangs, and the alert waits for it...
    assert await hass.data[DATA_STORAGE].for_entry(shop.entry.entry_id).async_flush()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=10.5))
    try:
        assert await hass.async_add_executor_job(disk.wait_until_held, FAILURE_FILE)
        assert shop.notifications == []
        # ...5 s at most: then it goes without, whenever the disk comes back.
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=16))
        held.set()
        await hass.async_block_till_done(wait_background_tasks=True)
        (alert,) = shop.notifications
        assert alert.data["title"] == "prusa may be failing"
        assert "image" not in alert.data["data"]
        assert alert.data["data"]["actions"]
        # The picture is shown all the same (it is in memory).
        assert shop.state("image", "prusa", "failure").state != "unavailable"
    finally:
        held.set()


async def test_a_failing_write_sends_the_alert_without_its_picture(
    make_shop: MakeShop, hass: HomeAssistant
) -> None:
    shop = await make_shop("prusa")
    await camera_shows_the_bed(shop)
    # A file where the printer's picture folder should be: every write fails.
    folder = printers_folder(hass, shop.entry.entry_id) / shop.printer("prusa").subentry_id
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("in the way")
    await fail(shop)
    (alert,) = shop.notifications
    assert "image" not in alert.data["data"]
    assert "failure probability" in alert.data["message"]
    assert shop.state("image", "prusa", "failure").state != "unavailable"


def test_only_the_last_alert_pictures_are_kept(tmp_path: Path) -> None:
    names = [
        alert_frame_name(1_780_000_000 + minute * 60) for minute in range(MAX_ALERT_FRAMES + 2)
    ]
    for number, name in enumerate(names):
        save_failure(AtomicFileWriter(), tmp_path, bytes([number]), name)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [FAILURE_FILE, *names[-MAX_ALERT_FRAMES:]]
    )  # no lock files either
    assert (tmp_path / FAILURE_FILE).read_bytes() == bytes([MAX_ALERT_FRAMES + 1])
    assert (tmp_path / names[-1]).read_bytes() == bytes([MAX_ALERT_FRAMES + 1])


async def test_a_removed_printers_pictures_are_deleted(
    make_shop: MakeShop, hass: HomeAssistant
) -> None:
    shop = await make_shop("prusa", "voron")
    folder = printers_folder(hass, shop.entry.entry_id)
    kept, removed = (subentry_by_title(shop.entry, name).subentry_id for name in ("prusa", "voron"))
    for subentry_id in (kept, removed):
        (folder / subentry_id).mkdir(parents=True)
        (folder / subentry_id / FAILURE_FILE).write_bytes(bed_picture())
    assert hass.config_entries.async_remove_subentry(shop.entry, removed)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await hass.config_entries.async_reload(shop.entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert (folder / kept / FAILURE_FILE).exists()
    assert not (folder / removed).exists()
