"""talkshop.web.charts: SVG line and bar charts drawn on the server, escaped and accessible."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from talkshop.web.charts import Series, bar_chart, chart_id, line_chart, nice_ticks, render_chart

SVG = "{http://www.w3.org/2000/svg}"


def svg_of(html: str) -> ET.Element:
    found = re.search(r"<svg.*?</svg>", html, re.S)
    assert found, html
    # The template writes no namespace (HTML's parser adds it); XML needs it to parse.
    svg = found.group(0).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it is well-formed


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0, 1]),
        (7, [0, 2, 4, 6, 8]),
        (100, [0, 50, 100]),
        (130, [0, 50, 100, 150]),
        (0.37, [0, 0.1, 0.2, 0.3, 0.4]),
    ],
)
def test_axis_ticks_are_round_numbers_from_zero_covering_the_top(top: float, ticks: list[float]) -> None:
    assert nice_ticks(top) == ticks


def test_counts_get_whole_ticks() -> None:
    assert nice_ticks(2, whole=True) == [0, 1, 2]
    assert nice_ticks(2) == [0, 0.5, 1, 1.5, 2]
    chart = line_chart("Orders", ["a", "b"], [Series("Orders", [0, 2])])
    assert [tick.text for tick in chart.y_ticks] == ["0", "1", "2"]


def test_a_line_chart_is_an_image_with_a_title_a_description_and_the_numbers_as_a_table() -> None:
    chart = line_chart(
        "Conversations per day",
        ["2026-11-01", "2026-11-02", "2026-11-03"],
        [Series("Chat", [1, 5, 2]), Series("Shop", [0, 3, 4])],
    )
    html = str(render_chart(chart))
    svg = svg_of(html)
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-conversations-per-day-title chart-conversations-per-day-desc"
    assert svg.findtext(f"{SVG}title") == "Conversations per day"
    assert svg.findtext(f"{SVG}desc") == (
        "Chat: highest 5 (2026-11-02), lowest 1 (2026-11-01). "
        "Shop: highest 4 (2026-11-03), lowest 0 (2026-11-01)."
    )
    paths = [path.get("d", "") for path in svg.iter(f"{SVG}path")]
    # The highest value of the axis (6) is the top of the plot, zero its bottom.
    assert paths[0] == "M56.0,189.3 L340.0,50.7 L624.0,154.7"
    assert paths[1].startswith("M56.0,224.0")
    assert '<th scope="col">Day</th><th scope="col">Chat</th><th scope="col">Shop</th>' in html
    assert '<tr><th scope="row">2026-11-02</th><td>5</td><td>3</td></tr>' in html
    assert 'class="chart-legend"' in html


def test_labels_and_names_are_escaped_everywhere() -> None:
    evil = '<script>alert("x")</script>'
    html = str(render_chart(bar_chart("Top <products>", [evil, "B"], [Series(evil, [3, 1])])))
    assert "<script>" not in html
    assert "<products>" not in html
    assert "&lt;script&gt;" in html
    svg_of(html)  # still well-formed


def test_a_bar_chart_draws_one_bar_per_value_proportional_to_the_largest() -> None:
    chart = bar_chart(
        "Revenue", ["Aero Lite", "Fjord Round"], [Series("Chat", [200, 50]), Series("Shop", [100, 0])]
    )
    widths = [bar.width for bar in chart.bars]
    assert widths == [388.0, 194.0, 97.0, 0.0]
    assert [bar.css_class for bar in chart.bars] == ["series-1", "series-2", "series-1", "series-2"]
    assert chart.height == 8 + 24 + 2 * 2 * 28
    svg = svg_of(str(render_chart(chart)))
    assert len(list(svg.iter(f"{SVG}rect"))) == 4


def test_long_category_names_are_shortened_on_the_chart_and_whole_in_the_table() -> None:
    name = "A racket with a very long name indeed, longer than the room"
    chart = bar_chart("Products", [name], [Series("Sold", [1])])
    assert chart.categories[0].text.endswith("…")
    assert len(chart.categories[0].text) <= 26
    assert chart.table.rows == [[name, "1"]]


def test_an_empty_chart_says_there_is_no_data() -> None:
    html = str(render_chart(line_chart("Nothing", [], [Series("Chat", [])])))
    assert "No data for this period." in html
    assert "<svg" not in html


def test_values_must_match_labels_and_series_are_bounded() -> None:
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        line_chart("x", ["a", "b", "c"], [Series("s", [1, 2])])
    with pytest.raises(ValueError, match="1 to 4 series"):
        bar_chart("x", ["a"], [Series(str(i), [i]) for i in range(5)])


def test_chart_ids_are_safe_for_html() -> None:
    assert chart_id('Revenue per day, chat vs "traditional"') == "chart-revenue-per-day-chat-vs-traditional"
    assert chart_id("!!!") == "chart-untitled"
