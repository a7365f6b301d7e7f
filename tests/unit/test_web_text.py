"""Message formatting: escaped first, then bold, lists, line breaks and safe links only."""

from __future__ import annotations

import pytest

from talkshop.web.text import format_message, safe_link_target


def test_plain_text_is_a_paragraph_with_line_breaks() -> None:
    assert format_message("Hello\nthere\n\nNew paragraph") == "<p>Hello<br>there</p><p>New paragraph</p>"


def test_bold_and_lists() -> None:
    text = "Two picks:\n- **Aero Lite**: light\n* Fjord Round\n\n1. first\n2) second"
    assert format_message(text) == (
        "<p>Two picks:</p><ul><li><strong>Aero Lite</strong>: light</li><li>Fjord Round</li></ul>"
        "<ol><li>first</li><li>second</li></ol>"
    )


def test_a_list_then_text_in_one_paragraph() -> None:
    assert format_message("- a\n- b\nafter") == "<ul><li>a</li><li>b</li></ul><p>after</p>"


def test_links_within_the_site_and_to_the_web() -> None:
    assert format_message("[Checkout](/checkout/crt_1)") == '<p><a href="/checkout/crt_1">Checkout</a></p>'
    assert format_message("See https://example.com/x?a=1&b=2.") == (
        '<p>See <a href="https://example.com/x?a=1&amp;b=2" target="_blank" rel="noopener">'
        "https://example.com/x?a=1&amp;b=2</a>.</p>"
    )


@pytest.mark.parametrize(
    ("hostile", "expected"),
    [
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ('<img src=x onerror="alert(1)">', "<p>&lt;img src=x onerror=&#34;alert(1)&#34;&gt;</p>"),
        ("[click](javascript:alert(1))", "<p>[click](javascript:alert(1))</p>"),
        ("[click](JaVaScRiPt:alert(1))", "<p>[click](JaVaScRiPt:alert(1))</p>"),
        ("[x](data:text/html,hi)", "<p>[x](data:text/html,hi)</p>"),
        ("[x](//evil.example/a)", "<p>[x](//evil.example/a)</p>"),
        ('[x](/a"onmouseover="alert(1))', '<p><a href="/a&#34;onmouseover=&#34;alert(1">x</a>)</p>'),
        ("**<b>bold</b>**", "<p><strong>&lt;b&gt;bold&lt;/b&gt;</strong></p>"),
        ("[<i>label</i>](/ok)", '<p><a href="/ok">&lt;i&gt;label&lt;/i&gt;</a></p>'),
        ("[x](/a**b**c)", '<p><a href="/a**b**c">x</a></p>'),
    ],
)
def test_what_a_message_says_cannot_become_markup(hostile: str, expected: str) -> None:
    assert format_message(hostile) == expected


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("https://example.com", True),
        ("HTTP://example.com", True),
        ("/products/x", True),
        ("//evil.example", False),
        ("javascript:alert(1)", False),
        ("mailto:a@b.c", False),
        ("products/x", False),
    ],
)
def test_link_targets(target: str, safe: bool) -> None:
    assert safe_link_target(target) is safe
