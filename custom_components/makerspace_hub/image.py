"""Images: what each printer's failure detection saw.

Detection: the last snapshot the ML API scored, with its boxes drawn (coloured by
confidence, the confidence beside each); drawn only when someone looks, once per
frame. Failure: the frame that made the print's failure action run, until the next
print starts (it survives restarts). Each is unavailable while there is no picture;
its state is when the picture was taken.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import SUBENTRY_PRINTER
from .entity import MakerspaceEntity, async_add_owner_entities
from .hub import MakerspaceConfigEntry
from .printers.picture_files import async_sweep
from .printers.pictures import PrinterPictures
from .printers.printer import Printer

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PrinterImageDescription(ImageEntityDescription):
    """A printer's picture: its bytes and when it was taken (None: there is none)."""

    image_fn: Callable[[PrinterPictures], Awaitable[bytes | None]]
    updated_fn: Callable[[PrinterPictures], datetime | None]


async def _failure_jpeg(pictures: PrinterPictures) -> bytes | None:
    return pictures.failure_jpeg


PRINTER_IMAGES = (
    PrinterImageDescription(
        key="detection",
        translation_key="detection",
        image_fn=lambda pictures: pictures.async_detection_jpeg(),
        updated_fn=lambda pictures: pictures.frame_at,
    ),
    PrinterImageDescription(
        key="failure",
        translation_key="failure",
        image_fn=_failure_jpeg,
        updated_fn=lambda pictures: pictures.failure_at,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerspaceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each printer's Detection and Failure images; forget removed printers' pictures."""
    async_add_owner_entities(
        entry,
        async_add_entities,
        entry.runtime_data.owners,
        {
            SUBENTRY_PRINTER: lambda entry, sid, printer: [
                PrinterImage(hass, entry, sid, description, printer)
                for description in PRINTER_IMAGES
            ]
        },
    )
    async_sweep(hass, entry)


class PrinterImage(MakerspaceEntity[Printer], ImageEntity):
    """A picture of what the printer's failure detection saw."""

    entity_description: PrinterImageDescription

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        subentry_id: str,
        description: PrinterImageDescription,
        printer: Printer,
    ) -> None:
        """Show one of `printer`'s pictures."""
        MakerspaceEntity.__init__(self, entry, subentry_id, description, printer)
        ImageEntity.__init__(self, hass)
        self._attr_image_last_updated = description.updated_fn(printer.pictures)

    @property
    def available(self) -> bool:
        """Return False while there is no picture."""
        return (
            super().available
            and self.entity_description.updated_fn(self.source.pictures) is not None
        )

    async def async_image(self) -> bytes | None:
        """Return the picture (a JPEG)."""
        return await self.entity_description.image_fn(self.source.pictures)

    @callback
    def _async_source_changed(self) -> None:
        """Take the picture's time (the state) before the state is written."""
        self._attr_image_last_updated = self.entity_description.updated_fn(self.source.pictures)
        super()._async_source_changed()
