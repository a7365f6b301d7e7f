"""Build bench/data/luma-products.json: Magento's Luma sample store mapped to Talkshop products.

Run: .venv/bin/python bench/make_luma_extract.py [--source /work/shared/datasets/magento-luma]

The source is magento/magento2-sample-data (OSL-3.0 / AFL-3.0, see bench/data/README.md): the
configurable clothing products (one product per parent, its sizes and colours as attributes), the simple
gear products (bags, fitness equipment, watches; the colour and size rows of one name are one product)
and the downloadable training videos. Grouped and bundle products (no price of their own) are left out.

The mapping is what a merchant import would do, and nothing more: no AI enrichment is invented.
* id ``luma-<sku>``, brand ``Luma``, creator ``luma``, currency USD, price in cents;
* category from the most specific Magento category (``men-jackets``, ``women-bras-tanks``,
  ``gear-bags``, ``training-videos``); gender from the category path or the gear's own column;
* description without its HTML; the Magento attributes (material, style, climate, activity, pattern,
  features, strap, sizes, colours...) as product attributes, their values joined by ", ";
* the Magento collection flags (eco friendly, performance fabric, new, sale, Erin recommends) as
  ``ai_tags`` (what the Shopify importer does with a product's tags);
* rating: the mean of the product's sample reviews (one decimal), stock: the sum of its variants' qty.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from talkshop.catalog.model import ProductInput

DEFAULT_SOURCE = Path("/work/shared/datasets/magento-luma")
TARGET = Path(__file__).parent / "data" / "luma-products.json"

_TAG = re.compile(r"<[^>]+>")
# Magento columns that become attributes, by the name the product gets.
SIMPLE_ATTRIBUTES = {
    "activity": "activity",
    "category_gear": "gear_type",
    "gender": "gender",
    "material": "material",
    "features_bags": "features",
    "strap_bags": "strap",
    "style_bags": "style",
    "pattern": "pattern",
    "format": "format",
}
ADDITIONAL_ATTRIBUTES = {
    "material": "material",
    "pattern": "pattern",
    "climate": "climate",
    "style_general": "style",
    "style_bottom": "style",
}
FLAGS = {
    "eco_collection": "eco friendly",
    "performance_fabric": "performance fabric",
    "erin_recommends": "erin recommends",
    "new": "new",
    "sale": "sale",
}
CATEGORY_SLUGS = {
    "Hoodies & Sweatshirts": "hoodies-sweatshirts",
    "Bras & Tanks": "bras-tanks",
}


def clean(text: str) -> str:
    """HTML tags and entities out, whitespace collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def values(cell: str, separator: str = "\n") -> list[str]:
    return [clean(value) for value in cell.split(separator) if clean(value)]


def cents(price: str) -> int:
    return int((Decimal(price) * 100).to_integral_value())


def ratings(source: Path) -> dict[str, float]:
    stars: dict[str, list[int]] = defaultdict(list)
    with (source / "ReviewSampleData" / "products_reviews.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            stars[row["sku"]].append(int(row["rating_value"]))
    return {sku: round(sum(given) / len(given), 1) for sku, given in stars.items()}


def product(
    sku: str,
    name: str,
    category: str,
    description: str,
    price: str,
    stock: int,
    attributes: dict[str, str],
    tags: list[str],
    rating: float | None,
) -> dict[str, Any]:
    item = {
        "id": f"luma-{sku.lower()}",
        "name": clean(name),
        "brand": "Luma",
        "category": category,
        "creator_id": "luma",
        "description": clean(description),
        "price": cents(price),
        "currency": "USD",
        "stock": stock,
        "rating": rating,
        "attributes": {key: value for key, value in attributes.items() if value},
        "ai_tags": tags,
    }
    validated = ProductInput.model_validate(item).model_dump(mode="json", exclude_defaults=True)
    return {"id": validated.pop("id"), **validated}


def configurable_products(source: Path, rated: dict[str, float]) -> list[dict[str, Any]]:
    with (source / "ConfigurableSampleData" / "products.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    quantities = {row["sku"]: int(float(row["qty"] or 0)) for row in rows if row["product_type"] == "simple"}
    products = []
    for row in rows:
        if row["product_type"] != "configurable":
            continue
        path = next(
            part.removeprefix("Default Category/")
            for part in row["categories"].split(",")
            if part.startswith("Default Category/Men/") or part.startswith("Default Category/Women/")
        )
        gender, _, leaf = path.split("/")
        category = f"{gender.lower()}-{CATEGORY_SLUGS.get(leaf, leaf.lower())}"
        additional = dict(
            pair.split("=", 1) for pair in row["additional_attributes"].split(",") if "=" in pair
        )
        variants = [
            dict(pair.split("=", 1) for pair in variant.split(","))
            for variant in row["configurable_variations"].split("|")
        ]
        attributes = {"gender": gender}
        for column, name in ADDITIONAL_ATTRIBUTES.items():
            if column in additional:
                attributes[name] = ", ".join(values(additional[column], "|"))
        attributes["sizes"] = ", ".join(dict.fromkeys(variant["size"] for variant in variants))
        attributes["colors"] = ", ".join(dict.fromkeys(variant["color"] for variant in variants))
        tags = [tag for column, tag in FLAGS.items() if additional.get(column) == "Yes"]
        stock = sum(quantities.get(variant["sku"], 0) for variant in variants)
        products.append(
            product(
                row["sku"],
                row["name"],
                category,
                row["description"],
                row["price"],
                stock,
                attributes,
                tags,
                rated.get(row["sku"]),
            )
        )
    return products


def gear_products(source: Path, rated: dict[str, float]) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    folder = source / "CatalogSampleData" / "SimpleProduct"
    for path in sorted(folder.glob("products_*.csv")):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                grouped[clean(row["name"])].append(row)
    products = []
    for rows in grouped.values():
        head = rows[0]
        leaf = values(head["category"])[1]  # "Gear\nBags\nCollections\n..." -> "Bags"
        attributes = {
            name: ", ".join(values(head[column]))
            for column, name in SIMPLE_ATTRIBUTES.items()
            if column in head
        }
        if head.get("size"):
            attributes["size"] = head["size"]
        if head.get("color"):
            attributes["colors"] = ", ".join(dict.fromkeys(row["color"] for row in rows))
        tags = [tag for column, tag in FLAGS.items() if head.get(column) == "1"]
        sku = head["sku"].rsplit("-", 1)[0] if len(rows) > 1 else head["sku"]
        stock = sum(int(row["qty"] or 0) for row in rows)
        products.append(
            product(
                sku,
                head["name"],
                f"gear-{leaf.lower().replace(' ', '-')}",
                head["description"],
                head["price"],
                stock,
                attributes,
                tags,
                rated.get(head["sku"]),
            )
        )
    return products


def video_products(source: Path, rated: dict[str, float]) -> list[dict[str, Any]]:
    path = source / "DownloadableSampleData" / "products_training_video_download.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        product(
            row["sku"],
            row["name"],
            "training-videos",
            f"{row['description']} {row['short_description']}",
            row["price"],
            100,
            {
                name: ", ".join(values(row[column]))
                for column, name in SIMPLE_ATTRIBUTES.items()
                if column in row
            },
            [],
            rated.get(row["sku"]),
        )
        for row in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    rated = ratings(args.source)
    products = [
        *configurable_products(args.source, rated),
        *gear_products(args.source, rated),
        *video_products(args.source, rated),
    ]
    ids = [item["id"] for item in products]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate product ids")
    TARGET.write_text(json.dumps(products, indent=1, ensure_ascii=False) + "\n")
    print(f"Wrote {len(products)} products to {TARGET}.")


if __name__ == "__main__":
    main()
