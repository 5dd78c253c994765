"""A fast path for moto's SQS SendMessage on a standard queue.

moto (5.x) reads ``queue.attributes.get("ContentBasedDeduplication")`` on every SendMessage, and
``Queue.attributes`` computes every attribute of the queue, three of them by walking all its
messages (``ApproximateNumberOfMessages``, ``...Delayed``, ``...NotVisible``, each checking
each message's clock). A queue nobody reads (the messages queue of a load run, where presence
sends an ONLINE event per connection) makes every send cost its depth: at 10,000 waiting
messages moto spent most of its time there.

``ContentBasedDeduplication`` is a FIFO attribute: moto's own ``attributes`` never returns it for
a standard queue, so while a SendMessage runs, a standard queue's ``attributes`` answers ``{}``
(its ``get`` gives the same None). Only that read, on that thread, changes; FIFO queues and
every other caller (GetQueueAttributes, ...) run moto's code unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.sqs.models import Queue, SQSBackend

_original_attributes: Callable[[Queue], dict[str, Any]] = Queue.attributes.fget  # type: ignore[attr-defined]
_original_send_message: Callable[..., Any] = SQSBackend.send_message
_scope = threading.local()
_install_lock = threading.Lock()


def install() -> None:
    """Patch moto's ``SQSBackend.send_message`` and ``Queue.attributes`` (idempotent)."""
    with _install_lock:
        SQSBackend.send_message = _send_message  # type: ignore[method-assign]
        Queue.attributes = property(_attributes)  # type: ignore[assignment,method-assign]


def uninstall() -> None:
    with _install_lock:
        SQSBackend.send_message = _original_send_message  # type: ignore[method-assign]
        Queue.attributes = property(_original_attributes)  # type: ignore[assignment,method-assign]


def _send_message(self: SQSBackend, *args: Any, **kwargs: Any) -> Any:
    _scope.sending = True
    try:
        return _original_send_message(self, *args, **kwargs)
    finally:
        _scope.sending = False


def _attributes(self: Queue) -> dict[str, Any]:
    if getattr(_scope, "sending", False) and not self.fifo_queue:
        return {}  # SendMessage only asks a FIFO attribute, which a standard queue never has
    return _original_attributes(self)
