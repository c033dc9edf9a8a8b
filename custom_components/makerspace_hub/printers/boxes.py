"""The ML API's boxes drawn on a snapshot (pure: Pillow only, no Home Assistant).

Each detection's box is outlined in the colour of its confidence (yellow below
LOW_CONFIDENCE, orange below HIGH_CONFIDENCE, red above) with the confidence written
beside it as a percentage; the most confident box is drawn last, on top. Blocking
CPU work: the glue runs it in the executor, and only when a picture is looked at
(or once for a failure), never for every frame.

A large frame is decoded at a reduced JPEG scale (1/2, 1/4, 1/8: cheaper than a full
decode) that keeps it at least DRAWN_MIN_WIDTH pixels wide: a 1080p frame is drawn
at 960x540 in about 15 ms of CPU instead of about 32 ms.
"""

from collections.abc import Sequence
from functools import lru_cache
from io import BytesIO
import math

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from .ml_api import Detection

LOW_CONFIDENCE = 0.4
HIGH_CONFIDENCE = 0.7
YELLOW = (255, 214, 0)
ORANGE = (255, 128, 0)
RED = (230, 20, 20)
LABEL_TEXT = (0, 0, 0)
DRAWN_MIN_WIDTH = 800
JPEG_QUALITY = 80
# Decompression bombs: a camera frame is never this large.
MAX_PIXELS = 40_000_000

type Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def box_colour(confidence: float) -> tuple[int, int, int]:
    """Return the outline colour of a box of `confidence`."""
    if confidence < LOW_CONFIDENCE:
        return YELLOW
    if confidence < HIGH_CONFIDENCE:
        return ORANGE
    return RED


def percent(confidence: float) -> str:
    """Return how a box's confidence is written beside it, e.g. `92 %`."""
    return f"{confidence * 100:.0f} %"


_FAR = 1e6  # pixels: far outside any picture, still a number Pillow takes


@lru_cache(maxsize=8)
def _font(size: int) -> Font:
    return ImageFont.load_default(size=size)


def outline_rectangle(
    box: tuple[float, float, float, float], scale: float
) -> tuple[int, int, int, int]:
    """Return the corners (left, top, right, bottom) of a `(xc, yc, w, h)` box, scaled."""
    xc, yc, w, h = (value * scale for value in box)
    corners = (xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2)
    # An ML API may answer absurd (even infinite) numbers: keep them drawable.
    left, top, right, bottom = (
        min(max(c, -_FAR), _FAR) if not math.isnan(c) else 0.0 for c in corners
    )
    return round(left), round(top), round(right), round(bottom)


def line_width(width: int, height: int) -> int:
    """Return how thick the outlines are on a picture of that size."""
    return max(2, round(min(width, height) / 160))


def draw_boxes(image: bytes, detections: Sequence[Detection]) -> bytes | None:
    """Return a JPEG of `image` with the boxes of `detections`; None if it cannot be read."""
    try:
        with Image.open(BytesIO(image)) as source:
            width, height = source.size
            if width * height > MAX_PIXELS or width < 1 or height < 1:
                return None
            if source.format == "JPEG":
                source.draft("RGB", (DRAWN_MIN_WIDTH, max(1, height * DRAWN_MIN_WIDTH // width)))
            picture = source.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    scale = picture.width / width
    pen = ImageDraw.Draw(picture)
    thickness = line_width(picture.width, picture.height)
    font = _font(max(12, picture.width // 40))
    for detection in sorted(detections, key=lambda found: found.confidence):
        if detection.box is None:
            continue
        left, top, right, bottom = outline_rectangle(detection.box, scale)
        if right < 0 or bottom < 0 or left >= picture.width or top >= picture.height:
            continue  # outside the picture
        # Edges far outside the picture are drawn just outside it (Pillow wants C ints).
        left, top = max(left, -thickness), max(top, -thickness)
        right, bottom = (
            min(right, picture.width + thickness),
            min(bottom, picture.height + thickness),
        )
        colour = box_colour(detection.confidence)
        pen.rectangle((left, top, right, bottom), outline=colour, width=thickness)
        _label(pen, font, percent(detection.confidence), colour, (left, top))
    out = BytesIO()
    picture.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _label(
    pen: ImageDraw.ImageDraw,
    font: Font,
    text: str,
    colour: tuple[int, int, int],
    corner: tuple[int, int],
) -> None:
    """Write `text` on a patch of the box's colour above its top left corner.

    Inside the box's top instead when there is no room above it (the picture's top).
    """
    left, top = corner
    text_left, text_top, text_right, text_bottom = pen.textbbox((0, 0), text, font=font)
    pad = 3
    label_w = text_right - text_left + 2 * pad
    label_h = text_bottom - text_top + 2 * pad
    x = max(0, left)
    y = top - label_h if top >= label_h else max(0, top)
    pen.rectangle((x, y, x + label_w, y + label_h), fill=colour)
    pen.text((x + pad - text_left, y + pad - text_top), text, font=font, fill=LABEL_TEXT)
