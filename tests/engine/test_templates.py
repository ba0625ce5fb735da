"""Sandboxed Jinja2 templates: variables in, nothing dangerous out."""

from __future__ import annotations

import pytest

from engine import templates
from engine.engine import Engine

CUSTOMER = {"id": "cus_ann", "name": "Ann", "tier": "gold", "segments": ["seg_vip"], "flags": {}}


def _vars(**results: object) -> dict[str, object]:
    """Variables as the send step queues them: the results under `context`, plus the event and journey."""
    seen = {"customer": {"name": "Stale"}, "context": dict(results), "event": {"type": "signup"},
            "journey": {"id": "jrn_1", "name": "Onboarding"}}
    return templates.variables(CUSTOMER, {"id": "off_tea", "name": "Green tea"}, seen,
                               {"id": "jrn_1", "enrollmentId": "enr_1", "stepId": "send1"})


def test_renders_customer_offer_journey_event_and_results(engine: Engine) -> None:
    source = ("{{ customer.name }} ({{ customer.tier }}): {{ offer.name }} via {{ journey.name }} "
              "{{ journey.stepId }} after {{ event.type }}, {{ best[0].name }}")
    assert templates.render(engine.settings, source, _vars(best=[{"name": "Tea"}])) == (
        "Ann (gold): Green tea via Onboarding send1 after signup, Tea")


def test_results_are_also_under_context(engine: Engine) -> None:
    assert templates.render(engine.settings, "{{ context.best | length }}", _vars(best=[1, 2])) == "2"


def test_results_cannot_shadow_customer_or_offer(engine: Engine) -> None:
    shadowing = _vars(customer={"name": "Mallory"}, offer={"name": "Fake"})
    assert templates.render(engine.settings, "{{ customer.name }} {{ offer.name }}", shadowing) == (
        "Ann Green tea")


def test_missing_values_render_empty(engine: Engine) -> None:
    source = "[{{ customer.nickname }}|{{ nothing.deeper.still }}]"
    assert templates.render(engine.settings, source, _vars()) == "[|]"


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ customer.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ offer.items.__self__.__class__ }}",
])
def test_reaching_python_internals_fails_safely(engine: Engine, source: str) -> None:
    with pytest.raises(templates.TemplateError, match="unsafe"):
        templates.render(engine.settings, source, _vars())


@pytest.mark.parametrize("source", [
    "{{ 'x' * 10000000 }}", "{{ 2 ** 1000 }}", "{{ ((9 ** 99) ** 99) ** 99 }}",
    "{% for i in range(10**7) %}{% endfor %}",
])
def test_runaway_sizes_are_refused(engine: Engine, source: str) -> None:
    with pytest.raises(templates.TemplateError):
        templates.render(engine.settings, source, _vars())


def test_runtime_error_is_a_template_error_with_the_reason(engine: Engine) -> None:
    with pytest.raises(templates.TemplateError, match="division by zero"):
        templates.render(engine.settings, "{{ 1 / 0 }}", _vars())


def test_check_names_syntax_errors_and_accepts_good_templates() -> None:
    assert "line 1" in templates.check("Hi {{ customer.name ")
    assert templates.check("{% if customer.tier == 'gold' %}Hi{% endif %}") is None


# ---- budgets: time and output per render -----------------------------------------------------------------

LOOPS = ("{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}"
         "BODY{% endfor %}{% endfor %}{% endfor %}")


@pytest.fixture
def quick_limit(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setattr(engine.settings, "template_time_limit", 0.2)
    monkeypatch.setattr(engine.settings, "template_max_output", 10_000)
    return engine


@pytest.mark.parametrize(("body", "reason"), [
    ("", "rendering took longer than the limit of 0.2 s"),
    ("{{ missing }}", "rendering took longer than the limit of 0.2 s"),  # output, all of it empty
    ("x", "output longer than the limit of 10000 characters"),
])
def test_three_nested_range_loops_stop_at_a_limit(
        engine: Engine, quick_limit: Engine, body: str, reason: str) -> None:
    with pytest.raises(templates.TemplateError, match=reason):
        templates.render(engine.settings, LOOPS.replace("BODY", body), _vars())


def test_a_loop_over_a_ready_made_list_stops_too(engine: Engine, quick_limit: Engine) -> None:
    source = ("{% set xs = range(100000) | list %}{% for a in xs %}{% for b in xs %}{% endfor %}{% endfor %}")
    with pytest.raises(templates.TemplateError, match="longer than the limit"):
        templates.render(engine.settings, source, _vars())


def test_output_is_cut_at_the_size_limit(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine.settings, "template_max_output", 1000)
    hundred = "{% for i in range(100) %}0123456789{% endfor %}"
    assert len(templates.render(engine.settings, hundred, _vars())) == 1000
    with pytest.raises(templates.TemplateError, match="output longer than the limit of 1000 characters"):
        templates.render(engine.settings, "{% for i in range(101) %}0123456789{% endfor %}", _vars())


@pytest.mark.parametrize("source", [
    "{{ 'a'.ljust(1000000000) }}", "{{ 'a'.center(width=1000000000) }}", "{{ '%999999999d' % 1 }}",
    "{{ '{:>999999999}'.format(1) }}", "{{ 'x' | center(1000000000) }}", "{{ 'x' | indent(1000000000) }}",
    "{{ '%999999999d' | format(1) }}", "{{ range(3) | slice(1000000000) | list }}",
])
def test_one_call_cannot_build_a_string_past_the_limit(engine: Engine, source: str) -> None:
    with pytest.raises(templates.TemplateError, match="output limit"):
        templates.render(engine.settings, source, _vars())


def test_ordinary_widths_and_filters_still_work(engine: Engine) -> None:
    source = "{{ '%3d' % 4 }}|{{ '{:>3}'.format(5) }}|{{ 'ab' | center(6) }}|{{ 'order 123456789' }}"
    assert templates.render(engine.settings, source, _vars()) == "  4|  5|  ab  |order 123456789"


def test_a_render_leaves_the_threads_tracer_as_it_was(engine: Engine) -> None:
    import sys

    before = sys.gettrace()
    templates.render(engine.settings, "{% for i in range(3) %}{{ i }}{% endfor %}", _vars())
    assert sys.gettrace() is before
