"""Members and their fobs (`members`): what the parsed file answers, without hass.

Parsing and rejecting whole files is tested in test_members_file.py and
test_members_hostile.py; here are the questions the rules ask of the result.
"""

from datetime import date
import json
from typing import Any

import pytest

from custom_components.makerspace_hub.machines.members import (
    Members,
    normalize_fob,
    parse_members,
)

from ..makerspace import member

TODAY = date(2026, 11, 22)


def parse(*entries: dict[str, Any]) -> Members:
    return parse_members(json.dumps(list(entries)).encode())


@pytest.mark.parametrize(
    ("rfid", "fob"), [("12345678", "0012345678"), ("1", "0000000001"), ("0012345678", "0012345678")]
)
def test_a_board_tag_is_padded_to_ten_digits(rfid: str, fob: str) -> None:
    assert normalize_fob(rfid) == fob


def test_members_are_found_by_fob_and_by_account() -> None:
    ada = member("ada", "Ada", ["0000000001", "0000000002"], ["Metal Mill"])
    parsed = parse(ada, member("bob", "Bob", ["0000000003"], []))
    assert len(parsed) == 2
    assert parsed.fob_count == 3
    assert parsed.by_fob["0000000002"] is parsed.by_account["ada"]
    assert parsed.by_account["ada"].fob_codes == ("0000000001", "0000000002")
    assert "0000000004" not in parsed.by_fob
    assert len(Members.empty()) == 0
    assert Members.empty().fob_count == 0


@pytest.mark.parametrize(
    ("expiration", "grace", "expired"),
    [
        ("2026-11-22", 0, False),  # the last day still counts
        ("2026-11-21", 0, True),
        ("2026-11-15", 7, False),  # the grace days count as well
        ("2026-11-14", 7, True),
    ],
)
def test_a_membership_expires_after_its_day_and_the_grace(
    expiration: str, grace: int, expired: bool
) -> None:
    entry = member("ada", "Ada", ["0000000001"], [], expires=expiration)
    assert parse(entry).by_account["ada"].is_expired(TODAY, grace) is expired


def test_authorizations_are_held_by_exact_name() -> None:
    ada = parse(member("ada", "Ada", ["0000000001"], ["Metal Mill"])).by_account["ada"]
    assert ada.holds_any(("Band Saw", "Metal Mill"))
    assert not ada.holds_any(("metal mill", "Metal Mill ", "Metal"))
    assert not ada.holds_any(())


def test_all_authorizations_are_listed_once_sorted() -> None:
    parsed = parse(
        member("ada", "Ada", ["0000000001"], ["Metal Mill", "Band Saw"]),
        member("bob", "Bob", ["0000000002"], ["Band Saw", "Laser"]),
    )
    assert parsed.authorizations() == ["Band Saw", "Laser", "Metal Mill"]


def test_a_reload_counts_removed_updated_and_added_members() -> None:
    before = parse(
        member("ada", "Ada", ["0000000001"], ["Metal Mill"]),
        member("bob", "Bob", ["0000000002"], []),
        member("cy", "Cy", ["0000000003"], []),
    )
    after = parse(
        member("ada", "Ada", ["0000000001"], ["Metal Mill", "Laser"]),  # updated
        member("bob", "Bob", ["0000000002"], []),  # the same
        member("dee", "Dee", ["0000000004"], []),  # added; cy removed
    )
    assert before.diff(after) == {"removed": 1, "updated": 1, "added": 1}
    assert after.diff(after) == {"removed": 0, "updated": 0, "added": 0}
