"""Catalog import from JSON, Talkshop CSV and Shopify's product CSV export.

An import is all-or-nothing: every row is parsed and validated first, and any bad row (with its
line and reason) stops the import before a single write. Writes are then committed in transactions
and undone if a later one fails. Re-importing the same file changes nothing: products whose content
is unchanged are skipped, and products without an id get one derived from their creator and name.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from talkshop.catalog.model import ProductInput, minor_unit_digits
from talkshop.catalog.service import CatalogService, product_data, product_ref
from talkshop.data.repository import MAX_TRANSACTION_ITEMS, UnitOfWork
from talkshop.errors import InvalidInput, TalkshopError
from talkshop.ontology.model import Dimension, EntityRef, Event, EventType
from talkshop.text import slugify

# Operations a staged product (item, owned_by edge, event) and creator (person, group, edge, event)
# take: a transaction never splits one of them.
_OPERATIONS_PER_PRODUCT = 3
_OPERATIONS_PER_CREATOR = 4
# Talkshop CSV: columns holding JSON values, and columns holding lists separated by '|'.
CSV_JSON_COLUMNS = ("reviews", "attributes", "images", "ai_comparison_points")
CSV_LIST_COLUMNS = (
    "ai_use_cases",
    "ai_target_audience",
    "ai_best_for",
    "ai_avoid_when",
    "ai_similar_products",
    "ai_often_bought_with",
    "ai_upgrade_from",
    "ai_upgrade_to",
    "ai_keywords",
    "ai_tags",
)
CSV_INTEGER_COLUMNS = ("price", "stock")


class ImportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    SHOPIFY = "shopify"


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportRejected(TalkshopError):
    status = 422
    code = "import_rejected"

    def __init__(self, errors: list[RowError]) -> None:
        shown = "; ".join(str(error) for error in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(
            f"{len(errors)} invalid row(s), nothing was imported: {shown}{more}",
            details=[{"line": error.line, "reason": error.reason} for error in errors],
        )
        self.errors = errors


@dataclass(frozen=True)
class SourceRow:
    line: int
    values: dict[str, Any]


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    creators_created: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged; "
            f"{len(self.creators_created)} new creator(s)"
        )


def detect_format(path: Path, text: str) -> ImportFormat:
    if path.suffix.lower() == ".json":
        return ImportFormat.JSON
    header = next(csv.reader(io.StringIO(text)), [])
    if {"Handle", "Title", "Variant Price"} <= set(header):
        return ImportFormat.SHOPIFY
    return ImportFormat.CSV


def read_rows(
    text: str, fmt: ImportFormat, creator_id: str | None = None, currency: str = "EUR"
) -> list[SourceRow]:
    if fmt == ImportFormat.JSON:
        return list(_json_rows(text))
    if fmt == ImportFormat.SHOPIFY:
        if not creator_id:
            raise ImportRejected([RowError(1, "a Shopify export names no creator: pass --creator")])
        return _shopify_rows(text, creator_id, currency)
    return list(_csv_rows(text))


def _json_rows(text: str) -> Iterator[SourceRow]:
    """Each element of the top-level array, with the line it starts on."""
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0)
    if not text.startswith("[", position):
        raise ImportRejected([RowError(_line_of(text, position), "a JSON import is an array of products")])
    position = _skip_space(text, position + 1)
    if text.startswith("]", position):
        return
    while True:
        line = _line_of(text, position)
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise ImportRejected([RowError(error.lineno, f"invalid JSON: {error.msg}")]) from error
        yield SourceRow(line, value if isinstance(value, dict) else {"__not_an_object__": value})
        position = _skip_space(text, position)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
        elif text.startswith("]", position):
            return
        else:
            raise ImportRejected([RowError(_line_of(text, position), "expected ',' or ']' between products")])


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _csv_records(text: str) -> Iterator[tuple[int, dict[str | None, Any]]]:
    """Each record with the line it starts on (a quoted cell may span lines; errors name the first)."""
    reader = csv.DictReader(io.StringIO(text))
    end_of_previous = 1  # the header
    for record in reader:
        yield end_of_previous + 1, record
        end_of_previous = reader.line_num


def _csv_rows(text: str) -> Iterator[SourceRow]:
    for line, record in _csv_records(text):
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for column, raw in record.items():
            if column is None:
                problems["row"] = "more cells than columns"
                continue
            cell = (raw or "").strip()
            if not cell:
                continue
            if column in CSV_JSON_COLUMNS:
                try:
                    values[column] = json.loads(cell)
                except json.JSONDecodeError:
                    problems[column] = "not valid JSON"
            elif column in CSV_LIST_COLUMNS:
                values[column] = [part.strip() for part in cell.split("|") if part.strip()]
            elif column in CSV_INTEGER_COLUMNS:
                values[column] = _numeric_cell(cell, column, problems, whole=True)
            elif column == "rating":
                values[column] = _numeric_cell(cell, column, problems, whole=False)
            else:
                values[column] = cell
        if problems:
            values["__problems__"] = problems
        yield SourceRow(line, values)


def _numeric_cell(cell: str, column: str, problems: dict[str, str], *, whole: bool) -> Any:
    try:
        return int(cell) if whole else float(cell)
    except ValueError:
        problems[column] = f"{cell!r} is not a {'whole number' if whole else 'number'}"
        return cell


_TAG = re.compile(r"<[^>]+>")


def _strip_html(markup: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", markup)).split())


def _shopify_rows(text: str, creator_id: str, currency: str) -> list[SourceRow]:
    """Shopify exports one row per variant and per extra image; rows of a handle form a product."""
    products: dict[str, dict[str, Any]] = {}
    lines: dict[str, int] = {}
    for line, record in _csv_records(text):
        handle = (record.get("Handle") or "").strip()
        if not handle:
            continue
        product = products.setdefault(handle, {"variants": [], "images": [], "options": {}})
        lines.setdefault(handle, line)
        if record.get("Title"):
            product["head"] = record
        if record.get("Variant Price"):
            product["variants"].append(record)
        for number in ("1", "2", "3"):
            name, value = record.get(f"Option{number} Name"), record.get(f"Option{number} Value")
            if value and (name or product["options"].get(number)):
                option = product["options"].setdefault(number, {"name": name, "values": []})
                option["name"] = option["name"] or name
                if value not in option["values"]:
                    option["values"].append(value)
        if record.get("Image Src"):
            alt = (record.get("Image Alt Text") or "").strip()
            product["images"].append({"url": record["Image Src"].strip(), "alt": alt})
    return [
        SourceRow(lines[handle], _shopify_product(handle, product, creator_id, currency))
        for handle, product in products.items()
    ]


def _shopify_product(handle: str, product: dict[str, Any], creator_id: str, currency: str) -> dict[str, Any]:
    head = product.get("head", {})
    minor_digits = minor_unit_digits(currency)
    problems: dict[str, str] = {}
    prices: list[int] = []
    stock = 0
    for variant in product["variants"]:
        try:
            price = Decimal(variant["Variant Price"])
        except InvalidOperation:
            price = Decimal("NaN")
        if price.is_finite():
            prices.append(int((price * 10**minor_digits).to_integral_value()))
        else:
            problems["price"] = f"Variant Price {variant['Variant Price']!r} is not a number"
        quantity = (variant.get("Variant Inventory Qty") or "0").strip()
        stock += max(0, int(quantity)) if quantity.lstrip("-").isdigit() else 0
    category_source = (head.get("Type") or head.get("Product Category") or "uncategorised").split(">")[-1]
    status = (head.get("Status") or "active").strip().lower()
    values: dict[str, Any] = {
        "id": handle,
        "name": head.get("Title", ""),
        "brand": head.get("Vendor") or creator_id,
        "category": slugify(category_source),
        "creator_id": creator_id,
        "description": _strip_html(head.get("Body (HTML)", "")),
        "price": min(prices) if prices else None,
        "currency": currency,
        "stock": stock,
        "images": [
            {"url": image["url"], "alt": image["alt"] or head.get("Title") or handle}
            for image in product["images"]
            if image["url"].startswith("https://")
        ],
        "status": status if status in ("active", "draft", "archived") else "draft",
        "attributes": {
            option["name"]: ", ".join(option["values"])
            for option in product["options"].values()
            if option["name"] and option["name"] != "Title"
        },
        "ai_tags": [tag.strip() for tag in (head.get("Tags") or "").split(",") if tag.strip()],
    }
    if not head:
        problems["name"] = "no row of this handle has a Title"
    if not prices:
        problems.setdefault("price", "no variant has a Variant Price")
    if problems:
        values["__problems__"] = problems
    return values


def derived_product_id(creator_id: str, name: str) -> str:
    """A stable id for rows that carry none, so that re-importing them updates instead of duplicating."""
    digest = hashlib.sha256(f"{creator_id}\n{name.casefold()}".encode()).hexdigest()[:10]
    return f"{slugify(name)[:40]}-{digest}"


def validate_rows(rows: list[SourceRow]) -> list[tuple[SourceRow, ProductInput]]:
    valid: list[tuple[SourceRow, ProductInput]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row in rows:
        values = dict(row.values)
        # Problems found while reading cells, by field; validation does not report those fields again.
        problems: dict[str, str] = values.pop("__problems__", {})
        if "__not_an_object__" in values:
            errors.append(RowError(row.line, "a product must be a JSON object"))
            continue
        errors += [RowError(row.line, f"{field}: {problem}") for field, problem in problems.items()]
        if not values.get("creator_id"):
            errors.append(RowError(row.line, "creator_id: field required"))
            continue
        try:
            product = ProductInput.model_validate(values)
        except ValidationError as error:
            for problem in error.errors():
                if problem["loc"] and problem["loc"][0] in problems:
                    continue
                where = ".".join(str(part) for part in problem["loc"]) or "product"
                errors.append(RowError(row.line, f"{where}: {problem['msg']}"))
            continue
        if product.id is None:
            product = product.model_copy(update={"id": derived_product_id(product.creator_id, product.name)})
        assert product.id is not None
        if product.id in seen:
            errors.append(
                RowError(row.line, f"id {product.id!r} repeats the product on line {seen[product.id]}")
            )
            continue
        seen[product.id] = row.line
        valid.append((row, product))
    if errors:
        raise ImportRejected(errors)
    return valid


class CatalogImporter:
    def __init__(self, catalog: CatalogService) -> None:
        self.catalog = catalog
        self.repository = catalog.repository

    def import_file(
        self,
        path: Path,
        fmt: ImportFormat | None = None,
        creator_id: str | None = None,
        currency: str = "EUR",
    ) -> ImportReport:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            raise ImportRejected([RowError(1, "the file is not UTF-8 text")]) from error
        except OSError as error:
            raise InvalidInput(f"Cannot read {path}: {error.strerror}.", code="unreadable_file") from error
        return self.import_rows(read_rows(text, fmt or detect_format(path, text), creator_id, currency))

    def import_rows(self, rows: list[SourceRow]) -> ImportReport:
        products = validate_rows(rows)
        ids = [product.id for _, product in products if product.id]
        existing = self.repository.get_many([product_ref(product_id) for product_id in ids])
        existing_by_id = {ref.id: stored for ref, stored in existing.items()}
        self._check_rows_against_catalog(products, existing_by_id)

        report = ImportReport()
        units: list[UnitOfWork] = []
        unit = self.repository.unit_of_work()

        def room_for(operations: int) -> UnitOfWork:
            nonlocal unit
            if len(unit.operations) + operations > MAX_TRANSACTION_ITEMS:
                units.append(unit)
                unit = self.repository.unit_of_work()
            return unit

        creators = {product.creator_id for _, product in products}
        for creator_id in sorted(creators):
            if self.catalog.creators.get(creator_id) is None:
                self.catalog.creators.stage_new_creator(
                    room_for(_OPERATIONS_PER_CREATOR), creator_id, creator_id
                )
                report.creators_created.append(creator_id)
        for _, product in products:
            assert product.id is not None
            current = existing_by_id.get(product.id)
            if current is None:
                self.catalog.stage_create(room_for(_OPERATIONS_PER_PRODUCT), product.id, product, None)
                report.created.append(product.id)
            elif current.data == product_data(product):
                report.unchanged.append(product.id)
            else:
                self.catalog.stage_replace(room_for(_OPERATIONS_PER_PRODUCT), current, product, None)
                report.updated.append(product.id)
        if report.created or report.updated:
            summary = room_for(1)
            summary.record_event(self._import_event(report))
        units.append(unit)
        self.repository.commit_all(units)
        return report

    def _check_rows_against_catalog(
        self, products: list[tuple[SourceRow, ProductInput]], existing: dict[str, Any]
    ) -> None:
        errors: list[RowError] = []
        in_file = {product.id for _, product in products}
        linked = set().union(*(product.linked_product_ids() for _, product in products)) - in_file
        known_elsewhere = {
            ref.id for ref in self.repository.get_many([product_ref(i) for i in sorted(linked)])
        }
        for row, product in products:
            links = product.linked_product_ids()
            if product.id in links:
                errors.append(RowError(row.line, "the product links to itself"))
            current = existing.get(product.id or "")
            # As in the API, links a stored product already has stay acceptable after their target left.
            already_linked = (
                ProductInput.model_validate(current.data).linked_product_ids() if current else set()
            )
            missing = sorted(links - in_file - known_elsewhere - already_linked)
            if missing:
                errors.append(RowError(row.line, f"linked products do not exist: {', '.join(missing)}"))
            if current is not None and current.data.get("creator_id") != product.creator_id:
                errors.append(RowError(row.line, f"product {product.id!r} belongs to another creator"))
        if errors:
            raise ImportRejected(errors)

    def _import_event(self, report: ImportReport) -> Event:
        now = self.catalog.clock()
        marketplace = EntityRef(dimension=Dimension.GROUP, type="marketplace", id="talkshop")
        return Event(
            id=hashlib.sha256(f"{now.isoformat()}{report.created}{report.updated}".encode()).hexdigest()[:32],
            type=EventType.CATALOG_IMPORTED,
            subject=marketplace,
            occurred_at=now,
            payload={"created": len(report.created), "updated": len(report.updated)},
        )
