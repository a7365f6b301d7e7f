"""The demo catalog's pictures: every product's image exists, and each is what `make demo-images` draws."""

from __future__ import annotations

from xml.etree import ElementTree

from talkshop.web.demo_images import demo_catalog, expected_images, images_dir, product_svg


def test_every_demo_product_has_its_picture_and_it_is_current() -> None:
    folder = images_dir()
    for product in demo_catalog():
        for image in product["images"]:
            path = image["url"].removeprefix("/static/products/")
            assert image["url"] == f"/static/products/{path}", image["url"]
            assert (folder / path).is_file(), f"{path} is missing: run `make demo-images`"
    for file_name, content in expected_images().items():
        assert (folder / file_name).read_text(encoding="utf-8") == content, f"{file_name} is stale"


def test_text_is_escaped_and_the_picture_is_well_formed_xml() -> None:
    hostile = {"id": "x", "name": '<script>alert("x")</script> & co', "brand": "A&B", "category": "?"}
    root = ElementTree.fromstring(product_svg(hostile))  # noqa: S314 - our own output, not untrusted
    assert not any(element.tag.endswith("script") for element in root.iter())
    texts = ["".join(element.itertext()) for element in root.iter() if element.tag.endswith("text")]
    assert texts[0] == "A&B"
    assert " ".join(texts[1:]).startswith('<script>alert("x")</script>')


def test_neighbours_in_a_category_differ() -> None:
    rackets = [product for product in demo_catalog() if product["category"] == "padel-rackets"]
    backgrounds = {product_svg(product).split('stop-color="')[1].split('"')[0] for product in rackets}
    assert len(backgrounds) > len(rackets) // 3
