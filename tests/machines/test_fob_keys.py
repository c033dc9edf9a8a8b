"""Keyed stand-ins for fob codes (`fob_keys`), without Home Assistant."""

import pytest

from custom_components.makerspace_hub.machines.fob_keys import (
    TAG_HEX_DIGITS,
    FobKeys,
    is_digest,
    is_tag,
)

KEYS = FobKeys(b"a" * 32)
OTHER = FobKeys(b"b" * 32)
FOB = "0012345678"


def test_digest_and_tag_are_stable_and_shaped() -> None:
    assert KEYS.digest(FOB) == FobKeys(b"a" * 32).digest(FOB)
    assert KEYS.tag(FOB) == FobKeys(b"a" * 32).tag(FOB)
    assert is_digest(KEYS.digest(FOB))
    assert is_tag(KEYS.tag(FOB))
    assert len(KEYS.tag(FOB)) == len("fob-") + TAG_HEX_DIGITS


def test_other_cards_and_other_installations_differ() -> None:
    assert KEYS.digest(FOB) != KEYS.digest("0012345679")
    assert KEYS.tag(FOB) != KEYS.tag("0012345679")
    assert KEYS.digest(FOB) != OTHER.digest(FOB)
    assert KEYS.tag(FOB) != OTHER.tag(FOB)


def test_the_tag_is_not_a_piece_of_the_digest() -> None:
    # Two separate HMACs: what is shown tells nothing about what is saved.
    assert KEYS.tag(FOB).removeprefix("fob-") not in KEYS.digest(FOB)


def test_no_stand_in_shows_digits_of_the_code() -> None:
    fob = "0099999999"
    assert "9999" not in KEYS.digest(fob)
    assert "9999" not in KEYS.tag(fob)


def test_the_secret_is_never_in_the_repr() -> None:
    assert "aaaa" not in repr(KEYS)


@pytest.mark.parametrize("secret", [b"", b"x" * 15])
def test_a_short_secret_is_refused(secret: bytes) -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        FobKeys(secret)


@pytest.mark.parametrize(
    "value",
    [
        None,
        5,
        "",
        "5678",
        "A" * 64,
        "0" * 63,
        "0" * 65,
        "fob-1234567",
        "fob-123456789",
        "FOB-12345678",
    ],
)
def test_shapes_that_are_neither_digest_nor_tag(value: object) -> None:
    assert not is_digest(value)
    assert not is_tag(value)
