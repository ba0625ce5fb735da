"""Auto-layout of a journey graph: layers by distance from the entry, few crossings, left to right.

Works on wire-form step dicts (drafts may be incomplete), so the editor can lay out anything it holds.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import networkx as nx

from engine.journeys.graph import outputs as step_outputs

# Geometry shared with the canvas (ui/components/flow_canvas.js): node width, header height, port rows.
NODE_WIDTH = 220
HEADER_HEIGHT = 60
PORT_ROW = 22
LAYER_GAP = 300
ROW_GAP = 48
DUMMY_HEIGHT = 24
SWEEPS = 6


def node_height(step: dict[str, Any]) -> int:
    """Drawn height of a step node: labelled output rows below the header on branch/split steps."""
    if step.get("type") in ("branch", "split"):
        return HEADER_HEIGHT + PORT_ROW * len(step_outputs(step)) + 6
    return HEADER_HEIGHT


Positions = dict[str, dict[str, float]]
Edges = list[tuple[str, str, int]]


def layout(steps: list[dict[str, Any]], origin: tuple[float, float] = (340, 80)) -> Positions:
    """Positions {step id: {"x", "y"}}: layer = distance from the first step, ordered to reduce crossings."""
    ids = [step["id"] for step in steps if step.get("id")]
    if not ids:
        return {}
    by_id = {step["id"]: step for step in steps if step.get("id")}
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    for step_id in ids:
        for rank, output in enumerate(step_outputs(by_id[step_id])):
            target = output.target
            if target in by_id and target != step_id and not graph.has_edge(step_id, target):
                graph.add_edge(step_id, target, rank=rank)
    layer_of = _layers(graph, ids)
    layers, edges = _with_dummies(graph, layer_of)
    layers = _order(layers, edges)
    return _coordinates(layers, edges, by_id, origin)


def _layers(graph: nx.DiGraph, ids: list[str]) -> dict[str, int]:
    """Distance from the entry: the longest forward path, so a step sits after everything leading to it.

    Forward means breadth-first discovery order from the first step (unreachable parts start from their own
    roots); edges back to earlier-discovered steps are loops and do not push layers.
    """
    order: dict[str, int] = {}
    for root in ids:
        if root in order:
            continue
        order[root] = len(order)
        queue = deque([root])
        while queue:
            node = queue.popleft()
            for child in _children(graph, node):
                if child not in order:
                    order[child] = len(order)
                    queue.append(child)
    forward = nx.DiGraph()
    forward.add_nodes_from(order)
    forward.add_edges_from((a, b) for a, b in graph.edges if order[a] < order[b])
    layer_of = dict.fromkeys(order, 0)
    for node in nx.topological_sort(forward):
        for child in forward.successors(node):
            layer_of[child] = max(layer_of[child], layer_of[node] + 1)
    return {node: layer_of[node] for node in sorted(order, key=order.__getitem__)}


def _children(graph: nx.DiGraph, node: str) -> list[str]:
    return sorted(graph.successors(node), key=lambda child: graph.edges[node, child]["rank"])


def _with_dummies(graph: nx.DiGraph, layer_of: dict[str, int]) -> tuple[list[list[str]], Edges]:
    """Layers in discovery order, with a dummy node per layer crossed by a long forward edge.

    Returns the layers and the edges between adjacent layers as (upper, lower, source port rank).
    """
    depth = max(layer_of.values()) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for node in layer_of:  # insertion order = discovery order: a stable first guess
        layers[layer_of[node]].append(node)
    edges: Edges = []
    for source, target, data in graph.edges(data=True):
        low, high = layer_of[source], layer_of[target]
        if high <= low:
            continue  # back or same-layer edges do not take part in ordering
        previous = source
        for layer in range(low + 1, high):
            dummy = f"\x00{source}\x00{target}\x00{layer}"
            layers[layer].append(dummy)
            edges.append((previous, dummy, data["rank"] if previous == source else 0))
            previous = dummy
        edges.append((previous, target, data["rank"] if previous == source else 0))
    return layers, edges


def _order(layers: list[list[str]], edges: Edges) -> list[list[str]]:
    """Barycenter sweeps down and up, keeping the ordering with the fewest crossings."""
    parents: dict[str, list[tuple[str, int]]] = {}
    kids: dict[str, list[str]] = {}
    for upper, lower, rank in edges:
        parents.setdefault(lower, []).append((upper, rank))
        kids.setdefault(upper, []).append(lower)
    best = [list(layer) for layer in layers]
    best_crossings = _crossings(best, edges)
    current = [list(layer) for layer in layers]
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        indices = range(1, len(current)) if downward else range(len(current) - 2, -1, -1)
        for index in indices:
            fixed = {node: pos for pos, node in enumerate(current[index - 1 if downward else index + 1])}
            layer = current[index]

            def weight(node: str, pos: int, fixed: dict[str, int] = fixed, down: bool = downward) -> float:
                if down:
                    around = [fixed[p] + rank * 0.01 for p, rank in parents.get(node, []) if p in fixed]
                else:
                    around = [float(fixed[k]) for k in kids.get(node, []) if k in fixed]
                return sum(around) / len(around) if around else float(pos)

            current[index] = sorted(layer, key=lambda node, layer=layer: weight(node, layer.index(node)))
        crossings = _crossings(current, edges)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in current], crossings
    return best


def _crossings(layers: list[list[str]], edges: Edges) -> int:
    position = {node: (index, pos) for index, layer in enumerate(layers) for pos, node in enumerate(layer)}
    between: dict[int, list[tuple[float, int]]] = {}
    for upper, lower, rank in edges:
        layer, upper_pos = position[upper]
        between.setdefault(layer, []).append((upper_pos + rank * 0.01, position[lower][1]))
    total = 0
    for pairs in between.values():
        pairs.sort()
        for i, (_, low_a) in enumerate(pairs):
            total += sum(1 for _, low_b in pairs[i + 1 :] if low_b < low_a)
    return total


def _coordinates(
    layers: list[list[str]], edges: Edges, by_id: dict[str, dict[str, Any]], origin: tuple[float, float]
) -> Positions:
    """x by layer; y near the parents' ports, keeping the order and a gap, each layer shifted to fit best."""
    parents: dict[str, list[tuple[str, int]]] = {}
    for upper, lower, rank in edges:
        parents.setdefault(lower, []).append((upper, rank))
    top: dict[str, float] = {}

    def height(node: str) -> float:
        return node_height(by_id[node]) if node in by_id else DUMMY_HEIGHT

    def port_y(node: str, rank: int) -> float:
        step = by_id.get(node)
        if step is not None and step.get("type") in ("branch", "split"):
            return top[node] + HEADER_HEIGHT + PORT_ROW * rank + PORT_ROW / 2
        return top[node] + height(node) / 2

    for index, layer in enumerate(layers):
        desired = []
        for pos, node in enumerate(layer):
            anchors = [port_y(p, rank) for p, rank in parents.get(node, []) if p in top]
            centre = sum(anchors) / len(anchors) if anchors else origin[1] + pos * (HEADER_HEIGHT + ROW_GAP)
            desired.append(centre - height(node) / 2)
        placed: list[float] = []
        for pos in range(len(layer)):
            floor = placed[-1] + height(layer[pos - 1]) + ROW_GAP if placed else desired[pos]
            placed.append(max(desired[pos], floor))
        shift = (sum(desired) - sum(placed)) / len(layer) if index else 0.0
        for pos, node in enumerate(layer):
            top[node] = placed[pos] + shift
    lowest = min(top.values())
    lift = origin[1] - lowest if lowest < origin[1] else 0.0
    x_of = {node: origin[0] + index * LAYER_GAP for index, layer in enumerate(layers) for node in layer}
    return {node: {"x": float(x_of[node]), "y": round(top[node] + lift, 1)} for node in by_id if node in top}
