"""engine/'s sub-packages import downward only: the imports between them, read from the source, form no cycle
(a read-side package may read every store; nothing below imports it back)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ENGINE = Path(__file__).resolve().parents[2] / "engine"


def _package(module: str) -> str | None:
    """`engine.journeys.steps.wait` -> `journeys`; modules at the top of engine/ are the foundation, None."""
    parts = module.split(".")
    if parts[0] != "engine" or len(parts) < 2:
        return None
    return parts[1] if (ENGINE / parts[1]).is_dir() else None


def package_imports() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in ENGINE.rglob("*.py"):
        module = ".".join(path.relative_to(ENGINE.parent).with_suffix("").parts).removesuffix(".__init__")
        source = _package(module)
        if source is None:
            continue
        graph.add_node(source)
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                package = _package(target)
                if package is not None and package != source:
                    graph.add_edge(source, package, where=f"{module} -> {target}")
    return graph


def test_engine_sub_packages_import_each_other_in_no_cycle() -> None:
    graph = package_imports()
    assert {"runtime", "delivery", "audience", "journeys"} <= set(graph)
    cycles = [[f"{graph.edges[a, b]['where']}" for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True)]
              for cycle in nx.simple_cycles(graph)]
    assert not cycles, "\n".join(" | ".join(cycle) for cycle in cycles[:10])
