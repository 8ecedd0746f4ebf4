"""The house layout: the rooms around the rules core import downwards only, with no cycle."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "addin" / "ptbilling"

#: room -> the rooms it may import (besides itself). The package root only holds __version__.
MAY_IMPORT = {
    "rules": set(),
    "data_folder": {"rules"},
    "logs": {"rules"},
    "excel_functions": {"rules", "data_folder", "logs"},
    "udfs": {"rules", "data_folder", "logs", "excel_functions"},
    "workbooks": {"rules", "data_folder", "logs", "excel_functions", "udfs"},
    "cli": {"rules", "data_folder", "logs", "excel_functions", "udfs", "workbooks"},
    "__main__": {"cli"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every ptbilling module ``name`` imports, lazy imports inside functions included."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.add(full if full in modules else target)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.split(".")[0] == "ptbilling" and m != name}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_no_room_imports_a_room_above_it():
    """rules < logs < udfs < workbooks < cli: each room imports only itself, the rooms below, and __version__."""
    wrong = []
    for module, deps in _graph().items():
        room = _room(module)
        if room == "":
            assert not deps, f"the package root imports {deps}"
            continue
        for dep in deps:
            target = _room(dep)
            if target not in ("", room) and target not in MAY_IMPORT[room]:
                wrong.append(f"{module} imports {dep}")
    assert not wrong, "imports running upward: " + "; ".join(sorted(wrong))


def test_no_import_cycle_between_modules():
    """No module reaches itself through its imports (lazy imports included)."""
    graph = _graph()
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        seen[module] = 1
        for dep in sorted(graph.get(module, ())):
            if seen.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(dep):] + [dep]))
            if dep in graph and dep not in seen:
                visit(dep, path + [dep])
        seen[module] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [module])


def test_readme_module_map_matches_the_tree():
    """Every module the README's map names exists, and every front-door module is in the map."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:rules|logs|workbooks|cli)/[a-z_]+\.py|udfs\.py|excel_functions\.py|data_folder\.py)`",
                           readme))
    on_disk = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    assert named - on_disk == set(), f"README names modules that do not exist: {named - on_disk}"
    front_doors = {m for m in on_disk if not m.startswith("rules/") and m != "__main__.py"}
    assert front_doors - named == set(), f"modules missing from the README's map: {front_doors - named}"
