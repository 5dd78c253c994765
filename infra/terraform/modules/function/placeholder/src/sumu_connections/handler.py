"""Placeholder until the connections pipeline's first release: refuse every route."""


def handler(event, context):
    return {"statusCode": 503, "body": "sumu-connections is not released yet"}
