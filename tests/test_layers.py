"""The architecture's rules, checked on the code itself so they cannot drift.

Layers point down only: cli -> commands -> project -> catalog / lock / keys ->
record / ids / text. Exporters see records and small helpers, never a command,
the project, the catalog, the lock, or an upstream. No import circle, not
even one hidden in a function body. Each command loads only what it uses.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("bib", "exporters")
HTTP_LIBRARIES = ("httpx2", "habanero", "pyzotero")
RENDERING_LIBRARIES = ("bibtexparser", "pylatexenc")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imports(path: Path, known: set[str]) -> set[str]:
    """Project modules `path` imports anywhere in its body (function bodies included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from pkg import mod` imports the module pkg.mod when there is one.
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        else:
            continue
        found.update(n for n in names if n in known)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports(path, set(modules)) - {name} for name, path in modules.items()}


def test_the_graph_sees_the_modules_and_their_imports(graph):
    assert {"bib.cli", "bib.project", "bib.resolve", "exporters.bibtex"} <= set(graph)
    assert "bib.project" in graph["bib.commands.build"]
    assert "bib.record" in graph["exporters.bibtex"]


def test_no_import_circle(graph):
    """Depth-first search for a back edge; the circle found is named in the failure."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circle = [*path[path.index(nxt) :], nxt]
                pytest.fail("import circle: " + " -> ".join(circle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_exporters_see_records_never_commands_project_or_upstreams(graph):
    forbidden = ("bib.cli", "bib.commands", "bib.project", "bib.resolve", "bib.catalog",
                 "bib.lock", "bib.sources", "bib.outputs")  # fmt: skip
    for module, targets in graph.items():
        if module.startswith("exporters"):
            bad = sorted(t for t in targets if t.startswith(forbidden))
            assert not bad, f"{module} imports {bad}"


def test_only_the_cli_and_commands_import_commands_and_nothing_imports_the_cli(graph):
    for module, targets in graph.items():
        assert "bib.cli" not in targets, module
        if not module.startswith(("bib.cli", "bib.commands")):
            assert not any(t.startswith("bib.commands") for t in targets), module


def test_lower_layers_never_import_upper_ones(graph):
    upper = {
        "bib.project": ("bib.commands", "bib.resolve", "bib.sources"),
        "bib.catalog": ("bib.project", "bib.lock", "bib.keys"),
        "bib.lock": ("bib.project", "bib.catalog"),
        "bib.keys": ("bib.project", "bib.catalog", "bib.lock"),
        "bib.record": ("bib.project", "bib.catalog", "bib.lock", "bib.keys", "bib.ids"),
        "bib.http": ("bib.sources", "bib.resolve", "bib.project"),
    }
    for module, forbidden in upper.items():
        bad = sorted(t for t in graph[module] if t.startswith(forbidden))
        assert not bad, f"{module} imports {bad}"
    for module, targets in graph.items():
        if module.startswith("bib.sources"):
            assert not any(t.startswith(("bib.resolve", "bib.project")) for t in targets), module


# --- what each command really loads -----------------------------------------------------

# Runs one command in a fresh interpreter where the packages named in BLOCKED cannot be
# imported (as if not installed), and prints the top-level packages that were loaded.
PROBE = """
import importlib.abc, json, os, sys

class Blocker(importlib.abc.MetaPathFinder):
    blocked = set(filter(None, os.environ.get("BLOCKED", "").split(",")))

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"blocked: {name}", name=name)
        return None

sys.meta_path.insert(0, Blocker())
from bib.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
    print("EXIT 0")
except SystemExit as exc:
    print(f"EXIT {exc.code}")
finally:
    print("MODULES " + json.dumps(sorted(sys.modules)))
"""


def probe(args: list[str], cwd: Path, blocked: tuple[str, ...] = ()) -> tuple[str, set[str]]:
    """(the command's exit line, the modules it loaded)."""
    env = {**os.environ, "BLOCKED": ",".join(blocked)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    lines = done.stdout.splitlines()
    assert any(x.startswith("EXIT") for x in lines), done.stderr[-2000:]
    exit_line = next(x for x in lines if x.startswith("EXIT"))
    modules = json.loads(
        next(x for x in lines if x.startswith("MODULES ")).removeprefix("MODULES ")
    )
    return exit_line, set(modules)


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    for name in ("sources.yaml", "sources.lock.json"):
        shutil.copy(ROOT / name, folder / name)
    shutil.copytree(ROOT / "output", folder / "output")
    return folder


@pytest.mark.parametrize("command", [["build"], ["check"], ["stats"], ["--help"]])
def test_offline_commands_load_no_http_client(command, project_copy):
    exit_line, modules = probe(command, project_copy)
    assert exit_line == "EXIT 0"
    assert not top_level(modules) & set(HTTP_LIBRARIES), sorted(modules & set(HTTP_LIBRARIES))
    # ... and still work where no HTTP library is installed at all.
    assert probe(command, project_copy, blocked=HTTP_LIBRARIES)[0] == "EXIT 0"


def test_build_writes_every_format_without_bibtexparser_or_pylatexenc(project_copy):
    """The writers write text themselves; bibtexparser and pylatexenc are for the tests."""
    exit_line, modules = probe(["build"], project_copy, blocked=RENDERING_LIBRARIES)
    assert exit_line == "EXIT 0"
    assert not top_level(modules) & set(RENDERING_LIBRARIES)


def test_resolve_loads_no_exporter_and_needs_no_renderer(project_copy):
    """habanero tries `import bibtexparser` for a feature we never use; resolve itself must
    run where neither bibtexparser nor pylatexenc can be imported, and load no exporter."""
    exit_line, modules = probe(["resolve", "--offline"], project_copy, blocked=RENDERING_LIBRARIES)
    assert exit_line == "EXIT 0"
    assert "httpx2" in top_level(modules)  # it did load its own clients
    assert sorted(m for m in modules if m.startswith("exporters.")) == []
