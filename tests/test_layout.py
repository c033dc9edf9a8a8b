"""The layout of the package, read from its source with `ast` (no Home Assistant).

The import graph of custom_components/makerspace_hub has no cycle; the pure modules
import nothing of Home Assistant, not even through another module of the package; a
wing imports only itself, the storage engine and the shared top-level modules; and
no module is longer than a reader takes in one sitting. Every import counts, also
one under `if TYPE_CHECKING:` or inside a function: a deferred import is still a
dependency. Each check is also run on a tiny package written to tmp_path that breaks
it, so a check that can never fail would show.
"""

import ast
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "custom_components" / "makerspace_hub"
ABSOLUTE_PREFIX = "custom_components.makerspace_hub"
ROOT = "__init__"  # how the package's own __init__.py is named below
MAX_LINES = 400

# The modules the issue and STYLE.md call pure: inputs in, decisions out, unit-tested
# without `hass`. Named one by one (not "everything but the glue") so that a module
# that moves or is split fails `test_every_listed_module_exists` instead of silently
# dropping out of the check. A wing's package __init__ is pure too: importing any of
# its modules runs it.
PURE = {
    "const",
    "alert_words",
    "validation",
    "hub_options",
    "machines",
    "machines.rules",
    "machines.record",
    "machines.sessions",
    "machines.reboots",
    "machines.board_ids",
    "machines.session_limits",
    "machines.service",
    "machines.alert_texts",
    "machines.state_file",
    "machines.board_protocol",
    "machines.members",
    "machines.fob_keys",
    "machines.dm_mac_import",
    "machines.settings",
    "machines.enrollment",
    "machines.usage",
    "machines.usage_db",
    "printers",
    "printers.detector",
    "printers.print_watch",
    "printers.ml_api",
    "printers.settings",
    "printers.health",
    "printers.print_alerts",
    "printers.boxes",
    "printers.printer_devices",
    "recording",
    "recording.schedule",
    "recording.log",
    "recording.settings",
    "recording.retention",
    "storage",
    "storage.state_files",
}
# The Home Assistant glue inside the wings and the storage engine. Every module of a
# wing is either pure or glue (`test_every_wing_module_is_classified`): a module split
# out of a pure one has to be named here or above, and so gets checked.
GLUE = {
    "machines.machine",
    "machines.board_gate",
    "machines.board_urls",
    "machines.running_machines",
    "machines.members_file",
    "machines.webhooks",
    "machines.authority",
    "machines.installation",
    "machines.flow",
    "machines.usage_log",
    "machines.usage_report",
    "printers.ml_service",
    "printers.frames",
    "printers.printer",
    "printers.printer_controls",
    "printers.flow",
    "printers.poller",
    "printers.pictures",
    "printers.picture_files",
    "recording.recording_sensor",
    "recording.flow",
    "recording.recordings_disk",
    "recording.sun",
    "storage.owner_store",
    "storage.hub_storage",
}
WINGS = ("machines", "printers", "recording")
ENGINE = "storage"
# Top-level modules a wing (and the storage engine) may import. `owner` (the Owner
# protocol) came with issue 14: it only names what the fixed files read of a wing.
SHARED = {
    "const",
    "validation",
    "hub_options",
    "alerts",
    "alert_words",
    "listeners",
    "issues",
    "subentry_flow",
    "owner",
}
# Home Assistant's fixed files and the running hub: they read the wings, never the
# other way round.
PLATFORMS = {"binary_sensor", "button", "event", "image", "lock", "sensor", "switch"}
FIXED = {
    ROOT,
    "hub",
    "services",
    "targets",
    "diagnostics",
    "config_flow",
    "entity",
    "repairs",
    "readings",  # how often the sensors' board readings are written (sensor.py's)
} | PLATFORMS
# Issue 18: the owners' events on the bus, and the device triggers and logbook lines
# built on them.
FIXED |= {"bus_events", "device_trigger", "logbook"}


@dataclass
class ImportGraph:
    """Modules of one package (dotted, relative to it) and what each imports."""

    internal: dict[str, set[str]] = field(default_factory=dict)
    external: dict[str, set[str]] = field(default_factory=dict)  # full dotted names
    lines: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        """Keep failure reports short: the message says what is wrong."""
        return f"<ImportGraph of {len(self.internal)} modules>"


def module_name(path: Path, root: Path) -> str:
    """Return the dotted name of a file: "machines.rules", "machines", ROOT."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or ROOT


def _package_of(module: str, is_package: bool) -> list[str]:
    """Return the parts of the package a module's relative imports start from."""
    parts = [] if module == ROOT else module.split(".")
    return parts if is_package else parts[:-1]


def _join(parts: Iterable[str]) -> str:
    return ".".join(parts) or ROOT


def _imports(tree: ast.Module) -> Iterable[tuple[int, str, list[str]]]:
    """Yield (level, module, imported names) of every import anywhere in the file."""
    for node in ast.walk(tree):  # also under `if TYPE_CHECKING:` and in functions
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield 0, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            yield node.level, node.module or "", [alias.name for alias in node.names]


def build_graph(root: Path) -> ImportGraph:
    """Read every .py under `root` (recursively) into an import graph."""
    graph = ImportGraph()
    files = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    for module, path in files.items():
        text = path.read_text(encoding="utf-8")
        graph.lines[module] = len(text.splitlines())
        internal = graph.internal.setdefault(module, set())
        external = graph.external.setdefault(module, set())
        base = _package_of(module, path.name == "__init__.py")
        for level, name, names in _imports(ast.parse(text, str(path))):
            if level:
                target = [*base[: len(base) - level + 1], *filter(None, name.split("."))]
            elif name == ABSOLUTE_PREFIX or name.startswith(f"{ABSOLUTE_PREFIX}."):
                target = list(filter(None, name.removeprefix(ABSOLUTE_PREFIX).split(".")))
            else:
                external.add(name)
                continue
            # `from . import x` / `from .pkg import mod`: the name may be a module.
            submodules = [_join([*target, n]) for n in names if _join([*target, n]) in files]
            internal.update(submodules)
            if len(submodules) < len(names) or not names:
                internal.add(_join(target))
        internal.discard(module)
    return graph


def _shortest_ways(graph: ImportGraph, start: str) -> dict[str, str | None]:
    """Return {reachable module: the module it is first reached from}, breadth first."""
    parents: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph.internal.get(node, ())):
            if nxt not in parents:
                parents[nxt] = node
                queue.append(nxt)
    return parents


def _way(parents: dict[str, str | None], end: str) -> list[str]:
    way: list[str] = []
    step: str | None = end
    while step is not None:
        way.append(step)
        step = parents[step]
    return way[::-1]


def find_cycles(graph: ImportGraph) -> list[list[str]]:
    """Return one shortest cycle (first module repeated at the end) per import circle."""
    reach = {module: _shortest_ways(graph, module) for module in graph.internal}
    cycles: list[list[str]] = []
    done: set[str] = set()
    for start in sorted(graph.internal):
        circle = {m for m in reach[start] if start in reach.get(m, {})} - {start}
        if start in done or not circle:
            continue
        done |= circle | {start}
        back = min(
            (m for m in circle if start in graph.internal[m]),
            key=lambda m: (len(_way(reach[start], m)), m),
        )
        cycles.append([*_way(reach[start], back), start])
    return cycles


def homeassistant_paths(graph: ImportGraph, pure: Iterable[str]) -> list[str]:
    """Return, per pure module that reaches Home Assistant, the shortest way there."""
    found: list[str] = []
    for module in sorted(pure):
        parents = _shortest_ways(graph, module)  # insertion order: nearest first
        for node in parents:
            leak = sorted(
                name
                for name in graph.external.get(node, ())
                if name.split(".")[0] == "homeassistant"
            )
            if leak:
                found.append(" -> ".join([*_way(parents, node), leak[0]]))
                break
    return found


def layer_violations(graph: ImportGraph) -> list[str]:
    """Return the imports of a wing or the engine outside its own allowed set."""
    problems: list[str] = []
    for module, imported in sorted(graph.internal.items()):
        home = module.split(".")[0]
        if home not in (*WINGS, ENGINE):
            continue
        allowed = {home, ENGINE}
        for target in sorted(imported):
            top = target.split(".")[0]
            if top in allowed or target in SHARED:
                continue
            problems.append(f"{module} imports {target}")
    return problems


def long_modules(graph: ImportGraph, limit: int = MAX_LINES) -> list[str]:
    """Return the modules longer than `limit` lines, with their length."""
    return [
        f"{module}: {lines} lines" for module, lines in sorted(graph.lines.items()) if lines > limit
    ]


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    """The import graph of this checkout's integration."""
    return build_graph(PACKAGE)


def test_every_listed_module_exists(graph: ImportGraph) -> None:
    missing = sorted((PURE | GLUE | SHARED | FIXED) - graph.internal.keys())
    assert not missing, f"named in this test but not in the package (moved? split?): {missing}"


def test_every_module_is_classified(graph: ImportGraph) -> None:
    unnamed = sorted(
        module
        for module in graph.internal
        if module not in PURE | GLUE | SHARED | FIXED and module not in (*WINGS, ENGINE)
    )
    assert not unnamed, f"say in this test whether these are pure, glue, shared or fixed: {unnamed}"


def test_the_import_graph_has_no_cycle(graph: ImportGraph) -> None:
    cycles = [" -> ".join(cycle) for cycle in find_cycles(graph)]
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_pure_modules_import_no_homeassistant(graph: ImportGraph) -> None:
    leaks = homeassistant_paths(graph, PURE)
    assert not leaks, "pure modules that reach Home Assistant:\n" + "\n".join(leaks)


def test_a_wing_imports_only_itself_the_engine_and_shared_modules(graph: ImportGraph) -> None:
    problems = layer_violations(graph)
    assert not problems, "imports across the wings' walls:\n" + "\n".join(problems)


def test_no_module_is_over_400_lines(graph: ImportGraph) -> None:
    problems = long_modules(graph)
    assert not problems, "modules too long to read in one sitting:\n" + "\n".join(problems)


# The checks themselves, on tiny packages that break them.


def write_package(root: Path, files: dict[str, str]) -> Path:
    """Write {relative path: source} as a package under `root`; return it."""
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root


def test_imports_resolve_to_modules_wherever_they_are(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "__init__.py": "from .hub import Hub\n",
            "const.py": "import logging\n",
            "hub.py": (
                "from . import const\n"
                "from .machines.rules import decide\n"
                "import custom_components.makerspace_hub.machines.members\n"
            ),
            "machines/__init__.py": '"""A wing."""\n',
            "machines/members.py": "X = 1\n",
            "machines/rules.py": (
                "from ..const import DOMAIN\nfrom . import members\nfrom .members import X\n"
            ),
            "machines/machine.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from ..hub import Hub\n"
                "def later():\n"
                "    from .rules import decide\n"
                "    from .. import machines\n"
            ),
        },
    )
    graph = build_graph(package)
    assert graph.internal == {
        ROOT: {"hub"},
        "const": set(),
        "hub": {"const", "machines.rules", "machines.members"},
        "machines": set(),
        "machines.members": set(),
        "machines.rules": {"const", "machines.members"},
        "machines.machine": {"hub", "machines.rules", "machines"},
    }
    assert graph.external["const"] == {"logging"}
    assert graph.external["machines.machine"] == {"typing"}


def test_a_circle_is_found_through_deferred_imports(tmp_path: Path) -> None:
    files = {
        "__init__.py": "",
        "a.py": "from .b import B\n",
        "b.py": "def f():\n    from .c import C\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A\n",
        "d.py": "from .a import A\n",
    }
    assert find_cycles(build_graph(write_package(tmp_path / "bad", files))) == [
        ["a", "b", "c", "a"]
    ]
    files["c.py"] = "import typing\n"
    assert find_cycles(build_graph(write_package(tmp_path / "good", files))) == []


def test_homeassistant_is_found_through_another_module(tmp_path: Path) -> None:
    files = {
        "__init__.py": "import homeassistant\n",  # not reached: parents are not edges
        "const.py": "from homeassistant.const import Platform\n",
        "rules.py": "from .const import Platform\n",
        "members.py": "def f():\n    import homeassistant.core\n",
        "fob_keys.py": "import hmac\n",
    }
    graph = build_graph(write_package(tmp_path, files))
    assert homeassistant_paths(graph, {"rules", "members", "fob_keys"}) == [
        "members -> homeassistant.core",
        "rules -> const -> homeassistant.const",
    ]


def test_imports_across_the_walls_are_found(tmp_path: Path) -> None:
    files = {
        "__init__.py": "",
        "const.py": "",
        "hub.py": "",
        "sensor.py": "",
        "machines/__init__.py": "",
        "machines/machine.py": (
            "from ..const import DOMAIN\n"
            "from ..storage.owner_store import OwnerStore\n"
            "from .rules import decide\n"
            "from ..printers.printer import Printer\n"
            "def f():\n    from ..hub import Hub\n"
        ),
        "machines/rules.py": "",
        "printers/__init__.py": "",
        "printers/printer.py": "from .. import sensor\n",
        "storage/__init__.py": "",
        "storage/owner_store.py": "from ..machines.machine import Machine\n",
    }
    assert layer_violations(build_graph(write_package(tmp_path, files))) == [
        "machines.machine imports hub",
        "machines.machine imports printers.printer",
        "printers.printer imports sensor",
        "storage.owner_store imports machines.machine",
    ]


def test_a_module_over_the_limit_is_found(tmp_path: Path) -> None:
    files = {"__init__.py": "", "short.py": "x = 1\n" * 400, "long.py": "x = 1\n" * 401}
    assert long_modules(build_graph(write_package(tmp_path, files))) == ["long: 401 lines"]
