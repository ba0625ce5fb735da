"""The journey monitor's charts (ECharts options) and canvas figures: pure functions of
engine.monitoring.metrics' journey_metrics() result."""

from __future__ import annotations

from typing import Any

from engine.journeys.graph import ENTRY_ID
from ui.layout import STEP_STYLE

DELIVERY_COLOURS = {"sent": "#10b981", "queued": "#6366f1", "failed": "#ef4444", "suppressed": "#94a3b8"}
ENTRY, END = ENTRY_ID, ""
ENDED = "__ended__"  # the Sankey's sink node (a node needs a non-empty name)


def sankey_options(data: dict[str, Any]) -> dict[str, Any]:
    """Paths taken as a Sankey: Entry → steps → Ended. Loop-back edges are left out (a Sankey is acyclic)."""
    names = {step["id"]: step["name"] for step in data["steps"]}
    colours = {step["id"]: STEP_STYLE.get(step["type"], ("", "#64748b"))[1] for step in data["steps"]}
    names.update({ENTRY: "Entry", END: "Ended"})
    edges = [edge for edge in data["edges"] if edge["count"] > 0]
    order = _forward_order(edges)
    links = [
        {"source": edge["source"], "target": edge["target"] or ENDED, "value": edge["count"]}
        for edge in edges
        if edge["target"] == END or order.get(edge["source"], 0) < order.get(edge["target"], 0)
    ]
    inflow: dict[str, int] = {}
    outflow: dict[str, int] = {}
    for link in links:
        outflow[link["source"]] = outflow.get(link["source"], 0) + link["value"]
        inflow[link["target"]] = inflow.get(link["target"], 0) + link["value"]
    nodes = [
        {"name": node,
         "label": {"formatter": f"{names.get(END if node == ENDED else node, node)}: "
                                f"{max(inflow.get(node, 0), outflow.get(node, 0)):,}"},
         "itemStyle": {"color": colours.get(node, "#64748b")}}
        for node in sorted(set(inflow) | set(outflow), key=lambda node: order.get(node, len(order)))
    ]
    return {
        "tooltip": {"trigger": "item"},
        "series": [{"type": "sankey", "data": nodes, "links": links, "emphasis": {"focus": "adjacency"},
                    "nodeAlign": "left", "lineStyle": {"color": "gradient", "opacity": 0.35},
                    "left": 10, "right": 120, "label": {"fontSize": 11}}],
    }


def _forward_order(edges: list[dict[str, Any]]) -> dict[str, int]:
    """Breadth-first depth from Entry (then from any source not reached); an edge is drawn only when it
    goes deeper."""
    order: dict[str, int] = {}
    for root in [ENTRY, *(edge["source"] for edge in edges)]:
        if root in order:
            continue
        order[root] = 0
        frontier = [root]
        while frontier:
            following = []
            for node in frontier:
                for edge in edges:
                    if edge["source"] == node and edge["target"] and edge["target"] not in order:
                        order[edge["target"]] = order[node] + 1
                        following.append(edge["target"])
            frontier = following
    return order


def series_options(data: dict[str, Any]) -> dict[str, Any]:
    series = data["series"]
    hourly = series["bucketSeconds"] < 86400
    labels = [bucket[11:16] if hourly else bucket[5:10] for bucket in series["buckets"]]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": ["Entries", "Completions"], "bottom": 0},
        "grid": {"left": 40, "right": 16, "top": 16, "bottom": 48},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {"name": "Entries", "type": "line", "smooth": True, "areaStyle": {"opacity": 0.15},
             "data": series["entries"], "color": "#4f46e5"},
            {"name": "Completions", "type": "line", "smooth": True, "data": series["completions"],
             "color": "#10b981"},
        ],
    }


def deliveries_options(data: dict[str, Any]) -> dict[str, Any]:
    channels = data["deliveries"]["byChannel"]
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"bottom": 0},
        "grid": {"left": 90, "right": 16, "top": 16, "bottom": 48},
        "xAxis": {"type": "value", "minInterval": 1,
                  "axisLabel": {":formatter": "v => v >= 1000 ? (v / 1000) + 'k' : v"}},
        "yAxis": {"type": "category", "data": [row["channelName"] for row in channels]},
        "series": [
            {"name": status, "type": "bar", "stack": "total", "color": colour,
             "data": [row[status] for row in channels]}
            for status, colour in DELIVERY_COLOURS.items()
        ],
    }


def responses_options(data: dict[str, Any]) -> dict[str, Any]:
    rows = data["responses"]
    return {
        "tooltip": {"trigger": "axis", ":valueFormatter": "(v) => v + '%'"},
        "legend": {"bottom": 0},
        "grid": {"left": 40, "right": 16, "top": 16, "bottom": 48},
        "xAxis": {"type": "category", "data": [row["stepName"] for row in rows]},
        "yAxis": {"type": "value", "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": [
            {"name": "Click rate", "type": "bar", "color": "#f59e0b",
             "data": [round(row["clickRate"] * 100, 1) for row in rows]},
            {"name": "Conversion rate", "type": "bar", "color": "#10b981",
             "data": [round(row["conversionRate"] * 100, 1) for row in rows]},
        ],
    }


def counts_for_canvas(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
    counts = {step["id"]: {"current": step["current"], "passed": step["passed"]} for step in data["steps"]}
    # The Entry node is no step: what passed it is everyone who entered (what its edge shows).
    counts[ENTRY] = {"current": 0, "passed": data["totals"]["entered"]}
    edges = {f"{edge['source']}->{edge['target']}": edge["count"] for edge in data["edges"] if edge["target"]}
    return counts, edges
