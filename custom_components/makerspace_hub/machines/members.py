"""Members and their fobs: the dm_mac `users.json` (users-file spec).

Pure Python. `parse_members` validates a whole file and either returns `Members`
or raises `MembersFileError` naming the entry at fault (its account id, never a digit
of a fob code: the problem lands in logs and repair issues); a file that fails never
replaces the members already loaded (that is the caller's rule to keep).
Fob codes are credentials: they never leave here (states, events and logs show a
keyed tag, see `fob_keys`), and errors name the entry, never any digit of a code.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
import json
import re
from typing import Any

_FOB_RE = re.compile(r"[0-9]{10}")  # boards send ASCII digits only
_REQUIRED_STR = ("account_id", "full_name", "first_name", "last_name", "preferred_name", "email")
FOB_LENGTH = 10


class MembersFileError(ValueError):
    """The members file is not valid; `entry` names the entry at fault."""

    def __init__(self, problem: str, entry: str = "") -> None:
        """Describe the problem (English, technical) and the entry."""
        super().__init__(f"{entry}: {problem}" if entry else problem)
        self.problem = problem
        self.entry = entry


def normalize_fob(rfid_value: str) -> str:
    """Left-pad a board's tag number to 10 characters (ESPHome strips leading zeros)."""
    return rfid_value.rjust(FOB_LENGTH, "0")


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """One member of the makerspace."""

    account_id: str
    full_name: str
    first_name: str
    last_name: str
    preferred_name: str
    email: str
    expiration: date
    authorizations: frozenset[str]
    fob_codes: tuple[str, ...]
    oops_override: bool = False

    def is_expired(self, today: date, grace_days: int) -> bool:
        """Return True once the membership ended more than `grace_days` ago."""
        return self.expiration < today - timedelta(days=grace_days)

    def holds_any(self, authorizations: tuple[str, ...]) -> bool:
        """Return True when the member holds one of `authorizations` (exact names)."""
        return any(name in self.authorizations for name in authorizations)


@dataclass(frozen=True, slots=True)
class Members:
    """All members, by fob code and by account id."""

    by_fob: Mapping[str, Member]
    by_account: Mapping[str, Member]

    @classmethod
    def empty(cls) -> "Members":
        """Return no members at all."""
        return cls({}, {})

    def __len__(self) -> int:
        """Return the number of members."""
        return len(self.by_account)

    @property
    def fob_count(self) -> int:
        """Return the number of fob codes."""
        return len(self.by_fob)

    def authorizations(self) -> list[str]:
        """Return every authorization name any member holds, sorted."""
        return sorted({a for member in self.by_account.values() for a in member.authorizations})

    def diff(self, newer: "Members") -> dict[str, int]:
        """Count the members removed, updated and added by `newer`."""
        old, new = self.by_account, newer.by_account
        return {
            "removed": sum(account not in new for account in old),
            "updated": sum(account in old and old[account] != new[account] for account in new),
            "added": sum(account not in old for account in new),
        }


def _entry_label(index: int, raw: Any) -> str:
    account = raw.get("account_id") if isinstance(raw, dict) else None
    label = f"entry {index + 1}"
    return f"{label} (account {account})" if isinstance(account, str) and account else label


def _member(raw: Any) -> Member:
    if not isinstance(raw, dict):
        raise MembersFileError("is not a JSON object")
    for key in _REQUIRED_STR:
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise MembersFileError(f"{key} must be a non-empty string")
    fobs = raw.get("fob_codes")
    if not isinstance(fobs, list) or not all(isinstance(fob, str) for fob in fobs):
        raise MembersFileError("fob_codes must be a list of strings")
    for fob in fobs:
        if not fob:
            raise MembersFileError("a fob code is empty")
        if not _FOB_RE.fullmatch(fob):
            raise MembersFileError("a fob code is not a 10-digit zero-padded code")
    authorizations = raw.get("authorizations")
    if not isinstance(authorizations, list) or not all(isinstance(a, str) for a in authorizations):
        raise MembersFileError("authorizations must be a list of strings")
    try:
        expiration = date.fromisoformat(raw.get("expiration_ymd", ""))
    except (TypeError, ValueError) as err:
        raise MembersFileError("expiration_ymd must be a date as YYYY-MM-DD") from err
    override = raw.get("oops_override", False)
    if not isinstance(override, bool):
        raise MembersFileError("oops_override must be true or false")
    return Member(
        account_id=raw["account_id"],
        full_name=raw["full_name"],
        first_name=raw["first_name"],
        last_name=raw["last_name"],
        preferred_name=raw["preferred_name"],
        email=raw["email"],
        expiration=expiration,
        authorizations=frozenset(authorizations),
        fob_codes=tuple(fobs),
        oops_override=override,
    )


def parse_members(raw: bytes) -> Members:
    """Validate a whole members file; raise MembersFileError naming the entry."""
    try:
        document = json.loads(raw)
    except ValueError as err:
        raise MembersFileError(f"not valid JSON ({err})") from err
    except RecursionError as err:
        raise MembersFileError("not valid JSON (nested too deeply)") from err
    if not isinstance(document, list):
        raise MembersFileError("the file must be a JSON array of members")
    by_fob: dict[str, Member] = {}
    by_account: dict[str, Member] = {}
    for index, raw_member in enumerate(document):
        label = _entry_label(index, raw_member)
        try:
            member = _member(raw_member)
        except MembersFileError as err:
            raise MembersFileError(err.problem, label) from err
        if member.account_id in by_account:
            raise MembersFileError("account_id appears twice", label)
        for fob in member.fob_codes:
            if (holder := by_fob.get(fob)) is not None and holder is not member:
                raise MembersFileError(
                    f"a fob code also belongs to account {holder.account_id}", label
                )
            by_fob[fob] = member
        by_account[member.account_id] = member
    return Members(by_fob, by_account)
