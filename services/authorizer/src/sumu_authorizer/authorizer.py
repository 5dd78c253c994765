"""The decision for one $connect: Allow for a valid token, Deny otherwise, 401 without a token."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sumu_authorizer.audit import log_event
from sumu_authorizer.claims import authorizer_context, check_claims
from sumu_authorizer.decision import AuthorizerResponse, Denied, allow, deny
from sumu_authorizer.key_store import KeySourceConfig, KeyStore
from sumu_authorizer.request import bearer_token, method_arn
from sumu_authorizer.settings import Settings
from sumu_authorizer.verification import TokenVerifier

# API Gateway answers 401 only when the authorizer fails with exactly this message; any other
# error is a 500 and a Deny policy is a 403.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
UNAUTHORIZED = "Unauthorized"


class Authorizer:
    def __init__(
        self,
        settings: Settings,
        key_store: KeyStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self.key_store = key_store or KeyStore(
            KeySourceConfig(settings.jwks_uri, settings.issuer, settings.issuer_ca_certs)
        )
        self._verifier = TokenVerifier(settings.algorithms, self.key_store)
        self._clock = clock

    def authorize(self, event: object) -> AuthorizerResponse:
        """Allow or Deny; raises Exception("Unauthorized") when the request has no token."""
        arn = method_arn(event)
        try:
            token = bearer_token(event)
            response = None if token is None else self._allow(token, arn)
        except Denied as denial:
            log_event(logging.WARNING, "deny", reason=denial.reason, method_arn=arn)
            return deny(arn)
        except Exception as error:  # noqa: BLE001
            # Fail closed: a bug or an unforeseen input must never let anyone in, nor crash the
            # $connect with a 500. Only the exception's type is logged: its text may quote input.
            log_event(
                logging.ERROR,
                "deny",
                reason="internal error",
                error=type(error).__name__,
                method_arn=arn,
            )
            return deny(arn)
        if response is None:
            log_event(logging.WARNING, "unauthorized", reason="no token", method_arn=arn)
            raise Exception(UNAUTHORIZED)
        return response

    def _allow(self, token: str, arn: str | None) -> AuthorizerResponse:
        header, claims = self._verifier.verify(token)
        subject = check_claims(claims, self._settings, self._clock())
        resources = list(self._settings.authorized_apis) or ([arn] if arn else [])
        if not resources:
            raise Denied("event has no methodArn and AUTHORIZED_APIS is not set")
        context, channel_problems = authorizer_context(subject, claims, self._settings)
        if channel_problems:
            log_event(
                logging.WARNING,
                "channels_claim_ignored",
                sub=subject,
                claim=self._settings.channels_claim,
                reasons=channel_problems,
            )
        log_event(logging.INFO, "allow", sub=subject, kid=header.kid, method_arn=arn)
        return allow(subject, resources, context)
