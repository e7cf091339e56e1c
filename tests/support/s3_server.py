"""An S3-compatible server on loopback for the storage tests: moto in server mode, in a
process of its own (to the app, a bucket on another machine), one per test session (per
pytest-xdist worker) with one bucket. Each test that stores files there gets a prefix of
its own (``s3_storage``). Skips when moto's server cannot run; REQUIRE_SERVICES=1 makes
that a failure."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slaportal.storage import default_storage_settings
from tests.support.requirements import REQUIRE_SERVICES, need
from tests.support.smtp import free_port

BUCKET = "slaportal-tests"
REGION = "eu-west-1"
# moto accepts any key; these are what the app is given, as it would be in production.
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret/key+with=odd&characters"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str = BUCKET
    region: str = REGION
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def storage_url(self, prefix: str, *, with_keys: bool = False) -> str:
        """``STORAGE_URL`` for ``prefix`` of the bucket; the keys in the query, or (by
        default) left to AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (``env()``)."""
        from urllib.parse import quote

        url = f"s3://{self.bucket}/{prefix}?endpoint_url={self.endpoint}&region_name={self.region}"
        if with_keys:
            url += f"&access_key={quote(self.access_key, safe='')}"
            url += f"&secret_key={quote(self.secret_key, safe='')}"
        return url

    def env(self, prefix: str) -> dict[str, str]:
        """What a process of the app needs to use ``prefix`` of the bucket."""
        return {
            "STORAGE_URL": self.storage_url(prefix),
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            # Nothing from this machine's AWS configuration, nor a metadata lookup.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self) -> Any:
        """A boto3 client with the app's credentials (to look into the bucket)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def objects(self, prefix: str) -> dict[str, bytes]:
        """Every object under ``prefix`` (key without the prefix → its bytes)."""
        client = self.client()
        listed = client.list_objects_v2(Bucket=self.bucket, Prefix=f"{prefix}/")
        return {
            item["Key"].removeprefix(f"{prefix}/"): client.get_object(
                Bucket=self.bucket, Key=item["Key"]
            )["Body"].read()
            for item in listed.get("Contents", [])
        }

    def anonymous_get(self, key: str) -> int:
        """The status of a plain GET of the object's URL, with no signature: 403 for a
        private object."""
        try:
            with urllib.request.urlopen(f"{self.endpoint}/{self.bucket}/{key}", timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as error:
            return error.code


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _start(log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if _answers(endpoint):
            return process, endpoint
        time.sleep(0.2)
    _stop(process)
    raise RuntimeError(f"moto's S3 server did not start:\n{log_path.read_text()[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port, with the bucket ``BUCKET`` made."""
    available = all(importlib.util.find_spec(name) for name in ("moto", "flask", "boto3"))
    need(available, "needs moto[server] (an S3 server on loopback)", required=REQUIRE_SERVICES)
    log_path = tmp_path_factory.mktemp("s3") / "moto.log"
    started, failure = None, ""
    for _ in range(2):  # a port taken between choosing and binding it: once more
        try:
            started = _start(log_path)
            break
        except RuntimeError as exc:
            failure = str(exc)
    need(started is not None, failure, required=REQUIRE_SERVICES)
    process, endpoint = started
    try:
        server = S3Server(endpoint)
        server.client().create_bucket(
            Bucket=server.bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield server
    finally:
        _stop(process)


@dataclass(frozen=True)
class S3Place:
    """A test's own prefix of the bucket, which ``default_storage`` is for that test."""

    server: S3Server
    prefix: str

    def objects(self) -> dict[str, bytes]:
        return self.server.objects(self.prefix)

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"


@pytest.fixture
def s3_storage(s3_server, settings) -> S3Place:
    """``default_storage`` is the bucket, under a prefix of this test's own (the keys in
    STORAGE_URL's query, as a deployment without the AWS variables gives them)."""
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    url = s3_server.storage_url(prefix, with_keys=True)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": default_storage_settings(url, settings.MEDIA_ROOT),
    }
    return S3Place(s3_server, prefix)
