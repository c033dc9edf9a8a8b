"""Which board URLs answer, and how: every hub's and machine's webhook, from start-up on.

Early answers: the integration's `async_setup` registers the webhook of every hub
entry that is not disabled and of each of its machines, and keeps them in step with
the entries (hubs and machines added, new board URLs, machines removed). A post is
answered by its running machine when the hub is loaded and runs it. Otherwise (the
hub starting, reloading, retrying its setup or failed, a machine that could not be
set up) the board gets a valid six-key reply with everything off and the reason on
its display. That relay-off ends the machine's session like any other: a running
machine hears of it at once, one not running yet when it starts
(`async_machine_started`), so a reload never switches a saw off and then on again.
Before `async_setup` (Home Assistant starting) and for a disabled or deleted hub,
Home Assistant answers an empty 200 itself.

Retired URLs (`board_urls`): a board URL that stops being one (a new URL was issued,
its machine was removed) keeps answering relay off with "New URL needed" and never
judges a card again; like every relay-off, the answer ends the session of the machine
the post speaks for. Webhook ids are secrets: logs show only their last 4 characters.

The gate knows the running machines from what the hubs tell it (`running_machines`),
not from the hubs themselves: a machine answers only while its hub entry is loaded.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, cast

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    SOURCE_IGNORE,
    ConfigEntry,
    ConfigEntryChange,
    ConfigEntryState,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util.hass_dict import HassKey

from ..const import CONF_NAME, DOMAIN, LOGGER
from ..hub_options import HubOptions
from ..validation import InvalidConfigError
from .board_ids import (
    CONF_RETIRED_WEBHOOK_IDS,
    board_ids,
    machine_named,
    machine_names,
    still_retired,
)
from .board_protocol import (
    HUB_FAILED,
    HUB_NOT_RUNNING,
    HUB_RETRYING,
    HUB_STARTING,
    MACHINE_NOT_SET_UP,
    NEW_URL_NEEDED,
    UNKNOWN_MACHINE,
    BoardRequestError,
    BoardUpdate,
    Screen,
)
from .machine import Machine
from .running_machines import RunningMachines
from .webhooks import (
    ALL_METHODS,
    async_read_update,
    early_reply,
    from_local_network,
    machine_reply,
    mask_webhook_id,
    refuse,
    refuse_internet,
    required_machine_name,
)

DATA_GATE: HassKey["BoardGate"] = HassKey(f"{DOMAIN}_board_gate")

# Session end reasons (Access events).
REASON_NOT_RUNNING = "hub_not_running"
REASON_RETIRED_URL = "new_url_needed"
REASON_WRONG_NAME = "unknown_machine_name"

_NOT_RUNNING_SCREENS: dict[ConfigEntryState, Screen] = {
    ConfigEntryState.SETUP_IN_PROGRESS: HUB_STARTING,
    ConfigEntryState.SETUP_RETRY: HUB_RETRYING,
    ConfigEntryState.NOT_LOADED: HUB_NOT_RUNNING,
    ConfigEntryState.UNLOAD_IN_PROGRESS: HUB_NOT_RUNNING,
    ConfigEntryState.LOADED: MACHINE_NOT_SET_UP,  # its subentry is invalid
}  # any other state (setup or migration error, failed unload): HUB_FAILED


def _answer_unknown_name(where: str) -> web.Response:
    LOGGER.debug("A board post to the %s webhook names a machine it does not know", where)
    return early_reply(UNKNOWN_MACHINE)


class RunningHub(Protocol):
    """What the gate reads of a loaded hub entry's runtime data (the running hub)."""

    options: HubOptions

    @property
    def owners(self) -> Mapping[str, object]:
        """Return the hub's running owners (machines among them) by subentry id."""


@dataclass(frozen=True, slots=True)
class _Route:
    entry_id: str
    machine: str | None  # the machine subentry's id; None: the hub's URL
    retired: bool = False


class BoardGate:
    """The registered board webhooks of every hub, and who answers each post."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Answer nothing yet."""
        self.hass = hass
        self._routes: dict[str, _Route] = {}
        # Each entry's board URLs when last seen: one that disappears is retired.
        self._seen: dict[str, dict[str, str | None]] = {}
        self._running = RunningMachines(hass)
        self._warned: set[str] = set()
        # Each entry's machine names, with the subentries they were read from: Home
        # Assistant replaces that read-only mapping on every change of a subentry.
        self._names: dict[str, tuple[Mapping[str, object], dict[str, str]]] = {}

    async def async_load(self) -> None:
        """Read the relay-offs of the last run that no machine has heard of yet."""
        await self._running.async_load()

    @callback
    def async_start(self) -> None:
        """Answer every configured board URL, and follow the entries from now on."""
        for entry in self.hass.config_entries.async_entries(DOMAIN, include_ignore=False):
            self.async_sync(entry)
        # Sent for every added, changed (also a new state) and removed entry: the
        # registrations follow at once, also while a hub is not loaded.
        async_dispatcher_connect(self.hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._entry_changed)

    @callback
    def _entry_changed(self, change: ConfigEntryChange, entry: ConfigEntry) -> None:
        if entry.domain != DOMAIN or entry.source == SOURCE_IGNORE:
            return
        if change is ConfigEntryChange.REMOVED:
            self.async_forget(entry.entry_id)
            return
        self.async_sync(entry)

    @callback
    def async_sync(self, entry: ConfigEntry) -> None:
        """Register the entry's board URLs; retire those that stopped being one."""
        current = board_ids(entry)
        seen = self._seen.get(entry.entry_id, {})
        self._seen[entry.entry_id] = current
        kept = still_retired(entry, current, seen)
        stored = [[webhook_id, machine] for webhook_id, machine in kept.items()]
        routes: dict[str, _Route] = {}
        if not entry.disabled_by:
            routes = {
                webhook_id: _Route(entry.entry_id, machine, retired=True)
                for webhook_id, machine in kept.items()
            } | {
                webhook_id: _Route(entry.entry_id, machine)
                for webhook_id, machine in current.items()
            }
        self._set_routes(entry.entry_id, routes)
        if stored != entry.data.get(CONF_RETIRED_WEBHOOK_IDS, []):
            # Last: the update is dispatched back here, and finds nothing left to do.
            self.hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_RETIRED_WEBHOOK_IDS: stored}
            )

    @callback
    def async_forget(self, entry_id: str) -> None:
        """Stop answering a deleted hub's board URLs (Home Assistant answers then)."""
        self._set_routes(entry_id, {})
        self._seen.pop(entry_id, None)
        self._names.pop(entry_id, None)

    @callback
    def _set_routes(self, entry_id: str, routes: dict[str, _Route]) -> None:
        for webhook_id, route in list(self._routes.items()):
            if route.entry_id == entry_id and webhook_id not in routes:
                webhook.async_unregister(self.hass, webhook_id)
                del self._routes[webhook_id]
        for webhook_id, route in routes.items():
            if (known := self._routes.get(webhook_id)) is None:
                try:
                    webhook.async_register(
                        self.hass,
                        DOMAIN,
                        "Makerspace board",
                        webhook_id,
                        self._async_handle,
                        local_only=False,  # enforced per post, see webhooks
                        allowed_methods=ALL_METHODS,
                    )
                except ValueError:
                    LOGGER.error(
                        "Board URL %s is used by another integration",
                        mask_webhook_id(webhook_id),
                    )
                    continue
            elif known.entry_id != entry_id:
                continue  # another hub's: the first one keeps it
            self._routes[webhook_id] = route

    # --- machines --------------------------------------------------------------------

    @callback
    def async_machine_started(self, machine: Machine) -> None:
        """Take a machine just loaded; end its session if its board was told relay off."""
        self._running.async_started(machine)

    @callback
    def async_machines_stopping(self, machines: list[Machine]) -> None:
        """Forget machines that are unloaded: their next start hears of relay-offs."""
        self._running.async_stopping(machines)

    @staticmethod
    def _allows_internet(entry: ConfigEntry, hub: RunningHub | None) -> bool:
        if hub is not None:  # the options the running hub was set up with
            return hub.options.webhooks_allow_internet
        try:
            return HubOptions.from_options(entry.options).webhooks_allow_internet
        except InvalidConfigError:
            return False  # unreadable options: the safe default

    def _machine_named(self, entry: ConfigEntry, name: str) -> str | None:
        """Return `machine_named(entry, name)`, without a scan of the subentries per post."""
        names = self._names.get(entry.entry_id)
        if names is None or names[0] is not entry.subentries:
            names = self._names[entry.entry_id] = (entry.subentries, machine_names(entry))
        return names[1].get(name)

    # --- posts -----------------------------------------------------------------------

    async def _async_handle(
        self, hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        try:
            return await self._async_answer(hass, webhook_id, request)
        except Exception:  # noqa: BLE001 - a bug must still answer relay off
            # Home Assistant would log the full webhook id and answer an empty 200, on
            # which a board keeps a relay on: log it masked and answer relay off.
            LOGGER.exception("Error answering the board post to %s", mask_webhook_id(webhook_id))
            route = self._routes.get(webhook_id)
            if route is not None and route.machine is not None:
                self._running.async_told_relay_off(route.machine, REASON_NOT_RUNNING)
            return early_reply(HUB_FAILED)

    async def _async_answer(
        self, hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        route = self._routes.get(webhook_id)
        entry = None if route is None else hass.config_entries.async_get_entry(route.entry_id)
        if route is None or entry is None:  # unregistered while this post waited
            return early_reply(HUB_NOT_RUNNING)
        # Only a loaded hub runs machines; its runtime data is the running hub.
        hub = (
            cast("RunningHub", entry.runtime_data)
            if entry.state is ConfigEntryState.LOADED
            else None
        )
        where = "hub" if route.machine is None else "machine"
        if not self._allows_internet(entry, hub) and not from_local_network(hass, request):
            warn = webhook_id not in self._warned
            self._warned.add(webhook_id)
            return refuse_internet(where, webhook_id, request, warn)
        try:
            update = await async_read_update(request)
            if route.retired:
                return self._answer_retired(entry, route, update)
            subentry_id = route.machine
            if subentry_id is None:
                subentry_id = self._machine_named(entry, required_machine_name(update))
                if subentry_id is None:
                    return _answer_unknown_name(where)
            # The owner, not `hub.machines`: that one builds a dict of all machines.
            owner = hub.owners.get(subentry_id) if hub is not None else None
            machine = owner if isinstance(owner, Machine) else None
            if route.machine is not None:
                own = entry.subentries.get(subentry_id)
                name = machine.name if machine is not None else own and own.data.get(CONF_NAME)
                if update.machine_name is not None and update.machine_name != name:
                    # The machine was renamed, or its URL copied to another board: the
                    # board behind this URL is told relay off, so its session ends.
                    self._running.async_told_relay_off(subentry_id, REASON_WRONG_NAME)
                    return _answer_unknown_name(where)
        except BoardRequestError as err:
            return refuse(where, err)
        if machine is not None:
            return machine_reply(machine, update)
        self._running.async_told_relay_off(subentry_id, REASON_NOT_RUNNING)
        return early_reply(_NOT_RUNNING_SCREENS.get(entry.state, HUB_FAILED))

    def _answer_retired(
        self, entry: ConfigEntry, route: _Route, update: BoardUpdate
    ) -> web.Response:
        subentry_id = route.machine
        if subentry_id is None and update.machine_name is not None:
            subentry_id = machine_named(entry, update.machine_name)
        if subentry_id is not None and subentry_id in entry.subentries:
            self._running.async_told_relay_off(subentry_id, REASON_RETIRED_URL)
        return early_reply(NEW_URL_NEEDED)
