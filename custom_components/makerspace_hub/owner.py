"""What the hub and the platforms know of a device: the `Owner` protocol.

A device of a hub (a machine, a printer, a recording sensor) is made from one
subentry and owns one state store. The hub loads, starts and stops its owners, the
diagnostics describe them and the platforms add their entities through this
protocol only; nothing outside a wing needs to know which kinds exist beyond the
hub's list of kinds (`hub.OWNER_KINDS`) and each platform's descriptions per kind.
"""

from typing import Any, ClassVar, Protocol

from homeassistant.core import CALLBACK_TYPE

from .storage.owner_store import OwnerStore


class Owner(Protocol):
    """A device of the hub with persisted state."""

    kind: ClassVar[str]  # its subentry type, e.g. "machine"
    subentry_id: str
    store: OwnerStore

    @property
    def name(self) -> str:
        """Return how logs and alerts name the device."""

    async def async_load(self) -> None:
        """Take the saved state (or defaults) from the store; before any entity exists."""

    def async_start(self) -> None:
        """Start timers and polls; the platforms are set up by now."""

    def async_stop(self) -> None:
        """Stop timers and polls (the hub unloads); the state stays in the store."""

    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` on every change; return the remover."""

    def diagnostics(self) -> dict[str, Any]:
        """Return the device's diagnostics, secrets and personal data redacted."""
