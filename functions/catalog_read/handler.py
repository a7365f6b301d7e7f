"""GET /api/products and GET /api/products/{id}: public catalog reads (drafts only for their owner)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from talkshop.api.app import create_app, error_responses, etag, json_response, lambda_entrypoint
from talkshop.api.context import caller, catalog
from talkshop.api.observability import metrics
from talkshop.catalog.model import Product, ProductPage, ProductStatus
from talkshop.catalog.service import ProductQuery
from talkshop.ontology.model import Identifier

app = create_app()


@app.get(
    "/api/products",
    summary="List products",
    tags=["catalog"],
    responses={200: {"description": "A page of products"}, **error_responses(400, 401, 403, 422)},
)
def list_products(
    category: Annotated[str | None, Query(max_length=64)] = None,
    creator: Annotated[Identifier | None, Query()] = None,
    min_price: Annotated[int | None, Query(ge=0, description="Minor units, inclusive")] = None,
    max_price: Annotated[int | None, Query(ge=0, description="Minor units, inclusive")] = None,
    in_stock: Annotated[bool | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words that must all appear")] = None,
    status: Annotated[ProductStatus, Query()] = ProductStatus.ACTIVE,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response[ProductPage]:
    query = ProductQuery(
        category=category,
        creator_id=creator,
        min_price=min_price,
        max_price=max_price,
        in_stock=in_stock,
        text=q,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    page = catalog().list_products(query, caller(app))
    metrics.add_metric(name="ProductListings", unit=MetricUnit.Count, value=1)
    return json_response(page)


@app.get(
    "/api/products/<id>",
    summary="Get one product",
    tags=["catalog"],
    responses={200: {"description": "The product; ETag is its version"}, **error_responses(401, 404, 422)},
)
def get_product(id: Annotated[Identifier, Path()]) -> Response[Product]:
    product = catalog().get_product(id, caller(app))
    metrics.add_metric(name="ProductViews", unit=MetricUnit.Count, value=1)
    return json_response(product, headers={"ETag": etag(product.version)})


lambda_handler = lambda_entrypoint(app)
