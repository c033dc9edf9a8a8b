"""The machines that run, as the board gate was told, and relay-offs none has heard yet.

A hub tells the gate of each machine it started and of those it stops (also when
its setup fails after they started), so that a relay-off said to a board reaches a
running machine or waits for its next start. (Who answers a post is the loaded
hub's business: the gate asks its runtime data.)

A relay-off said to a board while its machine did not run ends the session when the
machine starts (safety spec: a relay that went off never comes back on by itself).
Those not heard yet are saved in `.storage`: Home Assistant may stop (a crash during
start-up) before the machine starts.
"""

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from ..const import DOMAIN
from .machine import Machine

# Relay-offs not yet heard by their machine, in .storage (written off the loop, soon).
TOLD_OFF_KEY = f"{DOMAIN}.told_off"
TOLD_OFF_VERSION = 1
TOLD_OFF_SAVE_DELAY_SEC = 0.0  # at once (still off the loop): a crash may follow


class RunningMachines:
    """Running machines by subentry id, and the relay-offs waiting for the next start."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Know of no machine and no relay-off yet."""
        self._machines: dict[str, Machine] = {}  # set up, or being set up
        # Boards told relay off while their machine was not running, by machine
        # subentry id: the session ends when the machine starts.
        self._told_off: dict[str, str] = {}
        self._store: Store[dict[str, str]] = Store(hass, TOLD_OFF_VERSION, TOLD_OFF_KEY)

    async def async_load(self) -> None:
        """Read the relay-offs of the last run that no machine has heard of yet."""
        data = await self._store.async_load()
        if isinstance(data, dict):
            self._told_off.update(
                (key, value)
                for key, value in data.items()
                if isinstance(key, str) and isinstance(value, str)
            )

    @callback
    def _save_told_off(self) -> None:
        self._store.async_delay_save(lambda: dict(self._told_off), TOLD_OFF_SAVE_DELAY_SEC)

    @callback
    def async_started(self, machine: Machine) -> None:
        """Take a machine just loaded; end its session if its board was told relay off."""
        self._machines[machine.subentry_id] = machine
        if (reason := self._told_off.pop(machine.subentry_id, None)) is not None:
            machine.async_told_relay_off(reason)
            self._save_told_off()

    @callback
    def async_stopping(self, machines: list[Machine]) -> None:
        """Forget machines that are unloaded: their next start hears of relay-offs."""
        for machine in machines:
            if self._machines.get(machine.subentry_id) is machine:
                del self._machines[machine.subentry_id]

    @callback
    def async_told_relay_off(self, subentry_id: str, reason: str) -> None:
        """End the session now, or when the machine starts if it does not run."""
        if (machine := self._machines.get(subentry_id)) is not None:
            machine.async_told_relay_off(reason)
        elif self._told_off.get(subentry_id) != reason:
            self._told_off[subentry_id] = reason
            self._save_told_off()
