"""A hub entry's board ids and retired ids (pure: entries shaped like config entries)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from custom_components.makerspace_hub.machines.board_ids import (
    CONF_RETIRED_WEBHOOK_IDS,
    MAX_RETIRED_WEBHOOK_IDS,
    board_ids,
    machine_named,
    retired_ids,
    still_retired,
)


@dataclass(frozen=True)
class Sub:
    subentry_id: str
    subentry_type: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Hub:
    data: Mapping[str, Any]
    subentries: Mapping[str, Sub] = field(default_factory=dict)


def hub(*subs: Sub, **data: Any) -> Hub:
    return Hub({"webhook_id": "hub-id", **data}, {s.subentry_id: s for s in subs})


MILL = Sub("s1", "machine", {"name": "mill", "webhook_id": "mill-id"})
SAW = Sub("s2", "machine", {"name": "saw", "webhook_id": "saw-id"})
PRINTER = Sub("s3", "printer", {"name": "mill", "webhook_id": "printer-id"})


def test_board_ids_are_the_hubs_and_each_machines() -> None:
    assert board_ids(hub(MILL, SAW, PRINTER)) == {"hub-id": None, "mill-id": "s1", "saw-id": "s2"}


def test_an_id_used_twice_stays_the_first_owners() -> None:
    copy = Sub("s4", "machine", {"name": "copy", "webhook_id": "mill-id"})
    assert board_ids(hub(MILL, copy))["mill-id"] == "s1"
    assert board_ids(
        Hub({"webhook_id": "hub-id"}, {"s5": Sub("s5", "machine", {"webhook_id": "hub-id"})})
    ) == {"hub-id": None}


def test_blank_and_unreadable_ids_are_no_board_ids() -> None:
    odd = Sub("s6", "machine", {"name": "odd", "webhook_id": 7})
    blank = Sub("s7", "machine", {"name": "blank", "webhook_id": ""})
    assert board_ids(Hub({"webhook_id": None}, {"s6": odd, "s7": blank})) == {}


def test_retired_ids_skip_unreadable_items_and_keep_their_order() -> None:
    stored = [["old-1", None], ["old-2", "s1"], ["bad"], [3, None], ["old-3", 4], "x"]
    assert retired_ids(hub(**{CONF_RETIRED_WEBHOOK_IDS: stored})) == {"old-1": None, "old-2": "s1"}
    assert retired_ids(hub(**{CONF_RETIRED_WEBHOOK_IDS: "nonsense"})) == {}


def test_an_id_that_goes_away_is_retired_and_one_that_comes_back_is_not() -> None:
    before = hub(MILL, SAW)
    seen = board_ids(before)
    new_mill = Sub("s1", "machine", {"name": "mill", "webhook_id": "mill-id-2"})
    after = hub(new_mill, **{CONF_RETIRED_WEBHOOK_IDS: [["older", None]]})
    assert still_retired(after, board_ids(after), seen) == {
        "older": None,
        "mill-id": "s1",
        "saw-id": "s2",
    }
    back = hub(MILL, **{CONF_RETIRED_WEBHOOK_IDS: [["mill-id", "s1"]]})
    assert still_retired(back, board_ids(back), {}) == {}


def test_only_the_newest_retired_ids_are_kept() -> None:
    many = [[f"id-{n}", None] for n in range(MAX_RETIRED_WEBHOOK_IDS + 5)]
    kept = still_retired(hub(**{CONF_RETIRED_WEBHOOK_IDS: many}), {"hub-id": None}, {})
    assert len(kept) == MAX_RETIRED_WEBHOOK_IDS
    assert next(iter(kept)) == "id-5"


def test_machine_named_finds_machines_only() -> None:
    entry = hub(MILL, SAW, PRINTER)
    assert machine_named(entry, "saw") == "s2"
    assert machine_named(entry, "mill") == "s1"  # not the printer of the same name
    assert machine_named(entry, "lathe") is None
