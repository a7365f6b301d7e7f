"""POST, PUT and DELETE on /api/products: creators manage their own products, the admin any."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.metrics import MetricUnit

from talkshop.api.app import (
    create_app,
    error_responses,
    etag,
    expected_version,
    json_response,
    lambda_entrypoint,
    location_of,
)
from talkshop.api.context import caller, catalog
from talkshop.api.observability import metrics
from talkshop.catalog.model import Product, ProductInput
from talkshop.ontology.model import Identifier

app = create_app()


@app.post(
    "/api/products",
    summary="Create a product",
    tags=["catalog"],
    responses={201: {"description": "Created"}, **error_responses(400, 401, 403, 409, 413, 415, 422)},
)
def create_product(product: ProductInput) -> Response[Product]:
    created = catalog().create_product(product, caller(app))
    metrics.add_metric(name="ProductsCreated", unit=MetricUnit.Count, value=1)
    return json_response(
        created,
        status=201,
        headers={"ETag": etag(created.version), "Location": location_of(app, created.id)},
    )


@app.put(
    "/api/products/<id>",
    summary="Replace a product",
    tags=["catalog"],
    responses={
        200: {"description": "Replaced"},
        **error_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
    },
)
def replace_product(id: Annotated[Identifier, Path()], product: ProductInput) -> Response[Product]:
    updated = catalog().replace_product(id, product, caller(app), expected_version(app))
    metrics.add_metric(name="ProductsUpdated", unit=MetricUnit.Count, value=1)
    return json_response(updated, headers={"ETag": etag(updated.version)})


@app.delete(
    "/api/products/<id>",
    summary="Delete a product",
    tags=["catalog"],
    responses={204: {"description": "Deleted"}, **error_responses(400, 401, 403, 404, 409, 412, 422)},
)
def delete_product(id: Annotated[Identifier, Path()]) -> Response[None]:
    catalog().delete_product(id, caller(app), expected_version(app))
    metrics.add_metric(name="ProductsDeleted", unit=MetricUnit.Count, value=1)
    return Response(status_code=204)


lambda_handler = lambda_entrypoint(app)
