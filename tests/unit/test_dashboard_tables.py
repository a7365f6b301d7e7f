"""talkshop.analytics.dashboards: filters from a query string, and the CSV tables."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from talkshop.analytics.dashboards import AdminDashboard, Filters, admin_csv, parse_filters
from talkshop.analytics.model import Figures, ProductFigures
from talkshop.errors import InvalidInput

TODAY = date(2026, 11, 24)


def test_by_default_the_last_30_days_up_to_today() -> None:
    filters = parse_filters({}, TODAY)
    assert (filters.start, filters.end) == (date(2026, 10, 26), TODAY)
    assert filters.parameters() == {"from": "2026-10-26", "to": "2026-11-24"}
    assert filters.parameters(platform="web", to=None) == {"from": "2026-10-26", "platform": "web"}


def test_filters_read_every_parameter() -> None:
    filters = parse_filters(
        {
            "from": "2026-11-01",
            "to": "2026-11-02",
            "productId": "aero-lite",
            "creatorId": "nest",
            "platform": "acp",
        },
        TODAY,
    )
    assert filters == Filters(
        start=date(2026, 11, 1),
        end=date(2026, 11, 2),
        product_id="aero-lite",
        creator_id="nest",
        platform="acp",
    )
    assert filters.query().creator_id == "nest"


@pytest.mark.parametrize(
    ("parameters", "code"),
    [
        ({"to": "yesterday"}, "invalid_date"),
        ({"from": "2026-11-25", "to": "2026-11-24"}, "invalid_date_range"),
        ({"from": "2025-11-23"}, "invalid_date_range"),
        ({"platform": "WEB"}, "invalid_platform"),
        ({"creatorId": "a#b"}, "validation_error"),
    ],
)
def test_bad_parameters_are_refused_with_a_code(parameters: dict[str, str], code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_filters(parameters, TODAY)
    assert refused.value.code == code


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_stay_text() -> None:
    filters = parse_filters({}, TODAY)
    figures = Figures(
        query=filters.query(),
        currency="EUR",
        products=[ProductFigures(product_id="trap", creator_id="nest", revenue=100, view_to_click=0.5)],
    )
    dashboard = AdminDashboard(
        filters=filters,
        figures=figures,
        periods=[],
        product_names={"trap": '=HYPERLINK("https://evil.example","win")'},
        creator_names={},
    )
    name, text = admin_csv(dashboard, None)
    assert name == "talkshop-products-2026-10-26-2026-11-24.csv"
    header, row = list(csv.reader(io.StringIO(text)))
    assert header[11] == "revenue_eur_minor"
    assert row[1] == '\'=HYPERLINK("https://evil.example","win")'
    assert (row[11], row[12], row[13]) == ("100", "0.5000", "")
    assert text.endswith("\r\n")


def test_csv_cells_that_start_like_a_formula_after_spaces_or_a_line_break_stay_text() -> None:
    filters = parse_filters({}, TODAY)
    figures = Figures(
        query=filters.query(),
        currency="EUR",
        products=[
            ProductFigures(product_id=product_id, creator_id="nest")
            for product_id in ("spaces", "break", "plain")
        ],
    )
    names = {"spaces": "  =1+1", "break": "\n@SUM(A1)", "plain": "Grip - blue"}
    dashboard = AdminDashboard(
        filters=filters, figures=figures, periods=[], product_names=names, creator_names={}
    )
    _, text = admin_csv(dashboard, "products")
    rows = {row[0]: row[1] for row in list(csv.reader(io.StringIO(text)))[1:]}
    assert rows == {"spaces": "'  =1+1", "break": "'\n@SUM(A1)", "plain": "Grip - blue"}
