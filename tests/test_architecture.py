"""DESIGN §2: the import graph points one way (loaxa → web → controller → protocol ← edge_agent) with no
cycle, and the Pi's `loaxa agent` runs where only the `edge` extra is installed."""

import ast
import re
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = ("loaxa", "web", "controller", "protocol", "edge_agent", "schedules")
# Which of our packages each package may import (besides itself).
ALLOWED = {
    "loaxa": {"web", "controller", "protocol", "edge_agent", "schedules"},
    "web": {"controller", "protocol"},
    "controller": {"protocol", "schedules"},
    "edge_agent": {"protocol"},
    "protocol": set(),
    "schedules": set(),
}
# What a Pi with only `pip install loaxa[edge]` does not have.
CONTROLLER_ONLY = ("controller", "web", "flask", "apiflask", "sqlalchemy", "alembic", "apscheduler", "gtts",
                   "pydub", "pydantic", "waitress", "piper", "g2p_hamster", "psycopg", "argon2")  # fmt: skip


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module this file imports, at the top or inside a function, resolved to absolute names."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def _graph() -> dict[str, set[str]]:
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]
    modules = {_module_name(p): p for p in files}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for imported in _imports(path):
            # `from pkg import mod` names a module; `from mod import func` names the module itself.
            target = imported
            while target not in modules and "." in target:
                target = target.rpartition(".")[0]
            # A package's __init__ runs before any of its modules anyway: not an edge of the design.
            if target in modules and target != name and not name.startswith(f"{target}."):
                graph[name].add(target)
    return graph


def test_no_import_points_against_the_design() -> None:
    wrong = sorted(
        f"{source} → {target}"
        for source, targets in _graph().items()
        for target in targets
        if target.split(".")[0] != source.split(".")[0]
        and target.split(".")[0] not in ALLOWED[source.split(".")[0]]
    )
    assert not wrong, "imports against DESIGN §2:\n" + "\n".join(wrong)


def test_no_import_cycle_between_modules() -> None:
    """Tarjan's strongly connected components over module imports (lazy ones included)."""
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def test_loaxa_agent_runs_without_the_controller_side_installed(tmp_path: Path) -> None:
    """`loaxa agent --help` with every controller-only package made unimportable, as on a Pi."""
    code = textwrap.dedent(
        f"""
        import importlib.abc, sys
        BLOCKED = {CONTROLLER_ONLY!r}
        class NotInstalled(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ModuleNotFoundError(f"No module named {{name!r}} (not in loaxa[edge])")
        sys.meta_path.insert(0, NotInstalled())
        from loaxa.cli import main
        try:
            main(["agent", "--help"])
        except SystemExit as done:
            assert done.code == 0, done.code
        loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(BLOCKED))
        assert not loaded, loaded
        """
    )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "--config" in result.stdout
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    assert imported.isdisjoint(CONTROLLER_ONLY), imported & set(CONTROLLER_ONLY)


def test_no_controller_line_reads_as_an_import_of_an_outer_package() -> None:
    """Also inside strings (a generated launcher, an embedded script): the wiring belongs in loaxa/."""

    outward = re.compile(r"^\s*(?:from|import)\s+(?:web|edge_agent|loaxa)\b", re.MULTILINE)
    found = [
        f"{path.relative_to(ROOT)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in sorted((ROOT / "controller").rglob("*.py"))
        for text in [path.read_text(encoding="utf-8")]
        for match in outward.finditer(text)
    ]
    assert not found, f"controller/ names an outer package: {found}"
