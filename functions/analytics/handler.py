"""The dashboards' JSON APIs: a creator's conversational metrics and the platform's, or their tables as
CSV (`?format=csv&table=`). A creator key, the admin key or the signed-in session cookie of /login;
a creator sees their own products only (talkshop.analytics.dashboards)."""

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

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


Dashboard = TypeVar("Dashboard", CreatorDashboard, AdminDashboard)


def _dashboard_api(
    path: str,
    operation_id: str,
    summary: str,
    model: type[Dashboard],
    build: Callable[[Filters], Dashboard],
    as_csv: Callable[[Dashboard, str | None], tuple[str, str]],
) -> None:
    """Route `path` (operation `operation_id`, as clients generated from docs/openapi.json know it) to
    a dashboard's API: `build` computes it for the query string's filters, answered as JSON (`model`)
    or, with `format=csv`, as the CSV of one of its tables (`as_csv`)."""

    @app.get(
        path,
        operation_id=operation_id,
        summary=summary,
        tags=["analytics"],
        responses={
            200: {
                "description": "The dashboard, or one of its tables as CSV",
                "content": {"application/json": {"model": model}, "text/csv": {"schema": {"type": "string"}}},
            },
            **_ERRORS,
        },
    )
    def dashboard(
        start: Day = None,
        end: LastDay = None,
        product_id: ProductId = None,
        creator_id: CreatorId = None,
        platform: PlatformName = None,
        format: Format = "json",
        table: Table = None,
    ) -> Response[Any]:
        parameters = {"from": start, "to": end, "productId": product_id, "creatorId": creator_id}
        found = build(parse_filters({**parameters, "platform": platform}, utc_now().date()))
        if format == "json":
            return json_response(found, headers=_NO_STORE)
        file_name, text = as_csv(found, table)
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=text,
            headers={"Content-Disposition": f'attachment; filename="{file_name}"', **_NO_STORE},
        )


_dashboard_api(
    "/api/analytics/creator",
    "creator_figures_api_analytics_creator_get",
    "A creator's conversational metrics, AI understanding scores and common questions",
    CreatorDashboard,
    lambda filters: creator_dashboard(repository(), caller(app, signed_in=True), filters),
    creator_csv,
)
_dashboard_api(
    "/api/analytics/admin",
    "platform_figures_api_analytics_admin_get",
    "The platform's conversational commerce figures (admin)",
    AdminDashboard,
    lambda filters: admin_dashboard(repository(), caller(app, signed_in=True), filters, utc_now().date()),
    admin_csv,
)


lambda_handler = lambda_entrypoint(app)
