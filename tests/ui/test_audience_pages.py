"""Customers, segments, offers and decision-flow pages, driven through NiceGUI's simulated user."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from nicegui.testing import User

from engine import customers, segments
from models.audience import CustomerIn, SegmentIn


def _table_rows(user: User, marker: str) -> list[dict[str, Any]]:
    tables = [element for element in user.find(marker=marker).elements if isinstance(element, ui.table)]
    assert len(tables) == 1
    return tables[0].rows


async def test_customer_list_searches_and_pages(user: User) -> None:
    for n in range(30):
        city = "Berlin" if n % 3 else "Rome"
        customers.create_customer(CustomerIn(id=f"c{n:02d}", attributes={"city": city}))
    await user.open("/customers")
    await user.should_see("30 customers")
    assert len(_table_rows(user, "customers-table")) == 25

    user.find(marker="customer-search").type("rome")
    await user.should_see("10 customers")
    assert [row["id"] for row in _table_rows(user, "customers-table")][:3] == ["c00", "c03", "c06"]


async def test_customer_detail_shows_attributes_and_segments(user: User) -> None:
    segments.create_segment(SegmentIn(id="gold", name="Gold members", rule="customer.tier == 'gold'"))
    customers.create_customer(CustomerIn(id="ada", attributes={"tier": "gold", "age": 36}))
    await user.open("/customers/ada")
    await user.should_see("Gold members")
    assert {row["key"]: row["value"] for row in _table_rows(user, "attributes-table")} == {
        "age": "36", "tier": '"gold"'}


async def test_create_customer_dialog_reports_bad_json(user: User) -> None:
    await user.open("/customers")
    user.find(marker="new-customer").click()
    user.find(marker="new-customer-id").type("zed")
    user.find(marker="new-customer-attributes").clear().type("{broken")
    user.find(marker="create-customer").click()
    await user.should_see("Expecting property name")
    user.find(marker="new-customer-attributes").clear().type('{"tier": "gold"}')
    user.find(marker="create-customer").click()
    await user.should_see("Created zed")
    assert customers.get_customer("zed")["attributes"] == {"tier": "gold"}
