"""The layout rule (docs/architecture.md): every module directly under src/gatedloop/ is the CLI of the rule file
of the same name; libraries live in subpackages and never import a stage CLI; a stage CLI imports no other stage;
and no two modules import each other, directly or round a loop (imports inside functions count)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import REPO

SRC = REPO / "src" / "gatedloop"
RULES = REPO / "workflow" / "rules"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}
STAGES = sorted(p.stem for p in SRC.glob("*.py") if p.stem != "__init__")


def imported_modules(path: Path) -> set[str]:
    """Every gatedloop module this file imports, at any depth of the file (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from gatedloop.x import y` imports the module gatedloop.x.y where y is one, else gatedloop.x
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                     for a in node.names]
        else:
            continue
        found.update(n for n in names if n.split(".")[0] == "gatedloop")
    return found


IMPORTS = {name: imported_modules(path) - {name} for name, path in MODULES.items()}


def test_every_top_level_module_is_the_cli_its_rule_file_calls():
    for stage in STAGES:
        rule_file = RULES / f"{stage}.smk"
        assert rule_file.is_file(), f"gatedloop/{stage}.py is not a stage: no workflow/rules/{stage}.smk"
        assert f"python -m gatedloop.{stage} " in rule_file.read_text(), f"{rule_file.name} does not call it"
        assert "def main(" in (SRC / f"{stage}.py").read_text(), f"gatedloop/{stage}.py has no main()"


def test_rules_call_only_stage_clis():
    for rule_file in RULES.glob("*.smk"):
        for called in re.findall(r"python -m (gatedloop[\w.]*)", rule_file.read_text()):
            assert called.count(".") == 1 and called.split(".")[1] in STAGES, f"{rule_file.name} calls {called}"


def test_libraries_import_no_stage_and_stages_import_no_other_stage():
    stage_modules = {f"gatedloop.{s}" for s in STAGES}
    for name, imported in IMPORTS.items():
        assert not imported & stage_modules, f"{name} imports the stage CLI(s) {sorted(imported & stage_modules)}"


def test_no_import_cycle():
    def cycle_from(start: str) -> list[str] | None:
        stack, on_path = [(start, iter(sorted(IMPORTS.get(start, ()))))], [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.pop()
            elif child in on_path:
                return on_path[on_path.index(child):] + [child]
            elif child in IMPORTS and child not in seen:
                seen.add(child)
                stack.append((child, iter(sorted(IMPORTS[child]))))
                on_path.append(child)
        return None

    seen: set[str] = set()
    for name in sorted(IMPORTS):
        if name not in seen:
            seen.add(name)
            cycle = cycle_from(name)
            assert cycle is None, "import cycle: " + " -> ".join(cycle)
