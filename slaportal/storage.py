"""Where files live (Django's STORAGES): statement and credit-note PDFs and ticket
attachments go through ``default_storage``. Local files under MEDIA_ROOT by default (the
demo, one machine); with ``STORAGE_URL`` an S3-compatible bucket through django-storages,
so every web and worker process on every machine reads and writes the same files."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def default_storage_settings(storage_url: str | None, media_root: Path) -> dict[str, Any]:
    if not storage_url:
        # No "location": FileSystemStorage then follows MEDIA_ROOT, also when it changes.
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    raise NotImplementedError("S3 storage: being built (issue 19).")
