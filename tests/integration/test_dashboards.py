"""The dashboards through their handlers on moto: real chats and an order (the chat and checkout
services), counted by the analytics aggregation, then read by the seller's and the admin's JSON API,
CSV export and pages. Above all: a creator never sees another creator's figures."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest

from talkshop.analytics.learning import LearnRequest, RankingWeights
from talkshop.analytics.rebuild import rebuild
from talkshop.catalog.creators import CreatorService
from talkshop.clock import utc_now
from talkshop.data.repository import Repository
from talkshop.local.invoke import HttpResult, invoke
from tests.chat_history_fakes import Shop, shop_products
from tests.conftest import ADMIN_KEY
from tests.integration.http import assert_error, call

CREATOR_API = "/api/analytics/creator"
ADMIN_API = "/api/analytics/admin"


class Keys:
    def __init__(self, repository: Repository) -> None:
        creators = CreatorService(repository)
        self.padelnest = creators.issue_key("padelnest").api_key
        self.courtcraft = creators.issue_key("courtcraft").api_key


@pytest.fixture
def shop(repository: Repository) -> Shop:
    """Two creators: padelnest (aero-lite, cafe-grip, Nebula Smash) and courtcraft (fjord-round).
    Ana and Bob ask about aero-lite (Bob with HTML in his words), Carl about fjord-round; Ana buys
    aero-lite from her chat. Then the events are counted, as the consumer would."""
    shop = Shop(repository, shop_products(repository))
    ana, anas = shop.new_shopper()
    shop.send(ana, anas, "is aero-lite good for beginners?")
    bob, bobs = shop.new_shopper()
    shop.send(bob, bobs, "Is aero-lite good for a <b>beginner</b>?")
    carl, carls = shop.new_shopper()
    shop.send(carl, carls, "does fjord-round come with a cover?")
    shop.buy(ana, anas, "aero-lite")
    rebuild(repository)
    return shop


@pytest.fixture
def keys(shop: Shop, repository: Repository) -> Keys:
    return Keys(repository)


def get(path: str, key: str, query: str = "") -> HttpResult:
    return call("GET", path, key=key, query=query)


def test_a_creator_sees_their_products_figures_scores_and_questions(keys: Keys) -> None:
    answer = get(CREATOR_API, keys.padelnest)
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["creator_id"] == "padelnest"
    assert body["filters"]["creator_id"] == "padelnest"
    assert {p["product_id"] for p in body["products"]} == {"aero-lite", "cafe-grip", "x-77"}
    figures = body["figures"]
    assert figures["chat_orders"] == 1
    assert figures["chat_revenue"] > 0
    assert {p["creator_id"] for p in figures["products"]} == {"padelnest"}
    aero = next(p for p in body["products"] if p["product_id"] == "aero-lite")
    assert aero["questions"]["questions"] == [{"question": "is aero-lite good for beginners?", "chats": 2}]
    assert 0 <= aero["understanding"]["score"] < 50  # the test products have no AI metadata
    assert "ai_avoid_when is empty: say who should not buy it" in [
        s["text"] for s in aero["understanding"]["suggestions"]
    ]


def test_a_creator_never_sees_another_creators_figures(keys: Keys) -> None:
    mine = get(CREATOR_API, keys.courtcraft).json()
    assert mine["creator_id"] == "courtcraft"
    assert [p["product_id"] for p in mine["products"]] == ["fjord-round"]
    assert {p["creator_id"] for p in mine["figures"]["products"]} <= {"courtcraft"}
    assert mine["figures"]["chat_orders"] == 0
    assert mine["figures"]["chat_revenue"] == 0
    # Their chat figures are those of the turns that showed their products: Carl's one reply.
    assert (mine["figures"]["chat_figures_scope"], mine["figures"]["messages"]) == ("creator", 1)
    assert mine["figures"]["latency_samples"] == 1
    questions = mine["products"][0]["questions"]["questions"]
    assert questions == [{"question": "does fjord-round come with a cover?", "chats": 1}]
    assert "aero-lite" not in str(mine)

    assert_error(get(CREATOR_API, keys.courtcraft, "creatorId=padelnest"), 403, "not_owner")
    assert_error(get(CREATOR_API, keys.courtcraft, "productId=aero-lite"), 403, "not_owner")
    assert_error(get(CREATOR_API, keys.courtcraft, "creatorId=padelnest&format=csv"), 403, "not_owner")
    assert_error(get(ADMIN_API, keys.courtcraft), 403, "admin_only")


def test_the_admin_names_a_creator_on_the_sellers_dashboard(keys: Keys) -> None:
    assert_error(get(CREATOR_API, ADMIN_KEY), 422, "creator_required")
    body = get(CREATOR_API, ADMIN_KEY, "creatorId=padelnest").json()
    assert body["creator_id"] == "padelnest"


def test_the_admin_dashboard_has_every_creator_and_the_periods(keys: Keys) -> None:
    body = get(ADMIN_API, ADMIN_KEY).json()
    figures = body["figures"]
    assert figures["conversations"] == 3
    assert figures["chat_orders"] == 1
    assert {c["creator_id"] for c in figures["creators"]} == {"padelnest", "courtcraft"}
    assert [p["label"] for p in body["periods"]] == ["Today", "Last 7 days", "Last 30 days"]
    assert [p["conversations"] for p in body["periods"]] == [3, 3, 3]
    assert body["product_names"]["aero-lite"] == "Aero Lite"
    assert body["creator_names"] == {"padelnest": "Padelnest", "courtcraft": "Courtcraft"}
    narrowed = get(ADMIN_API, ADMIN_KEY, "creatorId=courtcraft").json()["figures"]
    assert narrowed["chat_orders"] == 0


def test_who_may_read_the_dashboards(keys: Keys, shop: Shop) -> None:
    assert_error(call("GET", CREATOR_API), 401, "missing_credentials")
    assert_error(call("GET", ADMIN_API), 401, "missing_credentials")
    shopper, _ = shop.new_shopper()
    assert_error(get(CREATOR_API, shopper.token), 403, "not_a_creator")
    assert_error(get(CREATOR_API, "tsk_" + "x" * 43), 401, "invalid_credentials")


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("from=2026-13-01", "invalid_date"),
        ("to=0001-01-05", "invalid_date"),  # the default range would start before the first day
        ("from=9999-12-31&to=9999-12-31", "invalid_date"),  # the questions read up to the next day
        ("from=2026-11-10&to=2026-11-01", "invalid_date_range"),
        ("from=2024-01-01&to=2026-01-01", "invalid_date_range"),
        ("platform=myspace", "invalid_platform"),
        ("productId=has%20space", "validation_error"),
        ("format=csv&table=secrets", "invalid_table"),
        ("format=xml", "validation_error"),
    ],
)
def test_bad_filters_are_422_with_a_code(keys: Keys, query: str, code: str) -> None:
    assert_error(get(CREATOR_API, keys.padelnest, query), 422, code)


def test_filters_narrow_the_figures_and_the_questions(keys: Keys) -> None:
    long_ago = (utc_now() - timedelta(days=100)).date()
    old = get(CREATOR_API, keys.padelnest, f"from={long_ago}&to={long_ago + timedelta(days=5)}").json()
    assert old["figures"]["conversations"] == 0
    assert old["figures"]["chat_orders"] == 0
    assert all(not p["questions"]["questions"] for p in old["products"])
    claude = get(CREATOR_API, keys.padelnest, "platform=claude").json()
    assert claude["figures"]["conversations"] == 0
    assert all(not p["questions"]["questions"] for p in claude["products"])
    one = get(CREATOR_API, keys.padelnest, "productId=cafe-grip").json()
    assert [p["product_id"] for p in one["products"]] == ["cafe-grip"]
    assert "x-77" in one["product_names"]  # the filter still offers every product


def rows_of(result: HttpResult) -> list[list[str]]:
    return list(csv.reader(io.StringIO(result.body.decode())))


def test_csv_export_of_each_table(keys: Keys) -> None:
    products = get(CREATOR_API, keys.padelnest, "format=csv")
    assert products.status == 200
    assert products.headers["Content-Type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="padelnest-products-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv"',
        products.headers["Content-Disposition"],
    )
    header, *rows = rows_of(products)
    assert header[:3] == ["product_id", "name", "creator_id"]
    assert header[-1] == "ai_understanding_score"
    aero = next(row for row in rows if row[0] == "aero-lite")
    assert aero[header.index("chat_purchases")] == "1"
    assert {row[2] for row in rows} == {"padelnest"}
    # Every product of theirs, the ones nothing happened to as well: their scores are what to work on.
    scores = {row[0]: row[-1] for row in rows}
    assert set(scores) == {"aero-lite", "cafe-grip", "x-77"}
    assert all(score.isdigit() for score in scores.values())
    quiet = next(row for row in rows if row[0] == "x-77")
    assert quiet[header.index("mentions")] == "0"

    questions = rows_of(get(CREATOR_API, keys.padelnest, "format=csv&table=questions"))
    assert questions[1:] == [["aero-lite", "Aero Lite", "is aero-lite good for beginners?", "2"]]
    daily = rows_of(get(CREATOR_API, keys.padelnest, "format=csv&table=daily"))
    assert daily[0][0] == "day"
    assert len(daily) == 31

    creators = rows_of(get(ADMIN_API, ADMIN_KEY, "format=csv&table=creators"))
    assert {row[0] for row in creators[1:]} == {"padelnest", "courtcraft"}
    platforms = rows_of(get(ADMIN_API, ADMIN_KEY, "format=csv&table=platforms"))
    assert platforms[0][0] == "platform"


def test_questions_of_shoppers_who_opted_out_are_left_out(keys: Keys, shop: Shop) -> None:
    shopper, chat = shop.new_shopper()
    shop.send(shopper, chat, "does cafe-grip absorb sweat?")
    before = get(CREATOR_API, keys.padelnest, "productId=cafe-grip").json()
    assert before["products"][0]["questions"]["questions"][0]["chats"] == 1
    opted = call("PUT", "/api/me/analytics", key=shopper.token, body={"enabled": False})
    assert opted.status == 200, opted.body
    after = get(CREATOR_API, keys.padelnest, "productId=cafe-grip").json()
    assert after["products"][0]["questions"]["questions"] == []


# The pages


def signed_in(key: str) -> dict[str, str]:
    answer = invoke(
        "POST",
        "/login",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Host": "127.0.0.1:8000"},
        body=f"key={key}".encode(),
    )
    match = re.search(r"talkshop_session=([^;]+)", answer.headers["Set-Cookie"])
    assert match
    return {"Cookie": f"talkshop_session={match.group(1)}", "Host": "127.0.0.1:8000"}


def page(path: str, headers: dict[str, str], query: str = "") -> HttpResult:
    return invoke("GET", path, query_string=query, headers=headers)


def opened(path: str, headers: dict[str, str], query: str = "") -> str:
    """The HTML of a page that opens (200)."""
    answer = page(path, headers, query)
    assert answer.status == 200, answer.body
    return answer.body.decode()


def test_the_sellers_page_shows_charts_tables_scores_and_escaped_questions(keys: Keys) -> None:
    answer = page("/dashboard/conversational-metrics", signed_in(keys.padelnest))
    assert answer.status == 200
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    html = answer.body.decode()
    # Trends, products' recommendations and scores, and their chats' API cost; no chat was abandoned:
    # that chart says so instead of drawing.
    assert html.count('role="img"') == 5
    assert html.count("<desc id=") == 5
    assert "Abandoned chats by last step" in html
    assert "Satisfaction" in html
    assert "Reply time p95" in html
    assert 'id="chat-figures-note"' in html
    assert "Show the numbers" in html
    assert '<th scope="row">Aero Lite</th>' in html
    assert "ai_avoid_when is empty: say who should not buy it" in html
    assert "is aero-lite good for beginners?" in html
    assert "<b>beginner</b>" not in html  # Bob's words are grouped, and escaped wherever shown
    assert "fjord-round" not in html
    assert "Fjord Round" not in html
    assert "/api/analytics/creator?" in html
    assert "format=csv" in html
    assert 'style="' not in html
    assert "<script>" not in html


def test_the_admins_page_and_who_may_open_it(keys: Keys) -> None:
    html = opened("/admin/conversational-commerce", signed_in(ADMIN_KEY))
    assert "Conversations today" in html
    assert "Top creators by chat revenue" in html
    assert "/dashboard/conversational-metrics?creatorId=courtcraft" in html

    refused = page("/admin/conversational-commerce", signed_in(keys.padelnest))
    assert refused.status == 403
    assert 'data-error-code="admin_only"' in refused.body.decode()
    # Bearer keys open the pages too (scripts).
    by_key = page("/dashboard/conversational-metrics", {"Authorization": f"Bearer {keys.courtcraft}"})
    assert by_key.status == 200
    assert "Fjord Round" in by_key.body.decode()


def test_the_admins_filters_keep_their_choice_and_say_whose_chats_they_count(keys: Keys) -> None:
    """Filtered to a creator with nothing in the range, the form still has that creator selected, the
    chat figures (cost, reply times...) are the creator's, with a note saying so, and the searches
    that showed no product are left out rather than shown as 0."""
    long_ago = (utc_now() - timedelta(days=100)).date()
    admin = signed_in(ADMIN_KEY)
    html = opened(
        "/admin/conversational-commerce", admin, f"from={long_ago}&to={long_ago}&creatorId=padelnest"
    )
    assert '<option value="padelnest" selected>Padelnest</option>' in html
    assert 'id="chat-figures-note"' in html
    assert "Reply time p50" in html
    assert "API cost per day" in html
    assert "Searches with no result" not in html

    whole = page("/admin/conversational-commerce", admin).body.decode()
    assert 'id="chat-figures-note"' not in whole
    assert "Reply time p50" in whole
    assert "Searches with no result" in whole
    assert '<select id="filter-product" name="productId">' in whole
    assert '<option value="aero-lite" >Aero Lite</option>' in whole
    one = page("/admin/conversational-commerce", admin, "productId=aero-lite").body.decode()
    assert '<option value="aero-lite" selected>Aero Lite</option>' in one
    # A product's chat figures are its creator's, looked up: shown, and said to be theirs.
    assert "still those of all this creator&#39;s products" in one
    assert "Reply time p50" in one
    assert "Fjord Round" not in one.split('id="products-title"')[1].split("</table>")[0]


def test_a_new_platform_shows_empty_dashboards_that_say_so(repository: Repository) -> None:
    """Nothing counted yet, a creator without products: both pages render, with words for the gaps."""
    creators = CreatorService(repository)
    creators.add("Newcomer", "newcomer")
    key = creators.issue_key("newcomer").api_key
    html = opened("/dashboard/conversational-metrics", signed_in(key))
    assert "No products to score yet." in html
    assert "You have no products yet." in html
    assert "Nothing sold or talked about in this period." in html
    html = opened("/admin/conversational-commerce", signed_in(ADMIN_KEY))
    assert "No creator sold or was talked about in this period." in html
    assert "Reply time p50" in html
    empty = get(ADMIN_API, ADMIN_KEY).json()["figures"]
    assert (empty["chat_conversion"], empty["aov_chat"], empty["tokens_per_chat_order"]) == (None, None, None)


def test_a_visitor_who_is_not_signed_in_is_sent_to_login_and_back(table: Any) -> None:
    answer = page("/dashboard/conversational-metrics", {"Host": "127.0.0.1:8000"}, "from=2026-11-01")
    assert answer.status == 303
    assert answer.headers["Location"] == (
        "/login?next=%2Fdashboard%2Fconversational-metrics%3Ffrom%3D2026-11-01"
    )


def test_the_admin_sees_what_the_learning_loop_did_to_the_ranking_weights(keys: Keys) -> None:
    ranking = get(ADMIN_API, ADMIN_KEY).json()["ranking"]
    assert ranking["current"]["version"] == 0
    assert ranking["current"]["reason"] == "default"
    html = page("/admin/conversational-commerce", signed_in(ADMIN_KEY)).body.decode()
    assert "Ranking weights (version 0) vs defaults" in html
    assert '<th scope="row">Version 0</th>' in html


def test_the_admin_sees_chat_conversion_since_the_current_weights_and_before(
    keys: Keys, repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert get(ADMIN_API, ADMIN_KEY).json()["learning"] is None  # the defaults changed nothing
    today = utc_now().date()
    # Outcomes enough to learn from: purchases rated well, dismissals not.
    monkeypatch.setattr(
        RankingWeights,
        "outcomes",
        lambda self, days: ([{"rating": 1.0}] * 5, [{"rating": 0.0}] * 5, today, today),
    )
    assert RankingWeights(repository).learn(LearnRequest()).version == 1
    learning = get(ADMIN_API, ADMIN_KEY).json()["learning"]
    assert (learning["version"], learning["since"]) == (1, today.isoformat())
    assert learning["after"] == {
        "start": today.isoformat(),
        "end": today.isoformat(),
        "conversations": 3,
        "chat_orders": 1,
        "chat_conversion": 1 / 3,
    }
    assert learning["before"]["end"] == (today - timedelta(days=1)).isoformat()
    assert (learning["before"]["conversations"], learning["before"]["chat_conversion"]) == (0, None)
    narrowed = get(ADMIN_API, ADMIN_KEY, "creatorId=courtcraft").json()["learning"]
    assert (narrowed["after"]["conversations"], narrowed["after"]["chat_orders"]) == (1, 0)
    html = page("/admin/conversational-commerce", signed_in(ADMIN_KEY)).body.decode()
    assert "Chat conversion with version 1" in html
    assert "1 chat orders of 3 chats" in html


def test_the_figures_stay_out_of_caches(keys: Keys) -> None:
    """A signed-in person's figures are never kept by a browser or a proxy (a shared computer)."""
    for answer in (
        get(CREATOR_API, keys.padelnest),
        get(ADMIN_API, ADMIN_KEY),
        get(CREATOR_API, keys.padelnest, "format=csv"),
    ):
        assert answer.status == 200
        assert answer.headers.get("Cache-Control") == "no-store"


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_the_understanding_score_tells_nothing_of_another_creators_unpublished_product(
    status: str, repository: Repository
) -> None:
    """A link to another creator's draft reads as missing, as on the shop: the score is no oracle."""
    from talkshop.analytics.dashboards import Filters, creator_dashboard
    from talkshop.auth import ADMIN, Principal, PrincipalKind
    from talkshop.catalog.model import ProductInput
    from talkshop.catalog.service import CatalogService

    CreatorService(repository).add("Padel Nest", "padelnest")
    CreatorService(repository).add("Court Craft", "courtcraft")
    catalog = CatalogService(repository)
    common = {"brand": "Acme", "category": "padel-rackets", "price": 5000, "currency": "EUR", "stock": 1}
    catalog.create_product(
        ProductInput(id="secret-draft", name="Secret", creator_id="courtcraft", status=status, **common),
        ADMIN,
    )
    catalog.create_product(
        ProductInput(id="own-draft", name="Own", creator_id="padelnest", status="draft", **common), ADMIN
    )
    catalog.create_product(
        ProductInput(id="nothing-here", name="Gone", creator_id="courtcraft", **common), ADMIN
    )
    for linked in ("secret-draft", "nothing-here"):
        catalog.create_product(
            ProductInput(
                id=f"links-{linked}",
                name=f"Links {linked}",
                creator_id="padelnest",
                ai_similar_products=[linked, "own-draft"],
                **common,
            ),
            ADMIN,
        )
    catalog.delete_product("nothing-here", ADMIN, None)
    today = utc_now().date()
    dashboard = creator_dashboard(
        repository, Principal(PrincipalKind.CREATOR, "padelnest"), Filters(start=today, end=today)
    )
    scored = {p.product_id: p.understanding for p in dashboard.products}
    draft, missing = scored["links-secret-draft"], scored["links-nothing-here"]
    assert draft.score == missing.score
    assert [s.text for s in draft.suggestions] == [
        s.text.replace("nothing-here", "secret-draft") for s in missing.suggestions
    ]
    assert any("secret-draft" in s.text and "not in the catalog" in s.text for s in draft.suggestions)
    assert not any("own-draft" in s.text for s in draft.suggestions)  # the creator's own draft exists


def test_a_chat_turns_cart_counts_on_the_chats_platform(repository: Repository) -> None:
    """A "buy aero-lite" in a ChatGPT chat: its cart add and its order are ChatGPT's, so the product's
    funnel under that platform goes from the cart to the purchase."""
    shop = Shop(repository, shop_products(repository))
    ana, _ = shop.new_shopper()
    chat = shop.new_chat(ana, platform="chatgpt")
    shop.send(ana, chat, "is aero-lite good for beginners?")
    shop.buy(ana, chat, "aero-lite")
    rebuild(repository)
    today = utc_now().date()

    figures = get(ADMIN_API, ADMIN_KEY, f"from={today}&to={today}&platform=chatgpt").json()["figures"]
    aero = next(product for product in figures["products"] if product["product_id"] == "aero-lite")
    assert (aero["chat_cart_adds"], aero["chat_purchases"], aero["click_to_purchase"]) == (1, 1, 1.0)
