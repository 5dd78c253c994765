"""Lambda entry point of the WebSocket $connect REQUEST authorizer.

Only the standard library is imported at module level: joserfc pulls in cryptography's x509 and
serialization modules (most of a cold start), so they load on the first invocation instead,
together with the settings, which are read and validated once per container.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sumu_authorizer.authorizer import Authorizer
    from sumu_authorizer.decision import AuthorizerResponse


@functools.cache
def authorizer() -> Authorizer:
    """The container's authorizer; a bad environment raises SettingsError naming the variable."""
    from sumu_authorizer.authorizer import Authorizer  # noqa: PLC0415 -- deferred, see above
    from sumu_authorizer.settings import load_settings  # noqa: PLC0415

    return Authorizer(load_settings(os.environ))


def handler(event: object, context: object) -> AuthorizerResponse:
    return authorizer().authorize(event)
