"""Event sources: what Lambda's pollers and SNS would do for the local stack's functions.

moto stores the messages and the stream but runs no code, so these threads read them and invoke
the handlers with the events Lambda would build.
"""

from sumu_local.stack.sources.sns import SnsEventSource
from sumu_local.stack.sources.sqs import SqsEventSource
from sumu_local.stack.sources.stream import StreamEventSource
from sumu_local.stack.sources.ttl import ServiceDeletions, TtlSweeper

__all__ = [
    "ServiceDeletions",
    "SnsEventSource",
    "SqsEventSource",
    "StreamEventSource",
    "TtlSweeper",
]
