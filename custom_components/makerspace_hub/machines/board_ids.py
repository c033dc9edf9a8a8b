"""A hub entry's board ids: which webhook ids are board URLs, which are retired (pure).

Every hub has one board URL and each machine its own (a webhook id in the entry or
subentry data). A URL that stops being one (a new URL was issued, its machine was
removed) is retired: it is kept in the hub entry's data, so it keeps answering relay
off ("New URL needed") and never judges a card again. `board_gate` registers both.
Read from anything shaped like a config entry (`Entry`), so it runs without Home
Assistant.
"""

from collections.abc import Mapping
from typing import Any, Protocol

from ..const import CONF_NAME, CONF_WEBHOOK_ID, SUBENTRY_MACHINE


class Subentry(Protocol):
    """What is read of a subentry."""

    @property
    def subentry_id(self) -> str:
        """Return its id."""

    @property
    def subentry_type(self) -> str:
        """Return its kind, e.g. "machine"."""

    @property
    def data(self) -> Mapping[str, Any]:
        """Return its stored data."""


class Entry(Protocol):
    """What is read of a hub entry."""

    @property
    def data(self) -> Mapping[str, Any]:
        """Return its stored data."""

    @property
    def subentries(self) -> Mapping[str, Subentry]:
        """Return its subentries by id."""


# Hub entry data: the retired board URLs, oldest first, as [webhook id, machine
# subentry id or None for the hub's URL]. Kept in the entry rather than in a Store of
# their own: the entry is saved in the same write as the change that retires an id
# (so no restart can come between "not a board URL any more" and "retired"), it goes
# away with the hub, and a backup carries it with the ids it guards.
CONF_RETIRED_WEBHOOK_IDS = "retired_webhook_ids"
# Past this many the oldest gets Home Assistant's empty 200 (boards treat it as no reply).
MAX_RETIRED_WEBHOOK_IDS = 50

type BoardIds = dict[str, str | None]  # webhook id -> machine subentry id (None: the hub's)


def board_ids(entry: Entry) -> BoardIds:
    """Return the entry's board URLs: webhook id -> machine subentry id (None: the hub's)."""
    ids: BoardIds = {}
    if isinstance(hub_id := entry.data.get(CONF_WEBHOOK_ID), str) and hub_id:
        ids[hub_id] = None
    for subentry in entry.subentries.values():
        webhook_id = subentry.data.get(CONF_WEBHOOK_ID)
        if (
            subentry.subentry_type == SUBENTRY_MACHINE
            and isinstance(webhook_id, str)
            and webhook_id
        ):
            ids.setdefault(webhook_id, subentry.subentry_id)
    return ids


def retired_ids(entry: Entry) -> BoardIds:
    """Return the entry's retired board URLs, oldest first (unreadable items skipped)."""
    raw = entry.data.get(CONF_RETIRED_WEBHOOK_IDS)
    retired: BoardIds = {}
    for item in raw if isinstance(raw, list) else []:
        if (
            isinstance(item, list | tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and (item[1] is None or isinstance(item[1], str))
        ):
            retired[item[0]] = item[1]
    return retired


def still_retired(entry: Entry, current: BoardIds, seen: BoardIds) -> BoardIds:
    """Return the retired URLs to keep: the stored ones and those `seen` that went away.

    `current` are the entry's board URLs now, `seen` those when last looked at. A URL
    that is a board URL again is no longer retired; past MAX_RETIRED_WEBHOOK_IDS the
    oldest go.
    """
    retired = retired_ids(entry)
    retired |= {
        webhook_id: machine
        for webhook_id, machine in seen.items()
        if webhook_id not in current and webhook_id not in retired
    }
    return dict(
        [
            (webhook_id, machine)
            for webhook_id, machine in retired.items()
            if webhook_id not in current
        ][-MAX_RETIRED_WEBHOOK_IDS:]
    )


def machine_names(entry: Entry) -> dict[str, str]:
    """Return the subentry id of each machine name (the first machine of a name)."""
    names: dict[str, str] = {}
    for subentry in entry.subentries.values():
        name = subentry.data.get(CONF_NAME)
        if subentry.subentry_type == SUBENTRY_MACHINE and isinstance(name, str):
            names.setdefault(name, subentry.subentry_id)
    return names


def machine_named(entry: Entry, name: str) -> str | None:
    """Return the subentry id of the entry's machine with this name (None: none)."""
    return next(
        (
            subentry.subentry_id
            for subentry in entry.subentries.values()
            if subentry.subentry_type == SUBENTRY_MACHINE and subentry.data.get(CONF_NAME) == name
        ),
        None,
    )
