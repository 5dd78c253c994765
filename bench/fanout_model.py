"""How long a broadcast to N connections takes with K fan-out jobs (issue 19): a model.

    python3 -m uv run --frozen python bench/fanout_model.py [--r 2000] [--limit 10000]

    T(N, K) = hop + N / min(K * r, L) + scan(N / K)

- ``r``: posts per second one pusher invocation sustains (the bounded pool, PUSHER_CONCURRENCY
  posts in flight). Measured here with ``bench/segment_memory.py`` (one job posting to the
  management API stand-in on 127.0.0.1, every post 200: delivered / job time); on AWS the issue
  puts it at about 2,000 posts/s (64 in flight at ~30 ms a post). Pass ``--r``.
- ``L``: the management API's share of the account-level API Gateway throttle, 10,000
  requests/s per account and Region by default (2,500 in some newer Regions), shared by every
  REST, HTTP and WebSocket API and the WebSocket callback (@connections) API of the account:
  https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html (Service Quotas code
  L-8A5B8E43; raisable).
- ``scan(n)``: a job's own segment, ceil(n / 4,000) pages (1 MB pages of ~250-byte items) at
  ``--page-ms`` each; counted in full although the pages stream into the pool while it posts,
  so it is an upper bound.
- ``hop``: one SQS hop (SendMessageBatch, then the event source's poll) when K > 1, ``--hop-ms``.

Above K* = ceil(L / r) more jobs buy nothing: the account throttle answers 429, which the
pusher retries with backoff (and, past PUSHER_MAX_ATTEMPTS, re-enqueues as narrowed jobs).
"""

from __future__ import annotations

import argparse
import math

ITEMS_PER_PAGE = 4_000


def broadcast_seconds(
    n: int, k: int, r: float, limit: float, *, page_ms: float = 20.0, hop_ms: float = 100.0
) -> float:
    hop = hop_ms / 1000 if k > 1 else 0.0
    scan = math.ceil(n / k / ITEMS_PER_PAGE) * page_ms / 1000
    return hop + n / min(k * r, limit) + scan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--r", type=float, default=2000.0, help="posts/s of one invocation")
    parser.add_argument("--limit", type=float, default=10_000.0, help="L, requests/s")
    parser.add_argument("--page-ms", type=float, default=20.0)
    parser.add_argument("--hop-ms", type=float, default=100.0)
    arguments = parser.parse_args()
    r, limit = arguments.r, arguments.limit
    k_star = math.ceil(limit / r)
    print(f"r = {r:,.0f} posts/s per invocation, L = {limit:,.0f} requests/s, K* = {k_star}")
    print()
    ks = sorted({1, 2, 4, k_star, 2 * k_star})
    print("| N | " + " | ".join(f"K = {k}" for k in ks) + " | floor N / L |")
    print("|---:|" + "---:|" * (len(ks) + 1))
    for n in (10_000, 100_000, 1_000_000):
        cells = [
            f"{broadcast_seconds(n, k, r, limit, page_ms=arguments.page_ms, hop_ms=arguments.hop_ms):,.1f} s"
            for k in ks
        ]
        print(f"| {n:,} | " + " | ".join(cells) + f" | {n / limit:,.1f} s |")


if __name__ == "__main__":
    main()
