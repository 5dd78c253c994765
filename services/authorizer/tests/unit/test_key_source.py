from __future__ import annotations

import socket
import threading

import pytest
from sumu_authorizer.key_source import FetchError, fetch_json, max_age
from sumu_authorizer.key_store import RefetchBudget


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("public, max-age=19845, must-revalidate, no-transform", 19845),
        ('max-age="60"', 60),
        ("MAX-AGE=7", 7),
        ("public, s-maxage=10", None),
        ("no-cache", 0),
        ("private, no-store, max-age=600", 0),
    ],
)
def test_max_age(header: str | None, seconds: int | None) -> None:
    assert max_age(header) == seconds


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example/jwks", "data:,{}"])
def test_only_http_urls_are_fetched(url: str) -> None:
    with pytest.raises(FetchError, match="non-http"):
        fetch_json(url)


def test_refetch_budget_allows_a_burst_then_one_per_refill() -> None:
    budget = RefetchBudget(burst=3, refill_seconds=20, now=0)
    assert [budget.take(0) for _ in range(5)] == [True, True, True, False, False]
    assert budget.take(19) is False
    assert budget.take(21) is True
    assert budget.take(22) is False
    assert [budget.take(1000) for _ in range(4)] == [True, True, True, False]


def test_a_malformed_http_answer_is_a_fetch_error() -> None:
    # GIVEN a key endpoint on 127.0.0.1 that answers something that is not HTTP
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def answer_garbage() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(4096)
                connection.sendall(b"GARBAGE\r\n\r\n")

        server = threading.Thread(target=answer_garbage, daemon=True)
        server.start()
        # WHEN the keys are fetched THEN it is a FetchError (an outage), not BadStatusLine
        with pytest.raises(FetchError, match="BadStatusLine"):
            fetch_json(f"http://127.0.0.1:{port}/jwks.json")
        server.join(timeout=5)
