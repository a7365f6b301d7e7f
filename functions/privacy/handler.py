"""A shopper's own data (GDPR): GET /api/me/export, DELETE /api/me, GET and PUT /api/me/analytics.

The shopper is the one of the token (Authorization: Bearer tsh_...) or of the web client's cookie;
the logic, and what is kept or erased, lives in talkshop.privacy.
"""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from talkshop.api.app import create_app, error_responses, json_response, lambda_entrypoint
from talkshop.api.context import caller, repository
from talkshop.api.cookies import forget_shopper_cookie
from talkshop.api.observability import metrics
from talkshop.privacy import AnalyticsChoice, ShopperData, ShopperExport
from talkshop.settings import get_settings

app = create_app()


def _shopper_data() -> ShopperData:
    return ShopperData(repository())


@app.get(
    "/api/me/export",
    summary="Download everything the shop holds about you (JSON)",
    tags=["privacy"],
    responses={200: {"description": "Your data"}, **error_responses(401, 403, 404, 422)},
)
def export_my_data() -> Response[ShopperExport]:
    exported = _shopper_data().export(caller(app))
    metrics.add_metric(name="ShopperDataExports", unit=MetricUnit.Count, value=1)
    return json_response(
        exported,
        headers={
            "Content-Disposition": 'attachment; filename="talkshop-my-data.json"',
            "Cache-Control": "no-store",  # personal data: no shared cache may keep it
        },
    )


@app.delete(
    "/api/me",
    summary="Erase your data; your orders stay, anonymised; your token stops working",
    tags=["privacy"],
    responses={204: {"description": "Erased"}, **error_responses(401, 403, 404, 409, 422)},
)
def erase_my_data() -> Response[None]:
    _shopper_data().erase(caller(app))
    metrics.add_metric(name="ShopperErasures", unit=MetricUnit.Count, value=1)
    # A browser that erased through its cookie drops the dead token too.
    secure = get_settings().public_url.startswith("https://")
    return Response(status_code=204, headers={"Set-Cookie": forget_shopper_cookie(secure=secure)})


@app.get(
    "/api/me/analytics",
    summary="Whether your activity is counted in the shop's analytics",
    tags=["privacy"],
    responses={200: {"description": "Your choice"}, **error_responses(401, 403, 404, 422)},
)
def my_analytics_choice() -> Response[AnalyticsChoice]:
    return json_response(_shopper_data().analytics_choice(caller(app)))


@app.put(
    "/api/me/analytics",
    summary="Opt out of analytics (enabled: false) or back in (enabled: true)",
    tags=["privacy"],
    responses={
        200: {"description": "Your choice, recorded"},
        **error_responses(400, 401, 403, 404, 409, 415, 422),
    },
)
def choose_analytics(choice: AnalyticsChoice) -> Response[AnalyticsChoice]:
    return json_response(_shopper_data().choose_analytics(caller(app), choice))


lambda_handler = lambda_entrypoint(app)
