"""Decision flows: the list, and an edit page with a "try it" box (a customer's ranked offers and trace)."""

from __future__ import annotations

import json
from typing import Any

from nicegui import run, ui

from engine.audience import customers
from engine.decisioning import decisions, offers
from engine.errors import JourneysError
from models.offers import DecisionFlowFields, DecisionFlowIn
from ui.components.detail_header import breadcrumb, load_or_explain
from ui.components.dialogs import dialog_actions
from ui.components.paged_table import PagedTable, column, notify_problem
from ui.layout import frame, guard

COLUMNS = [column("name", "Name"), column("id", "Id"), column("candidates", "Candidates"),
           column("rules", "Rules", "right"), column("maxOffers", "Max offers", "right")]


def _candidates(flow: dict[str, Any]) -> str:
    parts = [f"{len(flow['offerIds'])} offers"] if flow["offerIds"] else []
    parts += [f"category {category}" for category in flow["categories"]]
    return ", ".join(parts) or "every offer"


def _row(flow: dict[str, Any]) -> dict[str, Any]:
    return {"id": flow["id"], "name": flow["name"], "candidates": _candidates(flow),
            "rules": len(flow["rules"]), "maxOffers": flow["maxOffers"]}


@ui.page("/decision-flows")
async def decision_flows_page() -> None:
    with frame("Decision flows"):
        with ui.row().classes("w-full items-center"):
            ui.label("Decision flows").classes("text-2xl font-semibold grow")
            guard(ui.button("New decision flow", icon="add", on_click=lambda: dialog.open()).mark("new-flow"),
                  "editor")
        listing = PagedTable(COLUMNS, lambda limit, offset: offers.list_decision_flows(
            limit=limit, offset=offset), row=_row, noun=("decision flow", "decision flows"))
        listing.table.mark("flows-table").on(
            "rowClick", lambda e: ui.navigate.to(f"/decision-flows/{e.args[1]['id']}"))
        with ui.dialog() as dialog, ui.card().classes("w-[28rem]"):
            ui.label("New decision flow").classes("text-lg font-semibold")
            name = ui.input("Name").classes("w-full").mark("flow-name")
            flow_id = ui.input("Id (optional)").classes("w-full").mark("flow-id")

            async def create() -> None:
                try:
                    data = DecisionFlowIn(id=flow_id.value or None, name=name.value)
                    created = await run.io_bound(offers.create_decision_flow, data)
                except (ValueError, JourneysError) as error:
                    notify_problem(error)
                    return
                ui.navigate.to(f"/decision-flows/{created['id']}")

            dialog_actions(dialog, "Create", create, "create-flow")
        await listing.refresh()


@ui.page("/decision-flows/{flow_id}")
def decision_flow_page(flow_id: str) -> None:
    with frame("Decision flow"):
        flow = load_or_explain(lambda: offers.get_decision_flow(flow_id), "All decision flows",
                               "/decision-flows")
        if flow is None:
            return
        breadcrumb("Decision flows", "/decision-flows", flow["name"])
        with ui.row().classes("w-full gap-4 items-start no-wrap"):
            with ui.card().classes("grow"):
                FlowEditor(flow)
            with ui.card().classes("w-[34rem]"):
                _try_it(flow_id, flow["maxOffers"])


class FlowEditor:
    """The flow's settings: candidates, rules, contact policy, PRIE weights and maxOffers."""

    def __init__(self, flow: dict[str, Any]) -> None:
        self.flow_id = flow["id"]
        catalogue = {o["id"]: f"{o['name']} ({o['id']})" for o in offers.list_offers(limit=200)["data"]}
        self.name = ui.input("Name", value=flow["name"]).classes("w-full")
        self.description = ui.input("Description", value=flow["description"]).classes("w-full")
        ui.label("Candidates: these offers and every offer in these categories (neither: every offer)") \
            .classes("text-sm text-gray-500")
        self.offer_ids = ui.select(catalogue, value=list(flow["offerIds"]), multiple=True, label="Offers",
                                   with_input=True).props("use-chips").classes("w-full").mark("flow-offers")
        self.categories = ui.input_chips("Categories", value=list(flow["categories"]),
                                         new_value_mode="add-unique").classes("w-full").mark("flow-categories")
        ui.label('Rules, one per line: a CEL condition (false drops the offer), or '
                 '{"expression": "...", "relevance": 2} to weight offers that match') \
            .classes("text-sm text-gray-500")
        self.rules = ui.textarea("Rules", value="\n".join(
            rule if isinstance(rule, str) else json.dumps({k: v for k, v in rule.items() if v is not None})
            for rule in flow["rules"])).classes("w-full font-mono").props("autogrow").mark("flow-rules")
        policy, weights = flow["contactPolicy"] or {}, flow["weights"] or {}
        ui.label("Contact policy (blank: no cap)").classes("font-semibold")
        with ui.row():
            self.max_per_offer = ui.number("Max sends per offer", value=policy.get("maxPerOffer"), min=1) \
                .mark("flow-max-per-offer")
            self.window_days = ui.number("…within days", value=policy.get("windowDays", 7), min=0.1)
            self.max_per_day = ui.number("Max sends per day", value=policy.get("maxPerDay"), min=1)
        ui.label("PRIE weights: score = propensity^Wp × relevance^Wr × impact^Wi × emphasis^We") \
            .classes("font-semibold")
        with ui.row():
            self.weights = {name: ui.number(name.title(), value=weights.get(name, 1), min=0, step=0.1)
                            .classes("w-28") for name in ("propensity", "relevance", "impact", "emphasis")}
        self.max_offers = ui.number("Max offers", value=flow["maxOffers"], min=1, max=10).classes("w-32") \
            .mark("flow-max-offers")
        with ui.row():
            ui.button("Save", icon="save", on_click=self.save).mark("save-flow")
            guard(ui.button("Delete", icon="delete", color="negative", on_click=self.delete).props("outline"),
                  "admin")

    def rules_value(self) -> list[Any]:
        lines = [line.strip() for line in (self.rules.value or "").splitlines() if line.strip()]
        return [json.loads(line) if line.startswith("{") else line for line in lines]

    async def save(self) -> None:
        policy = {"maxPerOffer": _whole(self.max_per_offer.value), "windowDays": self.window_days.value or 7,
                  "maxPerDay": _whole(self.max_per_day.value)}
        try:
            data = DecisionFlowFields(
                name=self.name.value, description=self.description.value or "",
                offer_ids=self.offer_ids.value, categories=self.categories.value, rules=self.rules_value(),
                contact_policy=policy,
                weights={name: field.value or 0 for name, field in self.weights.items()},
                max_offers=_whole(self.max_offers.value))
            await run.io_bound(offers.update_decision_flow, self.flow_id, data)
        except (ValueError, JourneysError) as error:
            notify_problem(error)
            return
        ui.notify("Saved", type="positive")

    async def delete(self) -> None:
        try:
            await run.io_bound(offers.delete_decision_flow, self.flow_id)
        except JourneysError as error:  # a journey still uses it
            notify_problem(error)
            return
        ui.navigate.to("/decision-flows")


def _whole(value: float | None) -> int | None:
    return None if value is None else int(value)


def _try_it(flow_id: str, max_offers: int) -> None:
    ui.label("Try it").classes("text-lg font-semibold")
    suggestions = [c["id"] for c in customers.list_customers(limit=50)["data"]]
    with ui.row().classes("w-full items-end"):
        customer = ui.input("Customer id", autocomplete=suggestions).classes("grow").mark("try-customer")
        limit = ui.number("Limit", value=max_offers, min=1, max=10).classes("w-24")
        button = ui.button("Recommend", icon="play_arrow").mark("try-run")
    ranked = ui.table(columns=[column("rank", "#", "right"), column("name", "Offer"),
                               column("score", "Score", "right"), column("factors", "P · R · I · E")],
                      rows=[], row_key="offerId").props("flat dense").classes("w-full").mark("try-offers")
    ui.label("Dropped, and why").classes("text-sm font-semibold")
    trace = ui.table(columns=[column("offerId", "Offer"), column("rule", "Rule"),
                              column("reason", "Reason")], rows=[], row_key="key")
    trace.props("flat dense wrap-cells").classes("w-full").mark("try-trace")

    async def recommend() -> None:
        try:
            result = await run.io_bound(decisions.recommend, (customer.value or "").strip(), flow_id,
                                        _whole(limit.value))
        except JourneysError as error:
            notify_problem(error)
            return
        ranked.rows = [{"rank": n, "offerId": o["offerId"], "name": o["name"], "score": f"{o['score']:.4f}",
                        "factors": " · ".join(f"{v:.3g}" for v in o["factors"].values())}
                       for n, o in enumerate(result["offers"], start=1)]
        trace.rows = [{"key": n, **entry} for n, entry in enumerate(result["trace"])]
        if not result["offers"]:
            ui.notify("No offer survives for this customer", type="warning")

    button.on_click(recommend)
