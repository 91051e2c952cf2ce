"""A media bucket on moto's server (the same server as the SES tests', gateways.testing.ses), so that
the media and import tests can run with their files in S3 rather than under MEDIA_ROOT.

Switched on for a whole run by `pytest --media-storage=bucket` (or AICMO_TEST_MEDIA_STORAGE=bucket):
every test, and every qcluster worker a test starts, then reads and writes through the same
STORAGES["default"] as a site with MEDIA_STORAGE_URL set (aicmo_site.bucket).
"""

from __future__ import annotations

import json
import os
import uuid

from aicmo_site.env import media_storage_from_url
from gateways.testing.ses import REGION

# moto checks the signature's shape, not the key: any pair does, and none is a real secret.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}


class MediaBucket:
    def __init__(self, endpoint_url: str, *, name: str | None = None, public_base_url: str = ""):
        self.endpoint_url = endpoint_url
        self.name = name or f"aicmo-media-{uuid.uuid4().hex[:12]}"
        self.url = f"s3://{self.name}?endpoint_url={endpoint_url}&region={REGION}&addressing_style=path"
        self.public_base_url = public_base_url

    def create(self) -> MediaBucket:
        client = self.client()
        client.create_bucket(Bucket=self.name)
        # What the README asks of a real bucket: anonymous reads of renditions/, of nothing else.
        client.put_bucket_policy(Bucket=self.name, Policy=json.dumps(public_renditions_policy(self.name)))
        return self

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])

    def storages(self, current: dict) -> dict:
        return {**current, "default": media_storage_from_url(self.url, public_base_url=self.public_base_url)}

    def environment(self) -> dict:
        """What a process needs to use this bucket as its media storage (for a worker's environment)."""
        env = {**CREDENTIALS, "MEDIA_STORAGE_URL": self.url}
        if self.public_base_url:
            env["MEDIA_PUBLIC_BASE_URL"] = self.public_base_url
        return env

    def address(self, key: str) -> str:
        """The object's unsigned URL, as anybody may try it."""
        return f"{self.endpoint_url}/{self.name}/{key}"

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.name, Key=key)["Body"].read()


def public_renditions_policy(bucket: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicRenditions", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/renditions/*",
    }]}


def set_environment(values: dict) -> dict:
    """Sets environment variables and returns their earlier values, for restore_environment."""
    earlier = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    return earlier


def restore_environment(earlier: dict) -> None:
    for name, value in earlier.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
