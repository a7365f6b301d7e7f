"""The dashboards' JSON APIs: a creator's conversational metrics and the platform's, or their tables as
CSV (`?format=csv&table=`). A creator key, the admin key or the signed-in session cookie of /login;
a creator sees their own products only (talkshop.analytics.dashboards)."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from talkshop.analytics.dashboards import (
    AdminDashboard,
    CreatorDashboard,
    Filters,
    admin_csv,
    admin_dashboard,
    creator_csv,
    creator_dashboard,
    parse_filters,
)
from talkshop.api.app import create_app, error_responses, json_response, lambda_entrypoint
from talkshop.api.context import caller, repository
from talkshop.clock import utc_now

app = create_app()
Day = Annotated[
    str | None, Query(alias="from", description="First UTC day, YYYY-MM-DD (default: 30 days ago)")
]
LastDay = Annotated[str | None, Query(alias="to", description="Last UTC day, YYYY-MM-DD (default: today)")]
ProductId = Annotated[str | None, Query(alias="productId", max_length=128)]
CreatorId = Annotated[str | None, Query(alias="creatorId", max_length=128)]
PlatformName = Annotated[str | None, Query(max_length=32)]
Format = Annotated[Literal["json", "csv"], Query(description="csv: one table as a CSV file")]
Table = Annotated[str | None, Query(max_length=32, description="Which table the CSV holds")]
_ERRORS = error_responses(401, 403, 422)
#: A person's figures stay out of every cache (a shared computer's browser, a proxy).
_NO_STORE = {"Cache-Control": "no-store"}


def _csv(file_name: str, text: str) -> Response[Any]:
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=text,
        headers={"Content-Disposition": f'attachment; filename="{file_name}"', **_NO_STORE},
    )


def _filters(
    start: str | None, end: str | None, product: str | None, creator: str | None, platform: str | None
) -> Filters:
    parameters = {"from": start, "to": end, "productId": product, "creatorId": creator, "platform": platform}
    return parse_filters(parameters, utc_now().date())


@app.get(
    "/api/analytics/creator",
    summary="A creator's conversational metrics, AI understanding scores and common questions",
    tags=["analytics"],
    responses={200: {"description": "The seller's dashboard, or one of its tables as CSV"}, **_ERRORS},
)
def creator_figures(
    start: Day = None,
    end: LastDay = None,
    product_id: ProductId = None,
    creator_id: CreatorId = None,
    platform: PlatformName = None,
    format: Format = "json",
    table: Table = None,
) -> Response[CreatorDashboard | str]:
    filters = _filters(start, end, product_id, creator_id, platform)
    dashboard = creator_dashboard(repository(), caller(app, signed_in=True), filters)
    if format == "csv":
        return _csv(*creator_csv(dashboard, table))
    return json_response(dashboard, headers=_NO_STORE)


@app.get(
    "/api/analytics/admin",
    summary="The platform's conversational commerce figures (admin)",
    tags=["analytics"],
    responses={200: {"description": "The platform's dashboard, or one of its tables as CSV"}, **_ERRORS},
)
def platform_figures(
    start: Day = None,
    end: LastDay = None,
    product_id: ProductId = None,
    creator_id: CreatorId = None,
    platform: PlatformName = None,
    format: Format = "json",
    table: Table = None,
) -> Response[AdminDashboard | str]:
    filters = _filters(start, end, product_id, creator_id, platform)
    dashboard = admin_dashboard(repository(), caller(app, signed_in=True), filters, utc_now().date())
    if format == "csv":
        return _csv(*admin_csv(dashboard, table))
    return json_response(dashboard, headers=_NO_STORE)


lambda_handler = lambda_entrypoint(app)
