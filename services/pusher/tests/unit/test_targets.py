"""Lookup plans and per-request target sets (pure)."""

from __future__ import annotations

from sumu_pusher.records import InboundRecord, NotificationJob
from sumu_pusher.targets import Connection, connections_for, lookup_plan

RECORD = InboundRecord(0, "aws:sqs", "m", "{}")


def job(users=(), excluded=(), broadcast=False):
    return NotificationJob(RECORD, broadcast, tuple(users), frozenset(excluded), b"1")


def test_one_query_per_distinct_selected_user_and_one_scan_for_all_broadcasts():
    plan = lookup_plan([job(["a", "b"]), job(["b", "c"]), job(broadcast=True), job(broadcast=True)])
    assert plan.users == ("a", "b", "c")
    assert plan.scan


def test_no_scan_without_a_broadcast():
    assert not lookup_plan([job(["a"])]).scan


def test_connections_are_unique_and_excluded_users_filtered():
    a1, a2, b1 = Connection("a", "1"), Connection("a", "2"), Connection("b", "3")
    everyone = [a1, a2, b1, a1]
    assert connections_for(job(broadcast=True, excluded=["b"]), {}, everyone) == [a1, a2]
    by_user = {"a": [a1, a2], "b": [b1]}
    assert connections_for(job(["a", "b"]), by_user, []) == [a1, a2, b1]
    assert connections_for(job(["ghost"]), by_user, []) == []
