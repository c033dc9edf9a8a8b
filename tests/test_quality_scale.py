"""quality_scale.yaml tells the truth: every rule once, reasons where not done, checks.

The rules are Home Assistant's Integration Quality Scale (developers.home-assistant.io,
"Integration quality scale > Rules"), listed here by tier. A claim that code can
check is checked: a rule marked done whose check fails, or one marked todo whose check
passes, fails this test, so the file moves with the code.
"""

import ast
import json
from pathlib import Path
import re
from typing import Any

import pytest
import yaml

PACKAGE = Path(__file__).parent.parent / "custom_components" / "makerspace_hub"
README = (Path(__file__).parent.parent / "README.md").read_text()
RULES = {
    "bronze": [
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow-test-coverage",
        "config-flow",
        "dependency-transparency",
        "docs-actions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ],
    "gold": [
        "devices",
        "diagnostics",
        "discovery-update-info",
        "discovery",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}
PLATFORMS = ["binary_sensor", "button", "event", "image", "lock", "sensor", "switch"]


def _statuses() -> dict[str, tuple[str, str | None]]:
    document = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text())
    found: dict[str, tuple[str, str | None]] = {}
    for rule, value in document["rules"].items():
        if isinstance(value, str):
            found[rule] = (value, None)
        else:
            found[rule] = (value["status"], value.get("comment"))
    return found


def _translations() -> dict[str, Any]:
    result: dict[str, Any] = json.loads((PACKAGE / "translations" / "en.json").read_text())
    return result


def missing_data_descriptions() -> list[str]:
    """Return every form field of every flow step without a data_description."""
    translations = _translations()
    steps: list[tuple[str, dict[str, Any]]] = []
    for section in ("config", "options"):
        steps += [(f"{section}.{k}", v) for k, v in translations[section]["step"].items()]
    for kind, flow in translations["config_subentries"].items():
        steps += [(f"{kind}.{k}", v) for k, v in flow["step"].items()]
    return [
        f"{where}.{field}"
        for where, step in steps
        for field in step.get("data", {})
        if field not in step.get("data_description", {})
    ]


def _platform_modules() -> list[Path]:
    return [PACKAGE / f"{name}.py" for name in PLATFORMS if (PACKAGE / f"{name}.py").exists()]


def _defines(path: Path, name: str) -> bool:
    tree = ast.parse(path.read_text())
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        for node in tree.body
    )


# What code can tell about a rule: True when the rule's claim holds.
CHECKS = {
    "config-flow": lambda: not missing_data_descriptions(),
    "docs-removal-instructions": lambda: "### Remove" in README,
    "docs-known-limitations": lambda: "## Known limitations" in README,
    "docs-troubleshooting": lambda: "## Troubleshooting" in README,
    "brands": lambda: (
        (PACKAGE / "brand" / "icon.png").exists() and (PACKAGE / "brand" / "logo.png").exists()
    ),
    "diagnostics": (PACKAGE / "diagnostics.py").exists,
    "exception-translations": lambda: bool(_translations().get("exceptions")),
    "repair-issues": lambda: bool(_translations().get("issues")),
    "icon-translations": (PACKAGE / "icons.json").exists,
    "parallel-updates": lambda: all(_defines(p, "PARALLEL_UPDATES") for p in _platform_modules()),
    "has-entity-name": lambda: (
        "_attr_has_entity_name = True" in (PACKAGE / "entity.py").read_text()
    ),
    "runtime-data": lambda: "entry.runtime_data = " in (PACKAGE / "__init__.py").read_text(),
    "reconfiguration-flow": lambda: (
        "async_step_reconfigure" in (PACKAGE / "config_flow.py").read_text()
    ),
    "action-setup": lambda: (
        "async_setup_services(hass)"
        in (PACKAGE / "__init__.py").read_text().split("async def async_setup_entry")[0]
    ),
    "test-coverage": lambda: (
        int(
            re.search(
                r"fail_under = (\d+)", (PACKAGE.parent.parent / "pyproject.toml").read_text()
            )[1]  # type: ignore[index]
        )
        >= 95
    ),
    "strict-typing": lambda: (
        "mypy --strict" in (PACKAGE.parent.parent / "scripts" / "test").read_text()
    ),
    "entity-category": lambda: "EntityCategory.DIAGNOSTIC" in (PACKAGE / "sensor.py").read_text(),
    "entity-disabled-by-default": lambda: (
        "entity_registry_enabled_default=False" in (PACKAGE / "sensor.py").read_text()
    ),
    "integration-owner": lambda: bool(
        json.loads((PACKAGE / "manifest.json").read_text())["codeowners"]
    ),
}


def test_every_rule_is_listed_once_with_a_status() -> None:
    statuses = _statuses()
    every = [rule for tier in RULES.values() for rule in tier]
    assert sorted(statuses) == sorted(every)
    assert {status for status, _ in statuses.values()} <= {"done", "todo", "exempt"}


def test_a_rule_not_done_says_why() -> None:
    for rule, (status, comment) in _statuses().items():
        if status != "done":
            assert comment, f"{rule} is {status}: say why"


@pytest.mark.parametrize("rule", sorted(CHECKS))
def test_what_code_can_check_matches_the_status(rule: str) -> None:
    status, _ = _statuses()[rule]
    holds = CHECKS[rule]()
    if status == "done":
        assert holds, f"{rule} is marked done but its check fails"
    elif status == "todo":
        assert not holds, f"{rule} is marked todo but its check passes: mark it done"


def test_the_fields_without_a_data_description() -> None:
    """The list the config-flow rule's comment refers to (empty once it is done)."""
    missing = missing_data_descriptions()
    assert (_statuses()["config-flow"][0] == "done") == (not missing), missing
