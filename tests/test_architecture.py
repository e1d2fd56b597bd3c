"""The layering of noc_tui's folders, and no import loops (README, "Layout").

Every `import noc_tui...` counts, at module level, inside functions and under
TYPE_CHECKING alike: a lazy or type-only import is still a dependency a reader follows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "noc_tui"

# What each layer may import besides itself. `config` (with `settings_view`,
# `config_check` and `keymap`) sits just above `records`; `ui`, `cli` and `demo` are on top.
BELOW: dict[str, set[str]] = {
    "records": set(),
    "config": {"records"},
    "store": {"records", "config"},
    "analytics": {"records", "config", "store"},
    "sources": {"records", "config"},
    "alerts": {"records", "config", "store", "analytics"},
    "sync": {"records", "config", "store", "analytics", "sources", "alerts"},
    "demo_switch": {"records"},
    "ui": {"records", "config", "store", "analytics", "sources", "sync", "alerts"},
    "top": {"records", "config", "store", "analytics", "sources", "sync", "demo_switch",
            "ui", "alerts"},
}
DATA_LAYERS = set(BELOW) - {"ui", "top"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "top"  # the package itself: its __init__ holds only the version
    head = parts[1]
    if head in ("config", "settings_view", "config_check", "keymap"):
        return "config"
    if head in ("cli", "demo", "__main__"):
        return "top"
    return head


def _imports(path: Path) -> set[str]:
    """Every module of the project that `path` imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("noc_tui"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("noc_tui"):
                continue
            # `from noc_tui.analytics import metrics` imports the module `metrics`;
            # the package counts only when a name is taken from it.
            subs = {f"{node.module}.{a.name}" for a in node.names}
            found.update(s for s in subs if _exists(s))
            if not all(_exists(s) for s in subs):
                found.add(node.module)
    return found


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()


def _third_party(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


# Import loops and layer breaks that existed when the folders were made, being removed
# (issue 14). An entry here must still be a loop or break: test_known_faults_are_real.
KNOWN_LOOPS: set[str] = set()
KNOWN_BREAKS: set[str] = set()

MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
GRAPH = {name: {m for m in _imports(path) if m != name} for name, path in MODULES.items()}


def test_every_module_is_in_a_known_layer() -> None:
    unknown = sorted(m for m in MODULES if _layer(m) not in BELOW)
    assert unknown == [], f"modules outside the documented folders: {unknown}"


def _breaks() -> list[str]:
    return sorted(
        f"{mod} imports {dep}"
        for mod, deps in GRAPH.items()
        for dep in deps
        if _layer(dep) != _layer(mod) and _layer(dep) not in BELOW[_layer(mod)]
    )


def test_no_layer_imports_a_higher_one() -> None:
    assert [b for b in _breaks() if b not in KNOWN_BREAKS] == []


def test_data_layers_do_not_import_textual() -> None:
    wrong = sorted(
        f"{mod} imports {lib}"
        for mod, path in MODULES.items()
        if _layer(mod) in DATA_LAYERS
        for lib in _third_party(path) & {"textual", "rich"}
    )
    assert wrong == []


def _cycle_from(start: str) -> list[str] | None:
    """A shortest import loop through `start`, if any (breadth-first)."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        mod = queue.pop(0)
        for dep in sorted(GRAPH.get(mod, ())):
            if dep == start:
                return [*paths[mod], start]
            if dep not in paths and dep in GRAPH:
                paths[dep] = [*paths[mod], dep]
                queue.append(dep)
    return None


@pytest.mark.parametrize("module", sorted(set(MODULES) - KNOWN_LOOPS))
def test_no_import_loops(module: str) -> None:
    cycle = _cycle_from(module)
    assert cycle is None, " -> ".join(cycle or [])


def test_known_faults_are_real() -> None:
    """A loop or break that has been fixed must leave the lists above."""
    assert {m for m in KNOWN_LOOPS if _cycle_from(m) is None} == set()
    assert KNOWN_BREAKS - set(_breaks()) == set()


def test_the_checks_see_a_violation(tmp_path: Path) -> None:
    """The layer rule is not vacuous: a records module importing store is caught."""
    fake = tmp_path / "x.py"
    fake.write_text("from noc_tui.store.cache import Cache\n")
    deps = _imports(fake)
    assert "noc_tui.store.cache" in deps
    assert _layer("noc_tui.store.cache") not in BELOW[_layer("noc_tui.records.formats")]


def test_the_app_offers_all_its_screens_ask_for(tmp_path: Path) -> None:
    """Screens and the palette see the app only through ui/host.py (so they need not
    import it): every member named there must be one NocApp has."""
    from noc_tui.config import Settings
    from noc_tui.ui.app import NocApp
    from noc_tui.ui.host import Host, PaletteHost

    app = NocApp(Settings(), tmp_path / "cache.db", watch_interval_s=0)
    wanted = {name for proto in (Host, PaletteHost)
              for name in [*proto.__annotations__, *vars(proto)] if not name.startswith("_")}
    assert len(wanted) > 20  # the protocols were read, not an empty list
    assert sorted(n for n in wanted if not hasattr(app, n)) == []
    assert app.list_rows() is None  # no list loaded yet
