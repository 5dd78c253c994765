"""boto3 clients pointed at the local stack's AWS endpoint."""

from __future__ import annotations

from typing import Any

import boto3

# moto accepts any credentials; these keep botocore from searching the machine for real ones.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "sumu-local",
    "AWS_SECRET_ACCESS_KEY": "sumu-local",
}


def aws_client(service: str, endpoint_url: str, region: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
