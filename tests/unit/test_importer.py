"""Catalog import: formats, line-accurate errors, all-or-nothing writes and idempotent re-imports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from talkshop.auth import ADMIN, ANONYMOUS
from talkshop.catalog.importer import CatalogImporter, ImportRejected, derived_product_id
from talkshop.catalog.service import CatalogService
from talkshop.data.repository import Repository
from tests.conftest import table_snapshot

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def catalog(repository: Repository, clock: Any) -> CatalogService:
    return CatalogService(repository, clock)


@pytest.fixture
def importer(catalog: CatalogService) -> CatalogImporter:
    return CatalogImporter(catalog)


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return path


def test_json_import_creates_products_and_creators(
    importer: CatalogImporter, catalog: CatalogService
) -> None:
    report = importer.import_file(FIXTURES / "import-products.json")
    bag_id = derived_product_id("second-shop", "No Id Bag")
    assert sorted(report.created) == sorted(["alpha-round", "grip-pack", bag_id])
    assert report.creators_created == ["importer-shop", "second-shop"]
    product = catalog.get_product("alpha-round", ANONYMOUS)
    assert product.price == 6995
    assert product.ai_often_bought_with == ["grip-pack"]
    assert catalog.get_product(bag_id, ANONYMOUS).stock == 0
    assert catalog.creators.get("second-shop") is not None


def test_reimporting_the_same_file_changes_nothing(importer: CatalogImporter, table: Any) -> None:
    importer.import_file(FIXTURES / "import-products.json")
    before = table_snapshot(table)
    report = importer.import_file(FIXTURES / "import-products.json")
    assert report.created == report.updated == []
    assert len(report.unchanged) == 3
    assert table_snapshot(table) == before


def test_changed_rows_are_updated(importer: CatalogImporter, catalog: CatalogService, tmp_path: Path) -> None:
    importer.import_file(FIXTURES / "import-products.json")
    rows = json.loads((FIXTURES / "import-products.json").read_text())
    rows[1]["price"] = 999
    report = importer.import_file(write(tmp_path, "changed.json", rows))
    assert report.updated == ["grip-pack"]
    product = catalog.get_product("grip-pack", ANONYMOUS)
    assert (product.price, product.version) == (999, 2)


def test_bad_rows_are_reported_with_lines_and_nothing_is_written(
    importer: CatalogImporter, table: Any, tmp_path: Path
) -> None:
    rows = json.loads((FIXTURES / "import-products.json").read_text())
    rows[1]["price"] = -5
    rows[2]["shade"] = "blue"
    path = write(tmp_path, "bad.json", rows)
    before = table_snapshot(table)
    with pytest.raises(ImportRejected) as rejected:
        importer.import_file(path)
    text = path.read_text().splitlines()
    lines = {error.line for error in rejected.value.errors}
    # Each error points at the line where its product's object opens.
    assert all(text[line - 1].strip() == "{" for line in lines)
    assert len(lines) == 2
    reasons = " ".join(error.reason for error in rejected.value.errors)
    assert "price" in reasons
    assert "shade" in reasons
    assert table_snapshot(table) == before


def test_unknown_links_and_duplicates_are_rejected(
    importer: CatalogImporter, table: Any, tmp_path: Path
) -> None:
    rows = json.loads((FIXTURES / "import-products.json").read_text())
    rows[0]["ai_similar_products"] = ["ghost"]
    rows.append(dict(rows[1]))
    before = table_snapshot(table)
    with pytest.raises(ImportRejected) as rejected:
        importer.import_file(write(tmp_path, "links.json", rows))
    reasons = [error.reason for error in rejected.value.errors]
    assert any("repeats" in reason for reason in reasons)
    with pytest.raises(ImportRejected) as rejected:
        importer.import_file(write(tmp_path, "links.json", rows[:-1]))
    assert "ghost" in rejected.value.errors[0].reason
    assert table_snapshot(table) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"name": "not an array"}', "array"),
        ('[{"name": "x",}]', "invalid JSON"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_malformed_json_files(importer: CatalogImporter, tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(ImportRejected) as rejected:
        importer.import_file(write(tmp_path, "broken.json", content))
    assert message in str(rejected.value)


def test_csv_import(importer: CatalogImporter, catalog: CatalogService) -> None:
    report = importer.import_file(FIXTURES / "import-products.csv")
    assert sorted(report.created) == ["csv-balls", "csv-control"]
    control = catalog.get_product("csv-control", ANONYMOUS)
    assert control.reviews[0].text == "Precise, | and light"
    assert control.attributes == {"weight_g": 360, "shape": "teardrop"}
    assert control.ai_keywords == ["control", "teardrop"]
    assert control.ai_comparison_points == {"balance": "medium, stable on volleys"}
    assert catalog.get_product("csv-balls", ANONYMOUS).rating is None


def test_csv_errors_name_the_file_line(importer: CatalogImporter, table: Any, tmp_path: Path) -> None:
    content = (FIXTURES / "import-products.csv").read_text().replace(",599,", ",five euros,")
    with pytest.raises(ImportRejected) as rejected:
        importer.import_file(write(tmp_path, "bad.csv", content))
    # The header is line 1 and the first product spans one line, so the balls are on line 3; the bad
    # cell is reported once, not again by the validation of the price it could not become.
    assert [error.line for error in rejected.value.errors] == [3]
    assert "whole number" in rejected.value.errors[0].reason
    assert table_snapshot(table) == []


def test_shopify_export(importer: CatalogImporter, catalog: CatalogService) -> None:
    report = importer.import_file(FIXTURES / "shopify-export.csv", creator_id="sol-store")
    assert sorted(report.created) == ["court-shoe", "tour-bag"]
    shoe = catalog.get_product("court-shoe", ANONYMOUS)
    assert shoe.price == 8995  # the cheapest variant
    assert shoe.stock == 8  # negative inventory counts as none
    assert shoe.description == "Grippy omni sole & light."
    assert shoe.category == "padel-shoes"
    assert shoe.attributes == {"Size": "41, 42, 43"}
    assert [image.alt for image in shoe.images] == ["Court shoe side view", "Court Shoe"]
    assert shoe.ai_tags == ["shoes", "omni"]
    bag = catalog.get_product("tour-bag", ADMIN)
    assert bag.status == "draft"
    assert bag.attributes == {}


def test_shopify_export_needs_a_creator(importer: CatalogImporter) -> None:
    with pytest.raises(ImportRejected, match="--creator"):
        importer.import_file(FIXTURES / "shopify-export.csv")


def test_a_failure_in_a_later_transaction_undoes_the_earlier_ones(
    importer: CatalogImporter,
    repository: Repository,
    table: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    importer.import_file(FIXTURES / "import-products.json")
    before = table_snapshot(table)
    rows = [
        {
            "id": f"bulk-{number}",
            "name": f"Bulk {number}",
            "brand": "B",
            "category": "padel-balls",
            "creator_id": "importer-shop",
            "price": 500 + number,
            "currency": "EUR",
            "stock": 1,
        }
        for number in range(100)
    ]
    rows.append({**json.loads((FIXTURES / "import-products.json").read_text())[1], "price": 1})
    path = write(tmp_path, "bulk.json", rows)
    original = Repository.transact
    calls = {"count": 0}

    def fail_third_transaction(self: Repository, requests: list[dict[str, Any]]) -> None:
        calls["count"] += 1
        if calls["count"] == 3:
            raise RuntimeError("simulated outage")
        original(self, requests)

    monkeypatch.setattr(Repository, "transact", fail_third_transaction)
    with pytest.raises(RuntimeError, match="simulated outage"):
        importer.import_file(path)
    monkeypatch.setattr(Repository, "transact", original)
    assert calls["count"] > 3  # the undo ran
    assert table_snapshot(table) == before
    report = importer.import_file(path)
    assert len(report.created) == 100
    assert report.updated == ["grip-pack"]


def test_csv_rows_with_multi_line_cells_are_reported_by_their_first_line(
    importer: CatalogImporter, tmp_path: Path
) -> None:
    content = (
        "id,name,brand,category,creator_id,description,price,currency\n"
        'a,First,B,padel-balls,shop,"line one\nline two\nline three",100,EUR\n'
        "b,Second,B,padel-balls,shop,short,-1,EUR\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        importer.import_file(write(tmp_path, "multi.csv", content))
    assert [error.line for error in rejected.value.errors] == [5]


def test_shopify_prices_follow_the_currencys_minor_unit(
    importer: CatalogImporter, catalog: CatalogService, tmp_path: Path
) -> None:
    content = (FIXTURES / "shopify-export.csv").read_text()
    importer.import_file(
        write(tmp_path, "yen.csv", content.replace("89.95", "8995").replace("94.95", "9495")),
        creator_id="jp",
        currency="JPY",
    )
    assert catalog.get_product("court-shoe", ANONYMOUS).price == 8995


def test_a_shopify_price_that_is_not_a_number_is_a_row_error(
    importer: CatalogImporter, tmp_path: Path
) -> None:
    content = (FIXTURES / "shopify-export.csv").read_text().replace("59.00", "NaN")
    with pytest.raises(ImportRejected) as rejected:
        importer.import_file(write(tmp_path, "nan.csv", content), creator_id="shop")
    assert [str(error) for error in rejected.value.errors] == [
        "line 5: price: Variant Price 'NaN' is not a number"
    ]


def test_a_shopify_product_is_reported_by_the_line_it_starts_on(
    importer: CatalogImporter, tmp_path: Path
) -> None:
    header, first, *rest = (FIXTURES / "shopify-export.csv").read_text().splitlines()
    body = "<p>Grippy <strong>omni</strong> sole &amp; light.</p>"
    broken_shoe = first.replace(body, "<p>Grippy\nsole</p>").replace("89.95", "abc")
    content = "\n".join([header, broken_shoe, *rest]) + "\n"
    with pytest.raises(ImportRejected) as rejected:
        importer.import_file(write(tmp_path, "multi.csv", content), creator_id="shop")
    # The shoe's first row spans lines 2 and 3; the product is named by the line it starts on.
    assert [error.line for error in rejected.value.errors] == [2]
