"""The `talkshop` command: run locally, import catalogs, manage creators, export the OpenAPI document.

Data commands act on the local runtime's data dir by default, or with --aws on the DynamoDB table
named by TALKSHOP_TABLE_NAME, using the ambient AWS credentials (how an operator seeds production).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from talkshop.errors import InvalidInput, TalkshopError
from talkshop.local.runtime import DEFAULT_DATA_DIR
from talkshop.settings import TABLE_NAME_VARIABLE


@contextmanager
def _catalog_target(args: argparse.Namespace) -> Iterator[None]:
    if args.aws:
        if not os.environ.get(TABLE_NAME_VARIABLE):
            raise InvalidInput(f"--aws needs {TABLE_NAME_VARIABLE}: the name of the deployed table.")
        yield
        return
    from talkshop.local.runtime import LocalAws

    with LocalAws(args.data_dir):
        yield


def _command_local(args: argparse.Namespace) -> int:
    from talkshop.local.server import serve

    serve(args.port, args.data_dir, host=args.host, quiet=args.quiet)
    return 0


def _command_import(args: argparse.Namespace) -> int:
    from talkshop.catalog.importer import CatalogImporter, ImportFormat

    with _catalog_target(args):
        from talkshop.api.context import catalog

        fmt = ImportFormat(args.format) if args.format else None
        report = CatalogImporter(catalog()).import_file(args.file, fmt, args.creator, args.currency)
    print(f"Imported {args.file}: {report.summary()}.")
    return 0


def _command_creator_add(args: argparse.Namespace) -> int:
    with _catalog_target(args):
        from talkshop.api.context import catalog

        issued = catalog().creators.add(args.name, args.id)
    print(f"Creator {issued.creator.id!r} ({issued.creator.name}) created.")
    print(f"API key (shown once, store it now): {issued.api_key}")
    return 0


def _command_creator_key(args: argparse.Namespace) -> int:
    with _catalog_target(args):
        from talkshop.api.context import catalog

        issued = catalog().creators.issue_key(args.id)
    print(f"New API key for {issued.creator.id!r} (shown once, store it now): {issued.api_key}")
    return 0


def _command_creator_revoke(args: argparse.Namespace) -> int:
    with _catalog_target(args):
        from talkshop.api.context import catalog

        revoked = catalog().creators.revoke_keys(args.id)
    print(f"Revoked {revoked} API key(s) of {args.id!r}; they stop working at once.")
    return 0


def _command_search(args: argparse.Namespace) -> int:
    from talkshop.search.service import SearchRequest, format_price

    request = SearchRequest(query=args.query, limit=args.limit)
    with _catalog_target(args):
        from talkshop.api.context import search_service

        found = search_service().search(request)
    if args.json:
        print(found.model_dump_json(indent=2))
        return 0
    for rank, product in enumerate(found.products, start=1):
        stock = f"in stock ({product.stock})" if product.stock > 0 else "sold out"
        rating = f"{product.rating:.1f}/5" if product.rating is not None else "unrated"
        needs = f"; matches {', '.join(product.matched_needs)}" if product.matched_needs else ""
        price = format_price(product.price, product.currency)
        print(f"{rank}. {product.name} ({product.brand}) {price}, {stock}, {rating}{needs}")
    print(found.explanation)
    return 0


def _command_reindex(args: argparse.Namespace) -> int:
    with _catalog_target(args):
        from talkshop.api.context import catalog, search_indexer

        report = search_indexer().index_products(catalog().all_products())
    print(
        f"Indexed {len(report.indexed)} product(s) ({report.embedded} embedded, {report.reused} reused); "
        f"{len(report.removed)} not active, removed from the index."
    )
    return 0


def _command_sweep(args: argparse.Namespace) -> int:
    with _catalog_target(args):
        from talkshop.api.context import chat_sessions
        from talkshop.commerce.checkout_steps import default_steps

        abandoned = chat_sessions().sweep_abandoned()
        swept = default_steps().sweep_stale()
    print(f"Marked {len(abandoned)} idle chat(s) as abandoned.")
    if swept.abandoned or swept.released or swept.paid:
        print(
            f"Stale checkouts: {len(swept.abandoned)} abandoned, {len(swept.released)} reservation(s) "
            f"released, {len(swept.paid)} placed order(s) captured."
        )
    return 0


def _command_feed_export(args: argparse.Namespace) -> int:
    from talkshop.commerce.feed import FeedExporter, FeedFormat, Shop
    from talkshop.settings import get_settings

    with _catalog_target(args):
        from talkshop.api.context import catalog

        settings = get_settings()
        feed = FeedExporter(catalog(), Shop(settings.shop_name, settings.public_url)).export(
            FeedFormat(args.format)
        )
    if args.output:
        args.output.write_text(feed, encoding="utf-8")
    else:
        sys.stdout.write(feed)
    return 0


def _command_openapi(args: argparse.Namespace) -> int:
    from talkshop.api.openapi import openapi_document

    document = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    if args.output:
        args.output.write_text(document)
    else:
        sys.stdout.write(document)
    return 0


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="local runtime data (default .talkshop)"
    )
    parser.add_argument(
        "--aws", action="store_true", help="act on the AWS table named by TALKSHOP_TABLE_NAME"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="talkshop", description=__doc__.splitlines()[0] if __doc__ else None
    )
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="serve the API on 127.0.0.1 with the embedded AWS stand-ins")
    local.add_argument("--port", type=int, default=8000)
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    local.add_argument("--quiet", action="store_true", help="do not log each request")
    local.set_defaults(run=_command_local)

    importer = commands.add_parser("import", help="import products from JSON, Talkshop CSV or a Shopify CSV")
    importer.add_argument("file", type=Path)
    importer.add_argument("--format", choices=["json", "csv", "shopify"], help="default: from the file")
    importer.add_argument("--creator", help="creator id for a Shopify export (it names none)")
    importer.add_argument("--currency", default="EUR", help="currency of a Shopify export's prices")
    _data_options(importer)
    importer.set_defaults(run=_command_import)

    creator = commands.add_parser("creator", help="manage creators").add_subparsers(
        dest="action", required=True
    )
    add = creator.add_parser("add", help="create a creator and print their API key once")
    add.add_argument("name")
    add.add_argument("--id", help="creator id (default: from the name)")
    _data_options(add)
    add.set_defaults(run=_command_creator_add)
    key = creator.add_parser("key", help="issue another API key for a creator")
    key.add_argument("id")
    _data_options(key)
    key.set_defaults(run=_command_creator_key)
    revoke = creator.add_parser("revoke", help="revoke every API key of a creator")
    revoke.add_argument("id")
    _data_options(revoke)
    revoke.set_defaults(run=_command_creator_revoke)

    search = commands.add_parser("search", help="search the catalog as POST /api/chat/search does")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--json", action="store_true", help="print the API's JSON answer")
    _data_options(search)
    search.set_defaults(run=_command_search)

    reindex = commands.add_parser(
        "reindex", help="index every product again (backfill a new search index, or after a lost stream)"
    )
    _data_options(reindex)
    reindex.set_defaults(run=_command_reindex)

    sweep = commands.add_parser(
        "sweep",
        help="abandon chats idle for 30 minutes, finish checkouts whose run died (as the schedule does)",
    )
    _data_options(sweep)
    sweep.set_defaults(run=_command_sweep)

    feed = commands.add_parser("feed", help="product feeds for agents").add_subparsers(
        dest="action", required=True
    )
    export = feed.add_parser("export", help="export the active products as ACP products.jsonl or OpenAI CSV")
    export.add_argument("--format", choices=["acp", "openai"], required=True)
    export.add_argument("--output", type=Path, help="default: standard output")
    _data_options(export)
    export.set_defaults(run=_command_feed_export)

    openapi = commands.add_parser("openapi", help="print the OpenAPI document of the whole API")
    openapi.add_argument("--output", type=Path)
    openapi.set_defaults(run=_command_openapi)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except TalkshopError as error:
        print(f"error ({error.code}): {error.message}", file=sys.stderr)
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"])
            print(f"error (invalid_input): {where}: {problem['msg']}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
