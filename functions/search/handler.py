"""POST /api/chat/search: hybrid product search for chats (public)."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from talkshop.api.app import create_app, error_responses, json_response, lambda_entrypoint
from talkshop.api.context import search_service
from talkshop.api.observability import metrics
from talkshop.search.service import SearchRequest, SearchResponse

app = create_app()


@app.post(
    "/api/chat/search",
    summary="Search products in the shopper's own words",
    tags=["search"],
    responses={
        200: {"description": "Products, an explanation and how the query was read"},
        **error_responses(400, 415, 422),
    },
)
def search(request: SearchRequest) -> Response[SearchResponse]:
    found = search_service().search(request)
    metrics.add_metric(name="Searches", unit=MetricUnit.Count, value=1)
    if not found.products:
        metrics.add_metric(name="SearchesWithoutResults", unit=MetricUnit.Count, value=1)
    return json_response(found)


lambda_handler = lambda_entrypoint(app)
