"""The shared validators (`validation`) that settings and state files read through."""

import math
from typing import Any

import pytest

from custom_components.makerspace_hub.validation import (
    InvalidConfigError,
    read_bool,
    read_float,
    read_mapping,
    read_optional_float,
    read_optional_str,
    read_optional_text,
    read_str_list,
    read_text,
)


def test_text_is_exact_but_settings_strings_are_stripped() -> None:
    data = {"name": "  Ada ", "blank": "  "}
    assert read_text(data, "name") == "  Ada "
    assert read_optional_text(data, "blank") == "  "
    assert read_optional_text(data, "missing") is None
    # Settings: a blank option is no option.
    assert read_optional_str(data, "name") == "Ada"
    assert read_optional_str(data, "blank") is None


@pytest.mark.parametrize(("value", "number"), [(3, 3.0), (-2.5, -2.5), (0, 0.0), (None, None)])
def test_numbers_are_floats(value: Any, number: float | None) -> None:
    assert read_optional_float({"n": value}, "n") == number


@pytest.mark.parametrize("value", [True, "1", [1], math.nan, -math.inf, 10**400])
def test_what_is_no_number(value: Any) -> None:
    with pytest.raises(InvalidConfigError) as err:
        read_optional_float({"n": value}, "n")
    assert (err.value.key, err.value.field, str(err.value)) == (
        "invalid_value",
        "n",
        "n must be a number",
    )


def test_required_values_say_they_are_missing() -> None:
    for read in (read_text, read_float):
        with pytest.raises(InvalidConfigError, match=r"^n is missing$"):
            read({"n": None}, "n")
        with pytest.raises(InvalidConfigError, match=r"^n is missing$"):
            read({}, "n")


def test_objects_take_the_default_only_when_missing() -> None:
    assert read_mapping({}, "o", {"a": 1}) == {"a": 1}
    assert read_mapping({"o": {"b": 2}}, "o", {}) == {"b": 2}
    for value in (None, [], "x"):
        with pytest.raises(InvalidConfigError, match=r"^o must be an object$"):
            read_mapping({"o": value}, "o", {})


@pytest.mark.parametrize(
    ("read", "value", "message"),
    [
        (lambda d: read_bool(d, "k", False), 1, "k must be true or false"),
        (lambda d: read_optional_str(d, "k"), 1, "k must be text"),
        (lambda d: read_str_list(d, "k"), "a", "k must be a list of text"),
    ],
)
def test_errors_keep_their_translation_key_and_field(read: Any, value: Any, message: str) -> None:
    with pytest.raises(InvalidConfigError) as err:
        read({"k": value})
    assert (err.value.key, err.value.field, str(err.value)) == ("invalid_value", "k", message)


def test_an_error_without_a_problem_text_names_its_key() -> None:
    err = InvalidConfigError("invalid_url", "ml_api_url", {"url": "x"})
    assert (err.key, err.field, err.placeholders) == ("invalid_url", "ml_api_url", {"url": "x"})
    assert "invalid_url" in str(err)
    assert "ml_api_url" in str(err)
