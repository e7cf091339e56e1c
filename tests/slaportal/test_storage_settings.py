"""STORAGE_URL: unset, files under MEDIA_ROOT; ``s3://BUCKET/prefix?…``, a private bucket
through django-storages (slaportal/storage.py). A bad URL stops start-up naming what is
wrong, and never echoes the secret key."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from storages.backends.s3 import S3Storage

from slaportal.storage import S3_BACKEND, default_storage_settings, is_temporary, s3_options
from tests.support.processes import manage

MEDIA = Path("/srv/media")
LOOPBACK = "s3://portal-files/prod/pdfs?endpoint_url=http://127.0.0.1:9000&region_name=eu-west-1"


def test_without_a_url_files_stay_under_media_root(settings, tmp_path):
    local = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert default_storage_settings(None, MEDIA) == default_storage_settings("", MEDIA) == local
    # No location of its own: the storage follows MEDIA_ROOT, as each test changes it.
    settings.STORAGES = {**settings.STORAGES, "default": local}
    settings.MEDIA_ROOT = tmp_path / "media"
    name = default_storage.save("statements/x.pdf", ContentFile(b"%PDF-"))
    assert (tmp_path / "media" / name).read_bytes() == b"%PDF-"


def test_an_s3_url_gives_a_private_bucket_with_short_signed_urls():
    assert default_storage_settings(LOOPBACK, MEDIA) == {
        "BACKEND": S3_BACKEND,
        "OPTIONS": {
            "bucket_name": "portal-files",
            "location": "prod/pdfs",
            "endpoint_url": "http://127.0.0.1:9000",
            "region_name": "eu-west-1",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
            "signature_version": "s3v4",
            "addressing_style": "path",
            "max_memory_size": 5 * 1024 * 1024,
        },
    }


def test_on_aws_itself_the_endpoint_and_addressing_are_left_to_boto():
    options = s3_options("s3://portal-files?region_name=us-east-2")
    assert options["endpoint_url"] is None and options["addressing_style"] is None
    assert options["location"] == "" and options["region_name"] == "us-east-2"
    assert "access_key" not in options and "secret_key" not in options


def test_keys_in_the_query_are_taken_literally_once_percent_decoded():
    options = s3_options(
        "s3://portal-files/p/?access_key=AKIAEXAMPLE&secret_key=ab%2Fc+d%3De%26f"
        "&endpoint_url=https://minio.internal:9000/"
    )
    assert options["access_key"] == "AKIAEXAMPLE"
    # A "+" stays a plus (a query parser would have made it a space).
    assert options["secret_key"] == "ab/c+d=e&f"
    assert options["location"] == "p"
    assert options["endpoint_url"] == "https://minio.internal:9000"


def test_without_keys_in_the_url_the_standard_aws_variables_are_used(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-the-environment")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-the-environment")
    storage = S3Storage(**s3_options(LOOPBACK))
    assert storage.access_key == "from-the-environment"
    assert storage.secret_key == "secret-from-the-environment"


def test_no_acl_is_sent_unless_asked_for_private_and_none_makes_objects_public():
    # AWS buckets with ACLs disabled (the default since 2023) refuse a PUT naming one.
    assert s3_options(LOOPBACK)["default_acl"] is None
    assert s3_options(LOOPBACK + "&acl=none")["default_acl"] is None
    assert s3_options(LOOPBACK + "&acl=private")["default_acl"] == "private"
    for public in ("public-read", "public-read-write", "authenticated-read"):
        with pytest.raises(ImproperlyConfigured, match="objects are never public"):
            s3_options(f"{LOOPBACK}&acl={public}")


def test_the_backend_signs_urls_for_five_minutes_with_signature_v4():
    storage = S3Storage(**s3_options(LOOPBACK + "&access_key=k&secret_key=s"))
    assert storage.default_acl is None and storage.file_overwrite is False
    assert storage.client_config.signature_version == "s3v4"
    assert storage.client_config.s3 == {"addressing_style": "path"}
    url = urlsplit(storage.url("statements/ST-1.pdf"))  # signed locally, no request made
    assert url.netloc == "127.0.0.1:9000"
    assert url.path == "/portal-files/prod/pdfs/statements/ST-1.pdf"
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["300"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "X-Amz-Signature" in query


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///srv/media", "use s3://BUCKET/optional/prefix"),
        ("portal-files", "use s3://BUCKET/optional/prefix"),
        ("s3:///prefix", "names no bucket"),
        ("s3://Portal_Files", "'Portal_Files' is not a valid bucket name"),
        ("s3://ab", "'ab' is not a valid bucket name"),
        ("s3://files:9000/x", "'files:9000' is not a valid bucket name"),
        ("s3://key:secret@files", "no credentials before the bucket"),
        ("s3://files/a/../b", "has an empty, '.' or '..' part"),
        ("s3://files/a//b", "has an empty, '.' or '..' part"),
        ("s3://files#x", "remove the #fragment"),
        ("s3://files?region=eu-west-1", "unknown parameter 'region'"),
        ("s3://files?region_name=eu-west-1&region_name=us-east-1", "region_name is given twice"),
        ("s3://files?region_name=", "region_name has no value"),
        ("s3://files?region_name=EU_WEST", "'EU_WEST' is not a region name"),
        ("s3://files?endpoint_url=127.0.0.1:9000", "is not an http:// or https:// URL"),
        ("s3://files?endpoint_url=http://minio/bucket", "give the server only, no path"),
        ("s3://files?endpoint_url=http://minio:port", "has a bad port"),
        ("s3://files?access_key=AKIA", "give access_key and secret_key together"),
        ("s3://files?addressing_style=host", "addressing_style='host': use one of"),
    ],
)
def test_a_bad_url_is_refused_naming_what_is_wrong(url, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        default_storage_settings(url, MEDIA)
    assert str(refused.value).startswith("STORAGE_URL=")
    assert message in str(refused.value)


def test_a_refusal_never_echoes_the_secret_key():
    with pytest.raises(ImproperlyConfigured) as refused:
        s3_options("s3://files?secret_key=TopSecret123&region=x")
    assert "TopSecret123" not in str(refused.value)
    assert "secret_key=…" in str(refused.value)
    with pytest.raises(ImproperlyConfigured) as refused:
        s3_options("s3://AKIA:TopSecret123@files")
    assert "TopSecret123" not in str(refused.value)


def test_a_bad_storage_url_stops_start_up_naming_the_variable():
    result = manage("check", DEBUG="1", STORAGE_URL="s3://files?acl=public-read")
    assert result.returncode != 0
    assert "STORAGE_URL='s3://files?acl=public-read': acl='public-read'" in result.stderr


def test_the_settings_read_storage_url_from_the_environment():
    shell = (
        "from django.conf import settings as s; d = s.STORAGES['default']; "
        "print(d['BACKEND'], d['OPTIONS']['bucket_name'], d['OPTIONS']['location'])"
    )
    result = manage("shell", "-c", shell, DEBUG="1", STORAGE_URL=LOOPBACK)
    assert result.returncode == 0, result.stderr
    # (Django's shell first says how many objects it imported.)
    assert result.stdout.splitlines()[-1].split() == [S3_BACKEND, "portal-files", "prod/pdfs"]


def test_an_unreachable_store_is_a_temporary_error_a_missing_object_is_not():
    from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

    def client_error(status: int, code: str) -> ClientError:
        body = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return ClientError(body, "GetObject")

    assert is_temporary(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    assert is_temporary(ReadTimeoutError(endpoint_url="http://127.0.0.1:9"))
    assert is_temporary(client_error(503, "SlowDown"))
    assert is_temporary(client_error(500, "InternalError"))
    assert not is_temporary(client_error(404, "NoSuchKey"))
    assert not is_temporary(client_error(403, "AccessDenied"))
    assert not is_temporary(FileNotFoundError("statements/ST-1.pdf"))
