"""The attachment rules, checked by every entry point through the services: at most
``TICKET_ATTACHMENT_MAX_BYTES`` each, a type from ``TICKET_ATTACHMENT_TYPES`` (decided
by the file name's extension), at most ``TICKET_ATTACHMENTS_PER_MESSAGE`` at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import File

from tickets.models import Attachment, Ticket, TicketMessage


@dataclass(frozen=True)
class Upload:
    """A checked file: the name to show, the type we serve it as, its size."""

    file: File
    filename: str
    content_type: str
    size: int


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _filename(file: File) -> str:
    # Browsers on Windows may send a whole path; keep only the last part.
    return PurePosixPath((file.name or "").replace("\\", "/")).name.strip()[:255]


def check_uploads(files: Sequence[File]) -> tuple[list[Upload], list[str]]:
    """The accepted uploads, and one message per refused file (nothing is saved here)."""
    limit = settings.TICKET_ATTACHMENT_MAX_BYTES
    types = settings.TICKET_ATTACHMENT_TYPES
    errors: list[str] = []
    if len(files) > settings.TICKET_ATTACHMENTS_PER_MESSAGE:
        errors.append(f"Attach at most {settings.TICKET_ATTACHMENTS_PER_MESSAGE} files at once.")
    uploads = []
    for file in files:
        name = _filename(file)
        extension = PurePosixPath(name).suffix.lower()
        size = file.size or 0
        if not name:
            errors.append("An attachment has no file name.")
        elif extension not in types:
            allowed = ", ".join(sorted(types))
            kind = f"{extension} files" if extension else "Files without an extension"
            errors.append(f"{name}: {kind} are not accepted. Allowed: {allowed}.")
        elif size > limit:
            errors.append(f"{name} is {_megabytes(size)}; the limit is {_megabytes(limit)}.")
        elif size == 0:
            errors.append(f"{name} is empty.")
        else:
            uploads.append(Upload(file, name, types[extension], size))
    return uploads, errors


def store_uploads(
    uploads: Sequence[Upload],
    *,
    ticket: Ticket,
    message: TicketMessage | None,
    actor,
    now: datetime,
    stored: list[str],
) -> list[Attachment]:
    """Save checked uploads; each stored file name is appended to ``stored`` so the
    caller can remove the files if its transaction rolls back."""
    rows = []
    for upload in uploads:
        row = Attachment(
            ticket=ticket,
            message=message,
            filename=upload.filename,
            content_type=upload.content_type,
            size=upload.size,
            uploaded_by=actor,
            created_at=now,
        )
        upload.file.seek(0)
        row.file.save(upload.filename, upload.file, save=False)
        stored.append(row.file.name)
        row.save()
        rows.append(row)
    return rows
