"""What an alert says, before it is put into a language (pure).

A wing builds its alerts' titles, messages and notification buttons from `Phrase`s:
a key of the `exceptions` section of translations/<language>.json and the values of
its placeholders (names, counts, percentages). The `AlertSender` (`alerts`) renders
them in Home Assistant's language, English where that language has no text. A message
may be several phrases, each a whole sentence, joined with spaces: a sentence is
translated as a whole, never stitched from fragments.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Phrase:
    """A text to translate: its key under `exceptions`, and its placeholders."""

    key: str
    placeholders: Mapping[str, str] = field(default_factory=dict)


def phrase(key: str, **placeholders: object) -> Phrase:
    """Return the phrase `key` with its placeholders' values as text."""
    return Phrase(key, {name: str(value) for name, value in placeholders.items()})


# A message: one phrase, or whole sentences to join.
Message = Phrase | Sequence[Phrase]


@dataclass(frozen=True, slots=True)
class Button:
    """A notification button: the id its press sends back, and its title."""

    action: str
    title: Phrase


def sentences(message: Message) -> list[Phrase]:
    """Return the phrases of a message, in order."""
    return [message] if isinstance(message, Phrase) else list(message)


def fill(template: str, placeholders: Mapping[str, str]) -> str:
    """Put the placeholders' values into `template` (`{name}` fields).

    A value is never parsed itself: a member named `{x}` stays `{x}`. A template that
    asks for a placeholder the phrase lacks, or is malformed, says which one is
    missing instead of raising: an alert goes out in any case.
    """
    try:
        return template.format_map(placeholders)
    except (KeyError, IndexError, ValueError, AttributeError) as err:
        return f"{template} ({type(err).__name__}: {err})"
