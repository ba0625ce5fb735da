"""The journey monitor's charts (ECharts options) and canvas figures: pure functions of
engine.monitoring.metrics' journey_metrics() and engine.monitoring.goals' journey_goal() results.

A chart with nothing to draw says so ("No data yet" and what will fill it) in the middle of its area.
"""

from __future__ import annotations

from typing import Any

from engine.journeys.graph import ENTRY_ID
from ui.layout import STEP_STYLE

DELIVERY_COLOURS = {"sent": "#10b981", "queued": "#6366f1", "failed": "#ef4444", "suppressed": "#94a3b8"}
ENTRY, END = ENTRY_ID, ""
ENDED = "__ended__"  # the Sankey's sink node (a node needs a non-empty name)
WINNER, OTHER = "#10b981", "#94a3b8"


def no_data(hint: str) -> dict[str, Any]:
    """An ECharts title centred in the chart: "No data yet" and what will fill it."""
    return {"text": "No data yet", "subtext": hint, "left": "center", "top": "middle",
            "textStyle": {"color": "#64748b", "fontSize": 14, "fontWeight": "normal"},
            "subtextStyle": {"color": "#94a3b8", "fontSize": 12}}


def _noted(options: dict[str, Any], empty: bool, hint: str) -> dict[str, Any]:
    if empty:
        options["title"] = no_data(hint)
    return options


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
    return _noted({
        "tooltip": {"trigger": "item"},
        "series": [{"type": "sankey", "data": nodes, "links": links, "emphasis": {"focus": "adjacency"},
                    "nodeAlign": "left", "lineStyle": {"color": "gradient", "opacity": 0.35},
                    "left": 10, "right": 120, "label": {"fontSize": 11}}],
    }, not links, "Paths appear once customers move through the journey.")


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
    empty = not any(series["entries"]) and not any(series["completions"])
    return _noted({
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
    }, empty, "Nobody entered or completed the journey in this window.")


def deliveries_options(data: dict[str, Any]) -> dict[str, Any]:
    channels = data["deliveries"]["byChannel"]
    return _noted({
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
    }, not channels, "Messages appear here once a send step sends.")


def responses_options(data: dict[str, Any]) -> dict[str, Any]:
    rows = data["responses"]
    if not rows:
        hint = "The journey has no send step."
    elif not any(row["sent"] for row in rows):
        hint = "Rates appear once messages are sent."
    else:
        hint = "Nobody has clicked or converted yet."
    empty = not any(row["clickRate"] or row["conversionRate"] for row in rows)
    return _noted({
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
    }, empty, hint)


def goal_options(split: dict[str, Any]) -> dict[str, Any]:
    """One split step's branches as bars of their conversion rate (%), the winner in green."""
    branches = split["branches"]
    winner = split["verdict"]["winner"]
    return _noted({
        "tooltip": {"trigger": "axis", ":valueFormatter": "(v) => v + '%'"},
        "grid": {"left": 64, "right": 48, "top": 8, "bottom": 24},
        "xAxis": {"type": "value", "axisLabel": {"formatter": "{value}%"}},
        "yAxis": {"type": "category", "inverse": True, "data": [branch["label"] for branch in branches]},
        "series": [{
            "name": "Converted", "type": "bar", "barMaxWidth": 22,
            "label": {"show": True, "position": "right", "formatter": "{c}%"},
            "data": [{"value": round(branch["rate"] * 100, 1),
                      "itemStyle": {"color": WINNER if branch["label"] == winner else OTHER}}
                     for branch in branches],
        }],
    }, not any(branch["n"] for branch in branches), "Nobody has reached this split yet.")


def counts_for_canvas(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
    counts = {step["id"]: {"current": step["current"], "passed": step["passed"]} for step in data["steps"]}
    # The Entry node is no step: what passed it is everyone who entered (what its edge shows).
    counts[ENTRY] = {"current": 0, "passed": data["totals"]["entered"]}
    edges = {f"{edge['source']}->{edge['target']}": edge["count"] for edge in data["edges"] if edge["target"]}
    return counts, edges
