"""Where files live (Django's STORAGES): statement and credit-note PDFs and ticket
attachments go through ``default_storage``. Local files under MEDIA_ROOT by default (the
demo, one machine); with ``STORAGE_URL`` an S3-compatible bucket through django-storages,
so every web and worker process on every machine reads and writes the same files.

``STORAGE_URL=s3://BUCKET/optional/prefix?endpoint_url=…&region_name=…`` takes these
query parameters (values percent-encoded; a ``+`` stays a plus):

- ``endpoint_url``: an S3-compatible server (MinIO, Ceph, moto…); unset for AWS itself;
- ``region_name``: the bucket's region (else boto3's ``AWS_DEFAULT_REGION``);
- ``access_key`` and ``secret_key``, together; without them the standard
  ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` variables, or boto3's other
  sources (an instance or task role), which keep the secret out of the URL;
- ``acl``: ``none`` (the default: no ACL is sent, and an S3 object without one is
  private to the bucket's owner; AWS buckets made since 2023 have ACLs disabled and
  refuse a PUT that names one) or ``private`` (the private canned ACL sent with every
  object, for servers whose buckets give new objects a default ACL of their own). No
  value makes an object public: keep the bucket's Block Public Access on and grant no
  one else in its policy;
- ``addressing_style``: ``path`` (the default with an ``endpoint_url``: loopback and
  in-house servers have no per-bucket host names), ``virtual`` or ``auto``.

Downloads never leave the bucket's privacy: the views check the viewer's permission, then
stream the object through the app (a statement's PDF after its SHA-256 check). Signed URLs
(``storage.url()``) are short-lived (``SIGNED_URL_SECONDS``) should anything ask for one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

S3_BACKEND = "storages.backends.s3.S3Storage"
SIGNED_URL_SECONDS = 300
# An object read back is held in memory up to this size, beyond it in a temporary file
# (deleted on close): a large attachment does not sit in a web process's memory.
SPOOL_BYTES = 5 * 1024 * 1024

EXAMPLE = "s3://BUCKET/optional/prefix?endpoint_url=https://s3.example.net&region_name=eu-west-1"
PARAMETERS = ("endpoint_url", "region_name", "access_key", "secret_key", "acl", "addressing_style")
ACLS = {"private": "private", "none": None}
ADDRESSING_STYLES = ("path", "virtual", "auto")
# S3's rules for bucket names: 3-63 lowercase letters, digits, dots and hyphens.
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
REGION = re.compile(r"[a-z0-9-]{2,40}")


def default_storage_settings(storage_url: str | None, media_root: Path) -> dict[str, Any]:
    """STORAGES["default"]: the bucket of ``storage_url``, else files under MEDIA_ROOT
    (``media_root``). The local form names no location: FileSystemStorage then reads
    settings.MEDIA_ROOT itself, so a changed MEDIA_ROOT (each test's own folder) moves it
    too; a location given here would pin it to the value at start-up."""
    if not storage_url:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    return {"BACKEND": S3_BACKEND, "OPTIONS": s3_options(storage_url)}


def _redacted(url: str) -> str:
    """The URL for an error message: never the secret key (nor a password before the @)."""
    url = re.sub(r"(secret_key=)[^&]*", r"\1…", url)
    return re.sub(r"(://[^/@]*:)[^/@]*@", r"\1…@", url)


def _refuse(url: str, why: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"STORAGE_URL={_redacted(url)!r}: {why}")


def _query(url: str, query: str) -> dict[str, str]:
    # Split by hand rather than parse_qs: a secret key may hold a "+", which
    # form-decoding would turn into a space.
    params: dict[str, str] = {}
    for item in query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        key, value = unquote(key), unquote(value).strip()
        if key not in PARAMETERS:
            raise _refuse(url, f"unknown parameter {key!r} (known: {', '.join(PARAMETERS)}).")
        if key in params:
            raise _refuse(url, f"{key} is given twice.")
        if not value:
            raise _refuse(url, f"{key} has no value.")
        params[key] = value
    return params


def _endpoint(url: str, endpoint: str | None) -> str | None:
    if endpoint is None:
        return None
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse(url, f"endpoint_url={endpoint!r} is not an http:// or https:// URL.")
    if parts.query or parts.fragment or parts.path.strip("/"):
        raise _refuse(url, f"endpoint_url={endpoint!r}: give the server only, no path.")
    try:
        parts.port  # noqa: B018 — raises on a port that is not a number
    except ValueError:
        raise _refuse(url, f"endpoint_url={endpoint!r} has a bad port.") from None
    return endpoint.rstrip("/")


def _prefix(url: str, path: str) -> str:
    prefix = unquote(path).strip("/")
    if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        raise _refuse(url, f"the prefix {prefix!r} has an empty, '.' or '..' part.")
    return prefix


def s3_options(url: str) -> dict[str, Any]:
    """django-storages' S3Storage options for ``url`` (``ImproperlyConfigured`` naming
    what is wrong with it, never echoing the secret key)."""
    parts = urlsplit(url.strip())
    if parts.scheme != "s3":
        raise _refuse(url, f"use {EXAMPLE} (or leave it unset for files under MEDIA_ROOT).")
    if "@" in parts.netloc:
        raise _refuse(
            url,
            "no credentials before the bucket: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or add access_key=…&secret_key=… to the query.",
        )
    bucket = parts.netloc
    if not bucket:
        raise _refuse(url, f"it names no bucket; use {EXAMPLE}.")
    if not BUCKET.fullmatch(bucket) or ".." in bucket:
        raise _refuse(
            url,
            f"{bucket!r} is not a valid bucket name (3-63 lowercase letters, digits, "
            "dots and hyphens).",
        )
    if parts.fragment:
        raise _refuse(url, "remove the #fragment.")
    params = _query(url, parts.query)
    endpoint = _endpoint(url, params.get("endpoint_url"))
    region = params.get("region_name")
    if region is not None and not REGION.fullmatch(region):
        raise _refuse(url, f"region_name={region!r} is not a region name (like eu-west-1).")
    if ("access_key" in params) != ("secret_key" in params):
        raise _refuse(url, "give access_key and secret_key together, or neither.")
    acl = params.get("acl", "none")
    if acl not in ACLS:
        raise _refuse(
            url,
            f"acl={acl!r}: objects are never public; use acl=none (the default: no ACL "
            "sent, objects private to the bucket's owner) or acl=private.",
        )
    style = params.get("addressing_style", "path" if endpoint else None)
    if style is not None and style not in ADDRESSING_STYLES:
        raise _refuse(
            url, f"addressing_style={style!r}: use one of {', '.join(ADDRESSING_STYLES)}."
        )
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": _prefix(url, parts.path),
        "endpoint_url": endpoint,
        "region_name": region,
        "default_acl": ACLS[acl],
        "querystring_auth": True,
        "querystring_expire": SIGNED_URL_SECONDS,
        # A name already taken gets a suffix instead of replacing the stored document.
        "file_overwrite": False,
        "signature_version": "s3v4",
        "addressing_style": style,
        "max_memory_size": SPOOL_BYTES,
    }
    if "access_key" in params:
        options["access_key"] = params["access_key"]
        options["secret_key"] = params["secret_key"]
    return options


def unavailable_errors() -> tuple[type[Exception], ...]:
    """What a storage call raises when the store cannot answer (besides a missing file,
    ``FileNotFoundError``): OSError for local files; botocore's errors for a bucket (no
    connection, a timeout, refused credentials, a 5xx). Imported here, lazily: the demo
    need not load boto."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (OSError, BotoCoreError, ClientError)


def is_temporary(exc: BaseException) -> bool:
    """Whether a storage error is worth retrying: the store could not be reached or
    answered a 5xx / throttling reply. A missing object or refused credentials are not."""
    from botocore import exceptions as boto

    if isinstance(exc, boto.ConnectionError | boto.HTTPClientError):
        return True
    if isinstance(exc, boto.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        code = exc.response.get("Error", {}).get("Code", "")
        return status >= 500 or status == 429 or code in ("SlowDown", "RequestTimeout")
    return False
