"""Sandboxed Jinja2 templates: variables in, nothing dangerous out."""

from __future__ import annotations

import pytest

from engine.delivery import templates

CUSTOMER = {"id": "cus_ann", "name": "Ann", "tier": "gold", "segments": ["seg_vip"], "flags": {}}


def _vars(**results: object) -> dict[str, object]:
    """Variables as the send step queues them: the results under `context`, plus the event and journey."""
    seen = {"customer": {"name": "Stale"}, "context": dict(results), "event": {"type": "signup"},
            "journey": {"id": "jrn_1", "name": "Onboarding"}}
    return templates.variables(CUSTOMER, {"id": "off_tea", "name": "Green tea"}, seen,
                               {"id": "jrn_1", "enrollmentId": "enr_1", "stepId": "send1"})


def test_renders_customer_offer_journey_event_and_results() -> None:
    source = ("{{ customer.name }} ({{ customer.tier }}): {{ offer.name }} via {{ journey.name }} "
              "{{ journey.stepId }} after {{ event.type }}, {{ best[0].name }}")
    assert templates.render(source, _vars(best=[{"name": "Tea"}])) == (
        "Ann (gold): Green tea via Onboarding send1 after signup, Tea")


def test_results_are_also_under_context() -> None:
    assert templates.render("{{ context.best | length }}", _vars(best=[1, 2])) == "2"


def test_results_cannot_shadow_customer_or_offer() -> None:
    assert templates.render("{{ customer.name }} {{ offer.name }}", _vars(customer={"name": "Mallory"},
                                                                          offer={"name": "Fake"})) == (
        "Ann Green tea")


def test_missing_values_render_empty() -> None:
    assert templates.render("[{{ customer.nickname }}|{{ nothing.deeper.still }}]", _vars()) == "[|]"


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ customer.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ offer.items.__self__.__class__ }}",
])
def test_reaching_python_internals_fails_safely(source: str) -> None:
    with pytest.raises(templates.TemplateError, match="unsafe"):
        templates.render(source, _vars())


@pytest.mark.parametrize("source", [
    "{{ 'x' * 10000000 }}", "{{ 2 ** 1000 }}", "{{ ((9 ** 99) ** 99) ** 99 }}",
    "{% for i in range(10**7) %}{% endfor %}",
])
def test_runaway_sizes_are_refused(source: str) -> None:
    with pytest.raises(templates.TemplateError):
        templates.render(source, _vars())


def test_runtime_error_is_a_template_error_with_the_reason() -> None:
    with pytest.raises(templates.TemplateError, match="division by zero"):
        templates.render("{{ 1 / 0 }}", _vars())


def test_check_names_syntax_errors_and_accepts_good_templates() -> None:
    assert "line 1" in templates.check("Hi {{ customer.name ")
    assert templates.check("{% if customer.tier == 'gold' %}Hi{% endif %}") is None
