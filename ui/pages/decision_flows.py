"""Decision flows: the list, and an edit page with a "try it" box (a customer's ranked offers and trace).

Candidates are picked by name (offers, categories); qualification and relevance rules are rows, each a
condition made with the condition builder (raw CEL one switch away)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nicegui import run, ui

from engine.audience import customers
from engine.audience.attributes import Attribute, customer_attributes
from engine.decisioning import decisions, offers
from engine.engine import Engine
from engine.errors import JourneysError
from engine.expressions import Limits
from models.offers import DecisionFlowFields, DecisionFlowIn
from ui.components.condition_builder import ConditionBuilder, offer_attributes
from ui.components.detail_header import breadcrumb
from ui.components.dialogs import dialog_actions
from ui.components.paged_table import PagedTable, column, notify_problem
from ui.dependencies import EngineDep
from ui.layout import frame, guard
from ui.page_load import first_read, first_read_of_item

PAGE_SIZE = 25  # decision flows per page of the list
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
async def decision_flows_page(engine: EngineDep) -> None:
    first = await first_read(offers.list_decision_flows, engine, None, PAGE_SIZE, 0)
    if first is None:  # still loading (the page says so) or the app is stopping
        return
    with frame("Decision flows"):
        with ui.row().classes("w-full items-center"):
            ui.label("Decision flows").classes("text-2xl font-semibold grow")
            guard(ui.button("New decision flow", icon="add", on_click=lambda: dialog.open()).mark("new-flow"),
                  "editor")
        listing = PagedTable(COLUMNS, lambda limit, offset: offers.list_decision_flows(
            engine, limit=limit, offset=offset), row=_row, page_size=PAGE_SIZE,
            noun=("decision flow", "decision flows"))
        listing.table.mark("flows-table").on(
            "rowClick", lambda e: ui.navigate.to(f"/decision-flows/{e.args[1]['id']}"))
        with ui.dialog() as dialog, ui.card().classes("w-[28rem]"):
            ui.label("New decision flow").classes("text-lg font-semibold")
            name = ui.input("Name").classes("w-full").mark("flow-name")
            flow_id = ui.input("Id (optional)").classes("w-full").mark("flow-id")

            async def create() -> None:
                try:
                    data = DecisionFlowIn(id=flow_id.value or None, name=name.value)
                    created = await run.io_bound(offers.create_decision_flow, engine, data)
                except (ValueError, JourneysError) as error:
                    notify_problem(error)
                    return
                ui.navigate.to(f"/decision-flows/{created['id']}")

            dialog_actions(dialog, "Create", create, "create-flow")
        listing.show(first)


@dataclass
class _Page:
    """What the edit page reads before it draws (off the event loop)."""

    flow: dict[str, Any]
    offers: list[dict[str, Any]]
    attributes: list[Attribute]
    customer_ids: list[str]


def _read(engine: Engine, flow_id: str) -> _Page:
    return _Page(offers.get_decision_flow(engine, flow_id), offers.list_offers(engine, limit=200)["data"],
                 customer_attributes(engine),
                 [c["id"] for c in customers.list_customers(engine, limit=50)["data"]])


@ui.page("/decision-flows/{flow_id}")
async def decision_flow_page(engine: EngineDep, flow_id: str) -> None:
    back = ("All decision flows", "/decision-flows")
    page = await first_read_of_item("Decision flow", back, _read, engine, flow_id)
    if page is None:  # unknown, still loading (the page says so) or the app is stopping
        return
    with frame("Decision flow"):
        breadcrumb("Decision flows", "/decision-flows", page.flow["name"])
        with ui.row().classes("w-full gap-4 items-start no-wrap"):
            with ui.card().classes("grow min-w-0"):
                FlowEditor(engine, page)
            with ui.card().classes("w-[34rem] shrink-0"):
                _try_it(engine, flow_id, page.flow["maxOffers"], page.customer_ids)


class FlowEditor:
    """The flow's settings: candidates, rules, contact policy, PRIE weights and maxOffers."""

    def __init__(self, engine: Engine, page: _Page) -> None:
        self.engine = engine
        flow = page.flow
        self.flow_id = flow["id"]
        catalogue = {o["id"]: f"{o['name']} ({o['id']})" if o["name"] != o["id"] else o["id"]
                     for o in page.offers}
        for offer_id in flow["offerIds"]:
            catalogue.setdefault(offer_id, f"{offer_id} (missing)")
        categories = sorted({o["category"] for o in page.offers if o["category"]} | set(flow["categories"]))
        self.name = ui.input("Name", value=flow["name"]).classes("w-full")
        self.description = ui.input("Description", value=flow["description"]).classes("w-full")
        ui.label("Candidates: these offers and every offer in these categories (neither: every offer)") \
            .classes("text-sm text-gray-500")
        self.offer_ids = ui.select(catalogue, value=list(flow["offerIds"]), multiple=True, label="Offers",
                                   with_input=True).props("use-chips").classes("w-full") \
            .mark("flow-offers")
        self.categories = ui.select(categories, value=list(flow["categories"]), multiple=True,
                                    label="Categories", with_input=True, new_value_mode="add-unique") \
            .props("use-chips").classes("w-full").mark("flow-categories")
        ui.label("Rules").classes("font-semibold")
        ui.label("A rule that must hold drops the offers it is false for; a boosting rule multiplies the "
                 "relevance of the offers it holds for.").classes("text-sm text-gray-500")
        self.attributes = [*page.attributes, *offer_attributes(categories)]
        self.rules = [_RuleDraft.of(rule) for rule in flow["rules"]]
        self.rules_box = ui.column().classes("w-full gap-2").mark("flow-rules")
        self._render_rules()
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

    def _render_rules(self) -> None:
        self.rules_box.clear()
        with self.rules_box:
            for index, rule in enumerate(self.rules):
                self._rule(index, rule)
            ui.button("Add rule", icon="add", on_click=self._add_rule).props("flat dense").mark("add-rule")

    def _add_rule(self) -> None:
        self.rules.append(_RuleDraft())
        self._render_rules()

    def _remove_rule(self, index: int) -> None:
        self.rules.pop(index)
        self._render_rules()

    def _rule(self, index: int, rule: _RuleDraft) -> None:
        marker = f"rule-{index}"
        with ui.card().classes("w-full p-2 gap-1").props("flat bordered").mark(marker):
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                ui.input("Name (optional)", value=rule.name,
                         on_change=lambda e: setattr(rule, "name", e.value or "")) \
                    .props("outlined dense").classes("grow").mark(f"{marker}-name")
                kind = ui.select(RULE_KINDS, value=rule.kind).props("outlined dense").classes("w-44") \
                    .mark(f"{marker}-kind")
                relevance = ui.number("× relevance", value=rule.relevance, min=0, step=0.5,
                                      on_change=lambda e: setattr(rule, "relevance", e.value)) \
                    .props("outlined dense").classes("w-32").mark(f"{marker}-relevance")
                relevance.set_visibility(rule.kind == BOOST)
                kind.on_value_change(lambda e: self._set_kind(rule, e.value, relevance))
                ui.button(icon="close", on_click=lambda: self._remove_rule(index)).props("flat round dense") \
                    .tooltip("Remove this rule").mark(f"{marker}-remove")
            ConditionBuilder(rule.expression, self.attributes, lambda text: setattr(rule, "expression", text),
                             limits=Limits.of(self.engine.settings), marker=marker)

    @staticmethod
    def _set_kind(rule: _RuleDraft, kind: str, relevance: ui.number) -> None:
        rule.kind = kind
        relevance.set_visibility(kind == BOOST)
        if kind == BOOST and rule.relevance is None:
            relevance.value = 2  # a boost needs a factor: start at twice as relevant

    def rules_value(self) -> list[Any]:
        """The rules as the flow stores them (a rule with no condition is left out)."""
        return [rule.stored() for rule in self.rules if rule.expression.strip()]

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
            await run.io_bound(offers.update_decision_flow, self.engine, self.flow_id, data)
        except (ValueError, JourneysError) as error:
            notify_problem(error)
            return
        ui.notify("Saved", type="positive")

    async def delete(self) -> None:
        try:
            await run.io_bound(offers.delete_decision_flow, self.engine, self.flow_id)
        except JourneysError as error:  # a journey still uses it
            notify_problem(error)
            return
        ui.navigate.to("/decision-flows")


def _whole(value: float | None) -> int | None:
    return None if value is None else int(value)


REQUIRE, BOOST = "require", "boost"
RULE_KINDS = {REQUIRE: "Must hold", BOOST: "Boosts relevance"}


@dataclass
class _RuleDraft:
    """One rule as edited: a plain CEL string is a rule that must hold; with a relevance it boosts."""

    expression: str = ""
    name: str = ""
    kind: str = REQUIRE
    relevance: float | None = None

    @classmethod
    def of(cls, rule: str | dict[str, Any]) -> _RuleDraft:
        if isinstance(rule, str):
            return cls(rule)
        relevance = rule.get("relevance")
        return cls(rule.get("expression") or "", rule.get("name") or "", BOOST if relevance is not None
                   else REQUIRE, relevance)

    def stored(self) -> str | dict[str, Any]:
        expression = self.expression.strip()
        if self.kind == BOOST:
            relevance = self.relevance if self.relevance is not None else 1
            return {"expression": expression, "relevance": relevance,
                    **({"name": self.name.strip()} if self.name.strip() else {})}
        return {"expression": expression, "name": self.name.strip()} if self.name.strip() else expression


def _try_it(engine: Engine, flow_id: str, max_offers: int, suggestions: list[str]) -> None:
    ui.label("Try it").classes("text-lg font-semibold")
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
            result = await run.io_bound(decisions.recommend, engine, (customer.value or "").strip(), flow_id,
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
