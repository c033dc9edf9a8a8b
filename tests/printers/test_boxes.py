"""The ML API's boxes drawn on a snapshot (pure: Pillow, no Home Assistant)."""

from io import BytesIO

from PIL import Image
import pytest

from custom_components.makerspace_hub.printers.boxes import (
    DRAWN_MIN_WIDTH,
    HIGH_CONFIDENCE,
    LOW_CONFIDENCE,
    ORANGE,
    RED,
    YELLOW,
    box_colour,
    draw_boxes,
    percent,
)
from custom_components.makerspace_hub.printers.ml_api import Detection

GREY = (128, 128, 128)


def picture(width: int = 800, height: int = 600, image_format: str = "JPEG") -> bytes:
    out = BytesIO()
    Image.new("RGB", (width, height), GREY).save(out, format=image_format, quality=95)
    return out.getvalue()


def opened(jpeg: bytes) -> Image.Image:
    image = Image.open(BytesIO(jpeg))
    assert image.format == "JPEG"
    return image.convert("RGB")


def near(colour: object, expected: tuple[int, int, int]) -> bool:
    assert isinstance(colour, tuple)
    return max(abs(a - b) for a, b in zip(colour, expected, strict=True)) <= 40


def dark(pixel: object) -> bool:
    """Return True for the (anti-aliased) black of a label's text."""
    assert isinstance(pixel, tuple)
    return max(pixel) < 100


def found(confidence: float, box: tuple[float, float, float, float] | None) -> Detection:
    return Detection("failure", confidence, box)


def pixels(image: Image.Image) -> list[object]:
    """Return every pixel (Image.getdata is deprecated in the newest Pillow)."""
    return [image.getpixel((x, y)) for y in range(image.height) for x in range(image.width)]


@pytest.mark.parametrize(
    ("confidence", "colour"),
    [
        (0.0, YELLOW),
        (LOW_CONFIDENCE - 0.01, YELLOW),
        (LOW_CONFIDENCE, ORANGE),
        (HIGH_CONFIDENCE - 0.01, ORANGE),
        (HIGH_CONFIDENCE, RED),
        (1.0, RED),
    ],
)
def test_a_box_is_coloured_by_its_confidence(confidence: float, colour: object) -> None:
    assert box_colour(confidence) == colour


def test_the_confidence_is_written_as_a_percentage() -> None:
    assert percent(0.924) == "92 %"
    assert percent(0.05) == "5 %"


def test_each_box_is_outlined_where_the_ml_api_saw_it() -> None:
    drawn = draw_boxes(
        picture(),
        [found(0.9, (200, 200, 120, 120)), found(0.5, (450, 300, 100, 100)), found(0.1, None)],
    )
    assert drawn is not None
    image = opened(drawn)
    assert image.size == (800, 600)
    # Outlines: left and right edges of the red box, bottom of the orange one.
    assert near(image.getpixel((141, 200)), RED)
    assert near(image.getpixel((258, 200)), RED)
    assert near(image.getpixel((450, 348)), ORANGE)
    assert near(image.getpixel((200, 200)), GREY)  # inside: the picture as it was
    # The label above each top left corner: a patch of the box's colour with the
    # confidence written in black on it.
    label = image.crop((140, 100, 200, 139))
    colours = [pixel for pixel in pixels(label) if isinstance(pixel, tuple)]
    assert sum(near(pixel, RED) for pixel in colours) > 200
    assert sum(dark(pixel) for pixel in colours) > 20


def test_a_box_at_the_top_has_its_label_inside() -> None:
    drawn = draw_boxes(picture(), [found(0.9, (400, 60, 200, 120))])
    assert drawn is not None
    label = opened(drawn).crop((301, 2, 360, 30))
    assert sum(dark(pixel) for pixel in pixels(label)) > 20


def test_boxes_outside_the_picture_or_huge_do_not_break_the_drawing() -> None:
    drawn = draw_boxes(
        picture(),
        [
            found(0.9, (-500, -500, 10, 10)),
            found(0.9, (5000, 100, 10, 10)),
            found(0.5, (400, 300, 1e12, 1e12)),  # the whole picture
        ],
    )
    assert drawn is not None
    image = opened(drawn)
    # The huge box's edges are outside the picture; its label is in the corner.
    assert near(image.getpixel((1, 300)), GREY)
    assert near(image.getpixel((2, 2)), ORANGE)
    assert near(image.getpixel((400, 300)), GREY)


def test_a_large_frame_is_drawn_smaller_with_its_boxes_scaled() -> None:
    drawn = draw_boxes(picture(1920, 1080), [found(0.9, (400, 400, 200, 200))])
    assert drawn is not None
    image = opened(drawn)
    # JPEG decodes at 1/2 scale, still at least DRAWN_MIN_WIDTH wide.
    assert image.size == (960, 540)
    assert image.width >= DRAWN_MIN_WIDTH
    assert near(image.getpixel((151, 200)), RED)  # the left edge, at x = 300 / 2
    assert near(image.getpixel((200, 200)), GREY)


def test_other_formats_are_drawn_and_garbage_is_not() -> None:
    drawn = draw_boxes(picture(image_format="PNG"), [found(0.9, (200, 200, 120, 120))])
    assert drawn is not None
    assert near(opened(drawn).getpixel((141, 200)), RED)
    assert draw_boxes(b"not a picture", [found(0.9, (1, 1, 1, 1))]) is None
    assert draw_boxes(picture()[:200], []) is None  # a truncated JPEG
