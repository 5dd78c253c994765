"""moto's action lookup, once per handler class instead of once per request.

moto (5.x) ``BaseResponse.call_action`` asks, for every request of every service,
``method_names_from_class(self.__class__)``: ``inspect.getmembers`` over the handler class (a
few hundred attributes, each ``getattr``'d and tested), only to check that the action's name is
one of them. Profiling a subscribe burst (``bench/moto_scan.py --profile``) put it at ~10 % of
moto's time per request. The handler classes do not gain or lose methods while a server runs
(sumu-local's fast paths replace existing methods, under the same names), so the names are
listed once per class, in moto's order; a class never seen is listed on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import moto.core.responses as moto_responses
from moto.core import utils as moto_utils

_original: Callable[[object], list[str]] = moto_utils.method_names_from_class
# The name call_action looks up, in moto.core.responses' namespace (imported from utils there).
_NAME = "method_names_from_class"
_names: dict[Any, list[str]] = {}
_install_lock = threading.Lock()


def install() -> None:
    """Patch the name moto's ``call_action`` looks up (idempotent)."""
    with _install_lock:
        vars(moto_responses)[_NAME] = _cached


def uninstall() -> None:
    with _install_lock:
        vars(moto_responses)[_NAME] = _original
        _names.clear()


def _cached(clazz: object) -> list[str]:
    names = _names.get(clazz)
    if names is None:
        names = _names[clazz] = _original(clazz)
    return names
