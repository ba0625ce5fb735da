"""The condition builder: rows of attribute · operator · value over the attributes customers actually have,
written as CEL, with a switch to edit the CEL by hand (hand-written CEL the rows cannot show stays raw)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from nicegui import ui

from engine.audience.attributes import Attribute
from engine.expressions import Limits
from ui.components.conditions import NO_VALUE, Row, from_cel, operators_for, to_cel, value_problem
from ui.components.step_panels_base import cel_field

BUILDER, RAW = "builder", "cel"
# What conditions read besides customer attributes (the test run and history show their values).
OUTCOME = Attribute("outcome", "string", examples=("click", "conversion", "dismiss"))
EVENT_TYPE = Attribute("event.type", "string")


def offer_attributes(categories: Sequence[str] = ()) -> list[Attribute]:
    """What a decision rule or an offer's eligibility can read about the offer being decided."""
    return [
        Attribute("offer.id", "string"), Attribute("offer.name", "string"),
        Attribute("offer.category", "string", examples=tuple(sorted(set(categories)))),
        Attribute("offer.businessValue", "number"), Attribute("offer.priority", "number"),
        Attribute("offer.propensity", "number"),
    ]


class ConditionBuilder:
    """One CEL condition, edited as rows (all must hold) or as raw CEL; `on_change` gets the CEL text, and
    the raw field checks it against the engine's `limits`.

    Markers (with `marker` as prefix): `-mode` the Builder/CEL switch, `-row-N-attribute|operator|value`,
    `-row-N-remove`, `-add-row`, `-cel` the raw field and `-cel-feedback` its syntax verdict."""

    def __init__(self, expression: str, attributes: Sequence[Attribute], on_change: Callable[[str], None], *,
                 limits: Limits, readonly: bool = False, marker: str = "condition") -> None:
        self.attributes = {attribute.path: attribute for attribute in attributes}
        self.kinds = {path: attribute.kind for path, attribute in self.attributes.items()}
        self.on_change = on_change
        self.readonly = readonly
        self.marker = marker
        self.writing = False  # the rows are writing the raw field: do not read the rows back from it
        parsed = from_cel(expression, self.kinds)
        self.rows: list[Row] = parsed or [Row()]
        with ui.column().classes("w-full gap-1"):
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                self.mode = (
                    ui.toggle({BUILDER: "Builder", RAW: "CEL"}, value=BUILDER if parsed is not None else RAW,
                              on_change=lambda e: self._switch(e.value))
                    .props("dense no-caps unelevated size=sm toggle-color=primary")
                    .mark(f"{marker}-mode")
                )
                self.note = ui.label().classes("text-xs text-grey-7")
            self.rows_box = ui.column().classes("w-full gap-1")
            self.preview = ui.label().classes("text-xs font-mono text-grey-7 break-all") \
                .mark(f"{marker}-preview")
            self.raw = cel_field("CEL", expression, self._raw_changed, readonly=readonly,
                                 marker=f"{marker}-cel", limits=limits)
        self._show()

    # ---- modes ------------------------------------------------------------------------------------------

    def _switch(self, mode: str) -> None:
        if mode == BUILDER:
            rows = from_cel(self.raw.value or "", self.kinds)
            if rows is None:
                ui.notify("The builder cannot show this hand-written CEL as rows: edit it as CEL",
                          type="warning")
                self.mode.value = RAW
                return
            self.rows = rows or [Row()]
        self._show()

    def _show(self) -> None:
        builder = self.mode.value == BUILDER
        self.raw.set_visibility(not builder)
        self.preview.set_visibility(builder)
        self.preview.text = self.raw.value or ""
        self.note.text = "" if builder else "Raw CEL (customer, offer, outcome, event, now)"
        self._render_rows()

    def _raw_changed(self, text: str) -> None:
        self.on_change(text)
        self.preview.text = text
        if self.writing or self.mode.value != BUILDER:
            return
        rows = from_cel(text, self.kinds)  # set from outside (a test, an undo): show it as rows if it can
        if rows is None:
            self.mode.value = RAW
        else:
            self.rows = rows or [Row()]
            self._render_rows()

    # ---- rows -------------------------------------------------------------------------------------------

    def _write(self) -> None:
        self.writing = True
        try:
            self.raw.value = to_cel(self.rows, self.kinds)
        finally:
            self.writing = False

    def _render_rows(self) -> None:
        self.rows_box.clear()
        if self.mode.value != BUILDER:
            return
        with self.rows_box:
            for index, row in enumerate(self.rows):
                self._row(index, row)
            if not self.readonly:
                ui.button("And…", icon="add", on_click=self._add).props("flat dense size=sm") \
                    .mark(f"{self.marker}-add-row").tooltip("Add a condition that must hold as well")

    def _add(self) -> None:
        self.rows.append(Row())
        self._render_rows()

    def _remove(self, index: int) -> None:
        self.rows.pop(index)
        if not self.rows:
            self.rows.append(Row())
        self._write()
        self._render_rows()

    def _attribute_options(self, current: str) -> dict[str, str]:
        options = {path: f"{path.removeprefix('customer.')} · {attribute.kind}"
                   for path, attribute in self.attributes.items()}
        if current and current not in options:
            options = {current: current, **options}
        return options

    def _row(self, index: int, row: Row) -> None:
        marker = f"{self.marker}-row-{index}"
        kind = self.kinds.get(row.attribute.strip())
        operators = operators_for(kind)
        if row.operator not in operators:
            row.operator = next(iter(operators))
        examples = list(self.attributes[row.attribute].examples) if row.attribute in self.attributes else []
        # Attribute, operator and value on one line where there is room; in the narrow step panel the value
        # moves to a line of its own.
        with ui.row().classes("w-full gap-1 items-start"):
            attribute = (
                ui.select(self._attribute_options(row.attribute), value=row.attribute or None,
                          label="Attribute", with_input=True, new_value_mode="add-unique")
                .props("outlined dense hide-selected fill-input input-debounce=0 options-dense")
                .classes("grow basis-40")
                .mark(f"{marker}-attribute")
            )
            operator = (
                ui.select(operators, value=row.operator).props("outlined dense options-dense").classes("w-32")
                .mark(f"{marker}-operator")
            )
            value = (
                ui.input("Value" if row.operator != "in" else "Values, comma-separated", value=row.value,
                         autocomplete=examples,
                         validation=lambda text: value_problem(text or "", self.kinds.get(row.attribute),
                                                               row.operator))
                .props("outlined dense")
                .classes("grow basis-40")
                .mark(f"{marker}-value")
            )
            value.set_visibility(row.operator not in NO_VALUE)
            if row.value:
                value.validate()  # a stored value of the wrong kind shows at once
            remove = ui.button(icon="close", on_click=lambda: self._remove(index)).props("flat round dense") \
                .tooltip("Remove this condition").mark(f"{marker}-remove")
        if self.readonly:
            for element in (attribute, operator, value, remove):
                element.disable()

        def changed(field: str, new: str | None, redraw: bool) -> None:
            setattr(row, field, (new or "").strip() if field == "attribute" else new or "")
            self._write()
            if redraw:  # another attribute or operator: other operators, value suggestions, value field
                self._render_rows()

        attribute.on_value_change(lambda e: changed("attribute", e.value, True))
        operator.on_value_change(lambda e: changed("operator", e.value, True))
        value.on_value_change(lambda e: changed("value", e.value, False))
