"""The editor's step-type registry: every step type has its panel module, in the palette's order."""

from __future__ import annotations

from engine.journeys.steps import KINDS
from ui.components.flow_model import TYPE_NAMES
from ui.components.step_panels import PANELS, STEP_STYLE


def test_every_step_type_has_a_panel_module_and_a_palette_entry_in_order() -> None:
    assert list(PANELS) == list(STEP_STYLE) == list(TYPE_NAMES) == list(KINDS)
