"""A broken pusher: the built-in one, but a 5xx from the management API counts as delivered."""

from __future__ import annotations

from sumu_pusher import management_api
from sumu_pusher.handler import handler

_classify = management_api.classify


def _classify_5xx_as_delivered(error: BaseException) -> management_api.PostResult | None:
    response = getattr(error, "response", None)
    status = (
        response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if isinstance(response, dict)
        else 0
    )
    if status >= 500:
        return management_api.PostResult.DELIVERED
    return _classify(error)


management_api.classify = _classify_5xx_as_delivered

__all__ = ["handler"]
