"""CEL: prepared scopes and bound offers give the same answers as plain variables; the cost budget refuses
a costly rule at save and at run."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import expressions
from engine.audience import segments
from engine.engine import Engine
from engine.errors import Invalid
from engine.expressions import (
    ExpressionError,
    Limits,
    Scope,
    bind,
    check,
    evaluate,
    failure,
    fields,
    is_true,
    program,
    project,
)
from models.audience import SegmentIn

# Six nested maps over ten elements: a million iterations per customer (the rule that held a segment save
# for 153 s and the database with it).
DIGITS = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
NESTED_MAPS = (f"{DIGITS}.map(a, {DIGITS}.map(b, {DIGITS}.map(c, {DIGITS}.map(d, {DIGITS}.map(e, "
               f"{DIGITS}.map(f, a + b + c + d + e + f)))))).size() > 0")

CONDITIONS = [
    "customer.age >= 30", "customer.country in ['DE', 'FR']",
    "customer.tier == 'gold' || customer.spend > 100.0",
    "customer.missing > 1", "'vip' in customer.tags", "has(customer.nickname)", "customer.age / 0 > 1",
    "size(customer) > 2", "customer['age'] < 50", "customer.tags.exists(t, t.startsWith('v'))",
    "customer.age", "now > timestamp('2020-01-01T00:00:00Z')",
]
OFFER_RULES = [
    "offer.businessValue < 100.0 && customer.age > 20", "offer.category == customer.tier",
    "offer.name.startsWith('Gold') || customer.spend > offer.priority", "offer.startDate < now",
    "has(offer.endDate) && offer.endDate > now", "offer.missing == 1 || customer.age > 3",
    "offer.propensity * 2.0 > 0.5", "size(offer) > 3 && customer.age > 1",
]

customer_values = st.fixed_dictionaries({
    "age": st.integers(min_value=-5, max_value=120),
    "country": st.sampled_from(["DE", "FR", "NL", "", "é\"'\\"]),
    "tier": st.sampled_from(["gold", "silver", "bronze"]),
    "spend": st.floats(allow_nan=False, allow_infinity=False, width=64),
    "tags": st.lists(st.sampled_from(["vip", "new", "x"]), max_size=4),
}, optional={"nickname": st.text(max_size=5)})
offer_values = st.fixed_dictionaries({
    "id": st.text(min_size=1, max_size=8), "name": st.text(max_size=12),
    "category": st.sampled_from(["gold", "b"]),
    "businessValue": st.floats(allow_nan=False, allow_infinity=False, width=64),
    "priority": st.floats(min_value=-10, max_value=10), "propensity": st.floats(min_value=0, max_value=1),
}, optional={"startDate": st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)),
             "endDate": st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1))})
NOW = datetime(2026, 6, 1, 12, 0, 0)


def _outcome(engine: Engine, expression: str, variables: dict[str, Any] | Scope) -> tuple[str, Any]:
    try:
        return "value", evaluate(engine, expression, variables)
    except ExpressionError as error:
        return "error", str(error)


# The engine is only read (its settings' cost limit), so one engine serves every generated example.
ONE_ENGINE = settings(max_examples=150, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


@ONE_ENGINE
@given(customer=customer_values)
def test_a_prepared_trimmed_scope_answers_like_plain_variables(
        engine: Engine, customer: dict[str, Any]) -> None:
    for expression in CONDITIONS:
        plain = _outcome(engine, expression, {"customer": customer, "now": NOW})
        scope = Scope({"customer": project(customer, fields(expression, "customer")), "now": NOW})
        assert _outcome(engine, expression, scope) == plain, expression


@ONE_ENGINE
@given(customer=customer_values, offer=offer_values)
def test_an_offer_bound_into_the_program_answers_like_the_offer_variable(
        engine: Engine, customer: dict[str, Any], offer: dict[str, Any]) -> None:
    scope = Scope({"customer": customer, "now": NOW})
    for expression in OFFER_RULES:
        plain = _outcome(engine, expression, {"customer": customer, "now": NOW, "offer": offer})
        source = bind(expression, "offer", offer)
        assert source is not None
        assert _outcome(engine, source, scope) == plain, (expression, source)


def test_fields_name_what_is_read_or_none_when_the_map_is_used_whole() -> None:
    assert fields("customer.age > 3 && has(customer.tier)", "customer") == {"age", "tier"}
    assert fields("customer['age'] > 3", "customer") is None
    assert fields("size(customer) > 3", "customer") is None
    assert fields("now > now", "customer") == frozenset()


def test_values_without_a_literal_form_are_not_bound() -> None:
    assert bind("offer.x > 1", "offer", {"x": float("inf")}) is None
    assert bind("offer.x > 1", "offer", {"x": [1, 2]}) is None


def test_nested_maps_over_a_million_steps_are_refused_with_the_cost(engine: Engine) -> None:
    reason = check(NESTED_MAPS, Limits.of(engine.settings))
    assert reason is not None and reason.startswith("too costly")


def test_nested_comprehensions_over_input_lists_are_refused_but_one_level_is_fine(engine: Engine) -> None:
    limits = Limits.of(engine.settings)
    assert check("customer.xs.map(a, customer.xs.map(b, a + b)).size() > 0", limits) is not None
    assert check("customer.xs.exists(a, a > 3)", limits) is None
    # An inner loop over the outer element's own list shares the input's elements: no product.
    assert check("customer.orders.exists(o, o.items.exists(i, i == 'x'))", limits) is None
    assert check(f"{DIGITS}.map(a, {DIGITS}.map(b, a + b)).size() > 0", limits) is None


def test_segment_with_a_too_costly_rule_is_refused_before_any_customer_is_evaluated(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    evaluated: list[str] = []
    monkeypatch.setattr(segments, "rebuild", lambda *args: evaluated.append("rebuild") or 0)
    with pytest.raises(Invalid) as refused:
        segments.create_segment(engine, SegmentIn(name="bomb", rule=NESTED_MAPS))
    assert refused.value.details.get("field") == "rule"
    assert "too costly" in str(refused.value)
    assert evaluated == []


def test_a_stored_rule_over_the_budget_for_its_inputs_fails_without_running(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    rule = "customer.xs.map(a, customer.xs.map(b, a + b)).size() > 0"
    monkeypatch.setattr(engine.settings, "cel_cost_limit", 10_000)
    small = {"customer": {"xs": list(range(10))}}
    assert is_true(engine, rule, small) == (True, None)
    value, reason = is_true(engine, rule, {"customer": {"xs": list(range(2000))}})
    assert value is False
    assert reason is not None and "too costly for these inputs" in reason


def test_cost_limit_comes_from_the_settings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    expression = f"{DIGITS}.map(a, {DIGITS}.map(b, a + b)).size() > 0"
    assert check(expression, Limits.of(engine.settings)) is None
    monkeypatch.setattr(engine.settings, "cel_cost_limit", 100)
    assert check(expression, Limits.of(engine.settings)) is not None


def test_a_stored_rule_of_nested_literal_maps_is_refused_at_run_not_run(engine: Engine) -> None:
    value, reason = expressions.is_true(engine, NESTED_MAPS, {})
    assert value is False
    assert reason is not None and "too costly" in reason


def test_timestamps_bind_as_utc_like_the_variable(engine: Engine) -> None:
    offer = {"startDate": NOW - timedelta(microseconds=1)}
    source = bind("offer.startDate < now", "offer", offer)
    assert source is not None
    assert evaluate(engine, source, Scope({"now": NOW})) is True


def test_equal_values_of_different_types_bind_as_their_own_literals() -> None:
    sources = {bind("offer.x == customer.x", "offer", {"x": value}) for value in (1, 1.0, True)}
    assert len(sources) == 3


@pytest.mark.parametrize("expression",
                         ["customer.age >= 18", "customer.missing == 1", "customer.age / 0 == 1"])
def test_a_program_run_directly_answers_as_evaluate_does(engine: Engine, expression: str) -> None:
    scope = Scope({"customer": {"age": 30}})
    execute = program(expression)
    assert execute is not None
    try:
        direct: Any = execute(scope.context)
    except Exception as error:
        direct = ("error", str(failure(error)))
    try:
        expected: Any = evaluate(engine, expression, scope)
    except ExpressionError as error:
        expected = ("error", str(error))
    assert direct == expected


def test_no_direct_program_for_what_does_not_compile_or_needs_the_budget() -> None:
    assert program("customer.age +") is None
    assert program("customer.tags.exists(t, t == 'vip')") is None  # loops over an input: budget checked
    assert program(NESTED_MAPS) is None
