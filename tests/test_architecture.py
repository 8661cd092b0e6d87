"""The architecture's rules, checked on the source with `ast` (nothing is imported):

- a phase never imports another phase (what it needs from an earlier one is an artifact);
- paper/, review/, widgets/ and results.py never import aisci.phases;
- aisci/ has no import cycle, counting the imports made inside functions too (a deferred
  import still ties two modules together);
- each phase declares what the runner reads, and the declarations agree with each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import aisci

PACKAGE = Path(aisci.__file__).resolve().parent
PHASE_FILES = sorted(p for p in (PACKAGE / "phases").glob("*.py") if p.name not in ("__init__.py", "context.py"))
NOT_PHASES = ("paper", "review", "widgets", "results.py")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py") if "templates" not in p.relative_to(PACKAGE).parts[:1]}


def imported(path: Path) -> set[str]:
    """The aisci modules a file imports, anywhere in it (inside functions too; not under
    `if TYPE_CHECKING:`, which never runs): `from aisci.x import y` counts as aisci.x.y when
    that is a module, else as aisci.x."""
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the file's own package
                package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name in MODULES}


def _runtime_nodes(tree: ast.AST):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def test_a_phase_never_imports_another_phase():
    phases = {module_name(p) for p in PHASE_FILES}
    offences = [f"{module_name(p)} imports {name}" for p in PHASE_FILES
                for name in sorted(imported(p) & (phases | {"aisci.phases"}))]
    assert offences == []


@pytest.mark.parametrize("where", NOT_PHASES)
def test_paper_review_widgets_and_results_never_import_the_phases(where):
    root = PACKAGE / where
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    assert files
    offences = [f"{module_name(p)} imports {name}" for p in files for name in sorted(imported(p))
                if name == "aisci.phases" or name.startswith("aisci.phases.")]
    assert offences == []


def import_cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    graph = {name: sorted(imported(path) - {name}) for name, path in MODULES.items()}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def test_aisci_has_no_import_cycle():
    assert import_cycles() == []


def test_the_checker_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from aisci.phases.writeup import APPENDIX_MARK\n", encoding="utf-8")
    assert "aisci.phases.writeup" in imported(source)


def test_each_phase_declares_what_the_runner_reads():
    from aisci.artifacts import ARTIFACTS
    from aisci.constants import PHASE_NAMES
    from aisci.phases import PHASES

    assert tuple(PHASES) == PHASE_NAMES
    produced = [artifact for module in PHASES.values() for artifact in module.PRODUCES]
    assert sorted(a.__name__ for a in produced) == sorted(a.__name__ for a in ARTIFACTS)  # each made by one phase
    seen: set = set()
    for name, module in PHASES.items():
        assert callable(module.run) and callable(module.inputs), name
        assert all(artifact in seen for artifact in module.CONSUMES), f"{name} consumes what no earlier phase made"
        assert all(isinstance(key, str) for key in module.CONFIG), name
        seen.update(module.PRODUCES)
        assert not hasattr(module, "OUTPUTS"), f"{name}: its outputs are those of the artifacts it produces"


def as_json_calls(path: Path) -> list[int]:
    """Lines of `<something>.as_json()` calls in a file."""
    return [node.lineno for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "as_json"]


def test_no_consumer_turns_an_artifact_back_into_json_to_read_it():
    """Consumers read the typed fields (summary.nodes, node.status, analysis.figures): a round
    trip through as_json() brings back lookups by string key that no type checks."""
    offences = [f"{module_name(p)}:{line}" for name, p in sorted(MODULES.items()) if name != "aisci.artifacts"
                for line in as_json_calls(p)]
    assert offences == []


def test_the_as_json_check_sees_a_round_trip(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("def f(study):\n    return ExperimentSummary.load(study).as_json()['nodes']\n", encoding="utf-8")
    assert as_json_calls(source) == [2]
