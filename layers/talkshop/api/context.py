"""Per-process dependencies of the handlers, created once per cold start (or on first use)."""

from __future__ import annotations

from functools import lru_cache

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from talkshop.api.app import header
from talkshop.auth import Principal, authenticate
from talkshop.catalog.service import CatalogService
from talkshop.data.repository import Repository
from talkshop.settings import get_settings


@lru_cache(maxsize=1)
def repository() -> Repository:
    return Repository(boto3.resource("dynamodb").Table(get_settings().table_name))


@lru_cache(maxsize=1)
def catalog() -> CatalogService:
    return CatalogService(repository())


def caller(app: APIGatewayRestResolver) -> Principal:
    return authenticate(header(app, "Authorization"), repository(), get_settings())
