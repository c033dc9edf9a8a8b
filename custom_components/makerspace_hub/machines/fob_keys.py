"""Keyed stand-ins for fob codes: the card digest that is saved, the tag that is shown.

Pure Python. A fob code is a short number (26-bit Wiegand tags are a facility code
plus 16 bits): a plain hash of it is reversed by trying every code, and even its last
digits narrow a member's fob down to a handful. Both stand-ins are HMAC-SHA256 with a
per-installation secret (kept in Home Assistant's `.storage`, see `installation`), so
neither reveals a digit without that secret:

- `digest`: the full HMAC, saved with a machine's state so that the card in the reader
  is recognised after a restart;
- `tag`: `fob-` and 8 hex digits of a second, separate HMAC, shown in states, events,
  diagnostics and logs, the same for the same card, so that admins can still tell
  "the same unknown card again".
"""

from dataclasses import dataclass, field
import hashlib
import hmac
import re

TAG_HEX_DIGITS = 8
SECRET_BYTES = 32
# Digests kept in memory (never saved): a card stays in a reader for many posts, and
# each post compares its digest with the saved one.
DIGESTS_KEPT = 256
_DIGEST_RE = re.compile(r"[0-9a-f]{64}")
_TAG_RE = re.compile(rf"fob-[0-9a-f]{{{TAG_HEX_DIGITS}}}")


def is_digest(value: object) -> bool:
    """Return True for a value shaped like a card digest."""
    return isinstance(value, str) and _DIGEST_RE.fullmatch(value) is not None


def is_tag(value: object) -> bool:
    """Return True for a value shaped like a fob tag."""
    return isinstance(value, str) and _TAG_RE.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class FobKeys:
    """The installation's keyed digests of fob codes."""

    secret: bytes = field(repr=False)
    _digests: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Refuse a secret too short to key anything."""
        if len(self.secret) < 16:
            raise ValueError("the fob secret must have at least 16 bytes")

    def _mac(self, purpose: bytes, fob: str) -> str:
        return hmac.new(self.secret, purpose + b"\0" + fob.encode(), hashlib.sha256).hexdigest()

    def digest(self, fob: str) -> str:
        """Return the digest that recognises the card with this code."""
        digests = self._digests
        if (known := digests.get(fob)) is None:
            if len(digests) >= DIGESTS_KEPT:
                digests.clear()
            known = digests[fob] = self._mac(b"card", fob)
        return known

    def tag(self, fob: str) -> str:
        """Return the tag that names the card with this code wherever it is shown."""
        return "fob-" + self._mac(b"tag", fob)[:TAG_HEX_DIGITS]
