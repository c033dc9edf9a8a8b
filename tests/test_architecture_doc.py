"""The README's architecture section names every module of every wing, as it is.

Each wing's line in the diagram lists its pure modules after `pure:` and its glue
after `glue:`; both lists must be exactly the wing's modules, classified as
tests/test_layout.py classifies them (which the import graph checks). A module added,
split, renamed or removed without the README following fails here.
"""

from pathlib import Path
import re

import pytest

from .test_layout import ENGINE, GLUE, PACKAGE, PURE, WINGS

README = Path(__file__).parent.parent / "README.md"


def architecture_diagram() -> str:
    """Return the code block of the README's Architecture section."""
    section = README.read_text().split("## Architecture", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def documented(diagram: str, wing: str) -> dict[str, set[str]]:
    """Return the modules the diagram lists for `wing`, by "pure" and "glue"."""
    block = re.search(rf"^  {wing}/(.*?)(?=^  \S|\Z)", diagram, re.M | re.S)
    assert block is not None, f"the README's architecture diagram has no {wing}/"
    text = " ".join(block[1].split())
    found: dict[str, set[str]] = {"pure": set(), "glue": set()}
    for kind, names in re.findall(r"(pure|glue): (.*?)(?=(?:pure|glue):|$)", text):
        # Names are the words before any parenthesis: "detector (Obico's maths), ..."
        without_notes = re.sub(r"\([^)]*\)", "", names)
        found[kind] |= {n.strip() for n in without_notes.split(",") if n.strip()}
    return found


def modules_of(wing: str) -> set[str]:
    return {path.stem for path in (PACKAGE / wing).glob("*.py") if path.stem != "__init__"}


@pytest.mark.parametrize("wing", [*WINGS, ENGINE])
def test_the_diagram_lists_each_wings_modules_as_they_are(wing: str) -> None:
    listed = documented(architecture_diagram(), wing)
    assert listed["pure"] | listed["glue"] == modules_of(wing)
    assert {f"{wing}.{name}" for name in listed["pure"]} <= PURE
    assert {f"{wing}.{name}" for name in listed["glue"]} <= GLUE


def test_a_module_missing_from_the_diagram_is_found() -> None:
    diagram = "  printers/   pure: detector (maths), settings\n               glue: printer\n"
    listed = documented(diagram, "printers")
    assert listed == {"pure": {"detector", "settings"}, "glue": {"printer"}}
    assert listed["pure"] | listed["glue"] != modules_of("printers")
