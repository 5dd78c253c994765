"""Lambda entry point of the WebSocket $connect REQUEST authorizer.

Module level imports only what the interpreter already holds: joserfc pulls in cryptography's
x509 and serialization modules (most of a cold start), so they load on the first invocation,
together with the settings, which are read and validated once per container.
"""

from __future__ import annotations

import os

# typing.TYPE_CHECKING would import typing (and re) on a cold start; mypy treats this name alike.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from sumu_authorizer.authorizer import Authorizer
    from sumu_authorizer.decision import AuthorizerResponse

_container: list[Authorizer] = []  # the one Authorizer of this container, once built


def authorizer() -> Authorizer:
    """The container's authorizer; a bad environment raises SettingsError naming the variable."""
    if not _container:
        from sumu_authorizer.authorizer import Authorizer  # noqa: PLC0415 -- deferred, see above
        from sumu_authorizer.settings import load_settings  # noqa: PLC0415

        _container.append(Authorizer(load_settings(os.environ)))
    return _container[0]


def reset() -> None:
    """Forget the container's authorizer, so the next call re-reads the environment (tests)."""
    _container.clear()


def handler(event: object, context: object) -> AuthorizerResponse:
    return authorizer().authorize(event)
