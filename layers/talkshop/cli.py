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
from talkshop.settings import SINGLE_THREADED_BLAS, TABLE_NAME_VARIABLE

MAX_SIMULATED_CONVERSATIONS = 100_000


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


def _command_analytics_rebuild(args: argparse.Namespace) -> int:
    with _catalog_target(args):
        from talkshop.analytics.rebuild import rebuild
        from talkshop.api.context import repository

        report = rebuild(repository())
    print(f"Rebuilt the analytics: {report.summary()}.")
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


def _command_simulate(args: argparse.Namespace) -> int:
    from talkshop.analytics.simulate import MAX_TRADITIONAL_SHARE, OverHttp, simulate, simulate_in_process

    if not 1 <= args.conversations <= MAX_SIMULATED_CONVERSATIONS:
        raise InvalidInput(f"--conversations must be between 1 and {MAX_SIMULATED_CONVERSATIONS}.")
    if not 0 <= args.traditional_share <= MAX_TRADITIONAL_SHARE:
        raise InvalidInput(f"--traditional-share must be between 0 and {MAX_TRADITIONAL_SHARE}.")

    def progress(done: int, total: int) -> None:
        if done == total or done % max(1, total // 10) == 0:
            print(f"  {done}/{total} shoppers", file=sys.stderr, flush=True)

    options = (args.conversations, args.seed, args.traditional_share, progress)
    if args.url:
        print(simulate(OverHttp(args.url), *options).summary())
        return 0
    from talkshop.local.runtime import LocalAws

    with LocalAws(args.data_dir) as aws:
        outcome = simulate_in_process(aws, *options)
        from talkshop.analytics.simulate import headline_figures

        print(outcome.summary())
        print(headline_figures(outcome))
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


def _arm(spec: str) -> dict[str, object]:
    """An --arm of `talkshop experiments start`: NAME:TRAFFIC[:WEIGHT=VALUE,...]."""
    name, _, rest = spec.partition(":")
    traffic, _, changes = rest.partition(":")
    try:
        weights = {
            key: float(value) for key, value in (item.split("=", 1) for item in changes.split(",") if item)
        }
        return {"name": name, "traffic": int(traffic), "weights": weights}
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{spec!r} is not NAME:TRAFFIC[:WEIGHT=VALUE,...]") from error


def _command_experiments(args: argparse.Namespace) -> int:
    from talkshop.analytics.experiments import ExperimentRequest, Experiments

    request = (  # checked before any data is touched
        ExperimentRequest(name=args.name, description=args.description, arms=args.arm)
        if args.action == "start"
        else None
    )
    with _catalog_target(args):
        from talkshop.api.context import repository

        experiments = Experiments(repository())
        if request is not None:
            print(experiments.start(request).model_dump_json(by_alias=True, indent=2))
        elif args.action == "stop":
            print(experiments.stop(args.id).model_dump_json(by_alias=True, indent=2))
        elif args.action == "list":
            for item in experiments.list(limit=100, cursor=None).items:
                print(f"{item.id}  {item.status:8}  {item.started_at:%Y-%m-%d %H:%M}  {item.name}")
        else:
            report = experiments.report(args.id)
            if args.json:
                print(report.model_dump_json(by_alias=True, indent=2))
                return 0
            print(f"{report.experiment.name} ({report.experiment.status}); 95 % intervals")
            for row in report.arms:
                rate = row.conversion_rate
                line = (
                    f"{row.arm:20} exposed {row.exposures:6}  converted {row.conversions:6}  "
                    f"rate {rate.estimate:7.2%} [{rate.low:.2%}, {rate.high:.2%}]"
                )
                if row.difference is not None:
                    change = row.difference
                    line += f"  vs control {change.estimate:+.2%} [{change.low:+.2%}, {change.high:+.2%}]"
                print(line)
    return 0


def _command_learn(args: argparse.Namespace) -> int:
    from talkshop.analytics.learning import LearnRequest, RankingWeights, RollbackRequest

    with _catalog_target(args):
        from talkshop.api.context import repository

        weights = RankingWeights(repository())
        if args.show:
            print(weights.history().model_dump_json(by_alias=True, indent=2))
            return 0
        if args.rollback is not None:
            version = weights.rollback(RollbackRequest(version=args.rollback))
        else:
            version = weights.learn(LearnRequest(days=args.days))
    print(version.model_dump_json(by_alias=True, indent=2))
    return 0


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

    analytics = commands.add_parser("analytics", help="analytics metric items").add_subparsers(
        dest="action", required=True
    )
    rebuild = analytics.add_parser(
        "rebuild", help="drop every metric item and count every recorded event again (same numbers)"
    )
    _data_options(rebuild)
    rebuild.set_defaults(run=_command_analytics_rebuild)

    simulate = commands.add_parser(
        "simulate", help="drive seeded chat and storefront shoppers through the local runtime's handlers"
    )
    simulate.add_argument("--conversations", type=int, default=100, help="chat conversations (default 100)")
    simulate.add_argument("--seed", type=int, default=1, help="same seed, same shoppers (default 1)")
    simulate.add_argument(
        "--traditional-share",
        type=float,
        default=0.3,
        help="share of all shoppers who use the storefront instead of a chat (default 0.3)",
    )
    simulate.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="local runtime data (default .talkshop)"
    )
    simulate.add_argument("--url", help="drive a running `talkshop local` at this URL instead of a data dir")
    simulate.set_defaults(run=_command_simulate)

    experiments = commands.add_parser(
        "experiments", help="A/B experiments of ranking strategies (docs/analytics.md)"
    ).add_subparsers(dest="action", required=True)
    start = experiments.add_parser("start", help="start one (the first --arm is the control)")
    start.add_argument("--name", required=True)
    start.add_argument("--description", default="")
    start.add_argument(
        "--arm",
        type=_arm,
        action="append",
        required=True,
        help="NAME:TRAFFIC[:WEIGHT=VALUE,...], e.g. control:50 and rating-first:50:rating=1.5",
    )
    stop = experiments.add_parser("stop", help="stop one; its report stays")
    stop.add_argument("id")
    listing = experiments.add_parser("list", help="every experiment, newest first")
    report = experiments.add_parser("report", help="conversion per arm with 95 %% intervals")
    report.add_argument("id")
    report.add_argument("--json", action="store_true", help="print the API's JSON answer")
    for each in (start, stop, listing, report):
        _data_options(each)
        each.set_defaults(run=_command_experiments)

    learn = commands.add_parser(
        "learn", help="learn ranking weights from purchased and dismissed recommendations (bounded)"
    )
    learn.add_argument("--days", type=int, default=30, help="days of outcomes to read (default 30)")
    learn.add_argument("--rollback", type=int, metavar="VERSION", help="make VERSION's weights current")
    learn.add_argument("--show", action="store_true", help="print the current weights and their history")
    _data_options(learn)
    learn.set_defaults(run=_command_learn)

    openapi = commands.add_parser("openapi", help="print the OpenAPI document of the whole API")
    openapi.add_argument("--output", type=Path)
    openapi.set_defaults(run=_command_openapi)
    return parser


def main(argv: list[str] | None = None) -> int:
    for name, value in SINGLE_THREADED_BLAS.items():  # before any command loads numpy
        os.environ.setdefault(name, value)
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
