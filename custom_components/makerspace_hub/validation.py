"""Reading stored dicts: the one set of validators of settings and state files.

Pure Python (no Home Assistant imports). Invalid values raise `InvalidConfigError`,
whose `key` is a translation key and whose `field` names the offending form field.
"""

from collections.abc import Mapping, Sequence
from datetime import time
import math
from pathlib import PurePath
import re
from typing import Any

from .const import (
    CONF_NAME,
    SLUG_NAME_PATTERN,
)

_NAME_RE = re.compile(SLUG_NAME_PATTERN)


class InvalidConfigError(ValueError):
    """A configuration value is invalid.

    `key` is the translation key of the error, `field` the form field it belongs
    to ("base" for the whole form) and `placeholders` fill the translated text.
    `problem` says in English what is wrong with the field ("must be a number"): the
    message of a state file that cannot be used, which a repair issue shows.
    """

    def __init__(
        self,
        key: str,
        field: str = "base",
        placeholders: Mapping[str, str] | None = None,
        *,
        problem: str | None = None,
    ) -> None:
        """Describe the problem."""
        super().__init__(f"{field} {problem}" if problem else f"{key} ({field}): {placeholders}")
        self.key = key
        self.field = field
        self.placeholders = dict(placeholders or {})


def _invalid(key: str, problem: str) -> InvalidConfigError:
    return InvalidConfigError("invalid_value", key, problem=problem)


def read_bool(data: Mapping[str, Any], key: str, default: bool) -> bool:
    """Return the bool stored at `key` (or `default`)."""
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise _invalid(key, "must be true or false")
    return value


def read_int(data: Mapping[str, Any], key: str, default: int, minimum: int) -> int:
    """Return the whole number at `key` (or `default`), at least `minimum`."""
    value = data.get(key, default)
    # Number selectors hand over floats; accept them only when they are whole (NaN
    # and the infinities are not).
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or value < minimum:
        raise _invalid(key, f"must be a whole number of at least {minimum}")
    return int(value)


def read_optional_text(data: Mapping[str, Any], key: str) -> str | None:
    """Return the text at `key` exactly as stored, None when missing."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _invalid(key, "must be text")
    return value


def read_text(data: Mapping[str, Any], key: str) -> str:
    """Return the text at `key` exactly as stored; it must be there."""
    if (value := read_optional_text(data, key)) is None:
        raise _invalid(key, "is missing")
    return value


def read_optional_str(data: Mapping[str, Any], key: str) -> str | None:
    """Return the stripped text at `key`, None when missing or blank."""
    value = read_optional_text(data, key)
    if value is None:
        return None
    return value.strip() or None


def read_str_list(
    data: Mapping[str, Any], key: str, default: Sequence[str] = ()
) -> tuple[str, ...]:
    """Return the list of texts at `key` (or `default`)."""
    value = data.get(key, list(default))
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise _invalid(key, "must be a list of text")
    return tuple(value)


def read_optional_float(data: Mapping[str, Any], key: str) -> float | None:
    """Return the finite number at `key` as a float, None when missing.

    true/false is no number, and neither are NaN and the infinities (Python's JSON
    reader accepts them): compared with anything, NaN answers "no" both ways.
    """
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(key, "must be a number")
    try:
        number = float(value)
    except OverflowError as err:  # a JSON integer too large for a float
        raise _invalid(key, "must be a number") from err
    if not math.isfinite(number):
        raise _invalid(key, "must be a number")
    return number


def read_float(data: Mapping[str, Any], key: str) -> float:
    """Return the number at `key` as a float; it must be there."""
    if (value := read_optional_float(data, key)) is None:
        raise _invalid(key, "is missing")
    return value


def read_mapping(
    data: Mapping[str, Any], key: str, default: Mapping[str, Any]
) -> Mapping[str, Any]:
    """Return the object at `key` (or `default` when missing)."""
    value = data.get(key, default)
    if not isinstance(value, Mapping):
        raise _invalid(key, "must be an object")
    return value


def read_required_str(data: Mapping[str, Any], key: str, problem: str) -> str:
    """Return the text at `key`; a missing one is the `problem`."""
    value = read_optional_str(data, key)
    if value is None:
        raise InvalidConfigError(problem, key)
    return value


def parse_time(value: Any, key: str) -> time:
    """Parse `HH:MM:SS` (or `HH:MM`) as stored by the time selector.

    `24:00` is refused: Python 3.14 reads it as midnight, 3.13 refuses it, and a
    stored value must mean the same on every supported Home Assistant.
    """
    if not isinstance(value, str) or value.startswith("24"):
        raise InvalidConfigError("invalid_time", key)
    try:
        return time.fromisoformat(value)
    except ValueError as err:
        raise InvalidConfigError("invalid_time", key) from err


def validate_slug_name(value: Any, key: str = CONF_NAME) -> str:
    """Return a valid name for a machine or recording sensor.

    A machine's name is its board's ESPHome device name, a recording sensor's name
    is its folder under the recordings directory: `^[a-z0-9_-]+$` for both.
    """
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise InvalidConfigError("invalid_name", key)
    return value


def resolve_config_path(value: str, config_dir: str) -> str:
    """Resolve a path option: absolute as given, relative to the config directory."""
    path = PurePath(value)
    return str(path if path.is_absolute() else PurePath(config_dir, path))
