"""Lambda entry point of the WebSocket $connect REQUEST authorizer.

Everything the first token would otherwise pay happens here, at import: that is Lambda's init
phase, which provisioned concurrency and SnapStart run before any request arrives
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html). The settings are
read and validated, joserfc and the HTTP client are imported, joserfc's algorithm models are
built and the issuer's keys are fetched, so a first $connect only verifies a signature.

A bad environment does not crash the import: the SettingsError is logged at init and raised again
by every invocation. API Gateway answers any authorizer error other than "Unauthorized" with a
500, so a misconfigured authorizer lets nobody in and says so on every $connect
(https://docs.aws.amazon.com/apigateway/latest/developerguide/call-api-with-api-gateway-lambda-authorization.html).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from sumu_authorizer.audit import log_event
from sumu_authorizer.authorizer import Authorizer
from sumu_authorizer.decision import AuthorizerResponse
from sumu_authorizer.settings import SettingsError, load_settings


def start(environ: Mapping[str, str]) -> Authorizer | SettingsError:
    """The container's authorizer with its keys fetched, or why the environment cannot make one."""
    try:
        authorizer = Authorizer(load_settings(environ))
    except SettingsError as error:
        log_event(logging.ERROR, "settings_error", reason=str(error))
        return error
    authorizer.key_store.prefetch()
    return authorizer


_container = start(os.environ)  # module scope: runs once per container, in the init phase


def refetch_keys_after_restore() -> None:
    """SnapStart: a snapshot holds the keys fetched when it was taken, which may be long ago, and
    a key the issuer has withdrawn since must not stay trusted on the snapshot's word."""
    if not isinstance(_container, SettingsError):
        _container.key_store.prefetch()


try:
    # Lambda's Python runtimes include this library; its hooks run when a snapshot is restored.
    # https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html
    from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
except ImportError:  # not on Lambda (tests, the local stack)
    pass
else:
    register_after_restore(refetch_keys_after_restore)


def authorizer() -> Authorizer:
    """The container's authorizer; raises SettingsError (naming the variable) if there is none."""
    if isinstance(_container, SettingsError):
        log_event(logging.ERROR, "settings_error", reason=str(_container))
        raise SettingsError(str(_container))
    return _container


def reset() -> None:
    """Start the container again from the current environment (tests)."""
    global _container  # noqa: PLW0603 -- the one per-container singleton, replaced on purpose
    _container = start(os.environ)


def handler(event: object, context: object) -> AuthorizerResponse:
    return authorizer().authorize(event)
