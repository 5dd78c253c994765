"""The trimmed endpoint table is botocore's own, for the services this function calls.

GIVEN the package's botocore_data/endpoints.json WHEN compared with the installed botocore's
THEN it holds exactly botocore's entries for DynamoDB, SQS and SNS in every partition, and a
client built through it resolves the same endpoint, region and signing name as a plain boto3
client, in every region of every partition.
"""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
import botocore.session
import pytest
from sumu_connections import endpoint_data

FULL = botocore.session.get_session().get_component("data_loader").load_data("endpoints")


def test_the_shipped_table_is_botocores_own_for_our_services():
    shipped = json.loads((endpoint_data.DATA_DIR / "endpoints.json").read_text())
    # After a botocore upgrade: python -m sumu_connections.endpoint_data
    assert shipped == endpoint_data.trimmed(FULL)
    assert {p["partition"] for p in shipped["partitions"]} == {
        p["partition"] for p in FULL["partitions"]
    }


def test_the_session_reads_the_trimmed_table(monkeypatch):
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    loader = endpoint_data.session()._session.get_component("data_loader")
    assert str(endpoint_data.DATA_DIR) in loader.search_paths
    loaded = loader.load_data("endpoints")
    assert loaded == endpoint_data.trimmed(FULL)


def test_an_operators_data_path_still_comes_first(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    paths = endpoint_data.session()._session.get_component("data_loader").search_paths
    assert paths.index(str(tmp_path)) < paths.index(str(endpoint_data.DATA_DIR))


REGIONS = sorted(
    {
        region
        for partition in FULL["partitions"]
        if partition["partition"] in ("aws", "aws-cn", "aws-us-gov")
        for region in partition["regions"]
    }
)


@pytest.mark.parametrize("service", endpoint_data.SERVICES)
def test_clients_resolve_the_same_endpoints_in_every_region(monkeypatch, service):
    for name in ("AWS_ENDPOINT_URL", "AWS_DATA_PATH", f"AWS_ENDPOINT_URL_{service.upper()}"):
        monkeypatch.delenv(name, raising=False)
    credentials = {"aws_access_key_id": "x", "aws_secret_access_key": "y"}
    plain, trimmed = boto3.session.Session(**credentials), endpoint_data.session()
    for region in REGIONS:
        ours = trimmed.client(service, region_name=region, **credentials)
        theirs = plain.client(service, region_name=region, **credentials)
        assert ours.meta.endpoint_url == theirs.meta.endpoint_url, region
        assert ours.meta.region_name == theirs.meta.region_name, region
        assert ours.meta.partition == theirs.meta.partition, region
        assert ours._request_signer.signing_name == theirs._request_signer.signing_name
        assert ours._request_signer.region_name == theirs._request_signer.region_name


def test_the_session_knows_its_three_services_only(monkeypatch):
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    session = endpoint_data.session()
    assert session.get_available_services() == sorted(endpoint_data.SERVICES)
    with pytest.raises(botocore.exceptions.UnknownServiceError):
        session.client("s3", region_name="us-east-1")
