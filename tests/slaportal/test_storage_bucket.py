"""Every stored file through the bucket (STORAGE_URL, moto's S3 server on loopback), in
this process: a statement's PDF, a credit note's PDF and a ticket's attachment are stored
as private objects (not under MEDIA_ROOT), e-mailed from there, and served to those who
may see them only (another customer: a 404). When the bucket cannot be reached, the
downloads answer 503 and the e-mail waits for a retry: never a 500, nothing lost.
Across processes with no shared MEDIA_ROOT: test_shared_storage.py."""

from __future__ import annotations

import hashlib
import urllib.request
from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from credits.models import CreditNoteFile
from credits.services import credit_note_deliver
from outbox.models import OutboxMessage
from outbox.services import OutboxFile, outbox_deliver, outbox_enqueue
from slaportal.storage import default_storage_settings
from statements.models import Statement
from statements.services import statement_generate, statement_pdf_restore
from tests.support.api_helpers import API, client_for
from tests.support.credit_notes import applied_note
from tests.support.factories import CustomerUserFactory, catalog_contract, uploaded_file
from tests.support.s3_server import S3Place, s3_server, s3_storage  # noqa: F401 — fixtures
from tests.support.smtp import free_port
from tickets.services import ticket_file
from tickets.services._common import atomic_with_files

JUNE = date(2026, 6, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


@pytest.fixture
def bucket(request) -> S3Place:
    """``default_storage`` is this test's prefix of the bucket (``s3_storage``)."""
    return request.getfixturevalue("s3_storage")


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _files(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def stored_statement(
    bucket, catalog, customer, statement_media, celery_eager, django_capture_on_commit_callbacks
) -> Statement:
    """June's statement of a contract with no outage: rendered, stored and e-mailed."""
    contract = catalog_contract(customer, "heretto-ccms", {"Heretto CCMS": "4000.00"}, start=JUNE)
    with django_capture_on_commit_callbacks(execute=True):
        statement = statement_generate(contract=contract, month=JUNE, now=NOW)
    statement.refresh_from_db()
    assert statement.pdf and statement.emailed_at is not None
    return statement


def test_a_statement_pdf_is_a_private_object_mailed_and_served_from_the_bucket(
    stored_statement, bucket, statement_media, customer, other_customer
):
    statement = stored_statement
    [(name, content)] = bucket.objects().items()
    assert name == statement.pdf.name and content.startswith(b"%PDF-")
    assert _sha256(content) == statement.pdf_sha256
    assert _files(statement_media) == []
    assert bucket.server.anonymous_get(bucket.key(name)) == 403

    [email] = mail.outbox
    assert email.attachments == [(f"{statement.number}.pdf", content, "application/pdf")]

    person = client_for(CustomerUserFactory(customer=customer))
    page = person.get(f"/portal/statements/{statement.pk}/pdf/")
    api = person.get(f"{API}statements/{statement.pk}/pdf/")
    assert page.status_code == api.status_code == 200
    assert _body(page) == _body(api) == content
    stranger = client_for(CustomerUserFactory(customer=other_customer))
    assert stranger.get(f"/portal/statements/{statement.pk}/pdf/").status_code == 404
    assert stranger.get(f"{API}statements/{statement.pk}/pdf/").status_code == 404


def test_a_credit_note_pdf_is_stored_in_the_bucket_and_served_from_it(
    bucket, june_contract, account_manager, customer, other_customer, statement_media
):
    note = applied_note(june_contract, account_manager, invoice_number="INV-S3")
    assert credit_note_deliver(note_id=note.pk) in ("rendered", "sent")
    stored = CreditNoteFile.objects.get(credit_note=note)
    content = bucket.objects()[stored.pdf.name]
    assert _sha256(content) == stored.sha256 and _files(statement_media) == []
    assert bucket.server.anonymous_get(bucket.key(stored.pdf.name)) == 403

    person = client_for(CustomerUserFactory(customer=customer))
    for url in (f"/portal/credits/notes/{note.pk}/pdf/", f"{API}credit-notes/{note.pk}/pdf/"):
        response = person.get(url)
        assert response.status_code == 200 and _body(response) == content
    stranger = client_for(CustomerUserFactory(customer=other_customer))
    assert stranger.get(f"/portal/credits/notes/{note.pk}/pdf/").status_code == 404


def test_a_ticket_attachment_is_stored_in_the_bucket_and_streamed_to_its_people(
    bucket, customer_user, ticket_service, other_customer, statement_media
):
    upload = uploaded_file("trace.log", size=300)
    ticket = ticket_file(
        actor=customer_user,
        service=ticket_service,
        subject="Publishing fails",
        description="Every publish job ends with error 500.",
        severity=2,
        attachments=[upload],
    )
    attachment = ticket.attachments.get()
    assert bucket.objects() == {attachment.file.name: b"x" * 300}
    assert _files(statement_media) == []
    assert bucket.server.anonymous_get(bucket.key(attachment.file.name)) == 403

    person = client_for(customer_user)
    page = person.get(f"/portal/tickets/{ticket.pk}/files/{attachment.pk}/")
    api = person.get(f"{API}tickets/{ticket.pk}/attachments/{attachment.pk}/")
    for response in (page, api):
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="trace.log"'
        assert response["Content-Length"] == "300"
        assert _body(response) == b"x" * 300
    stranger = client_for(CustomerUserFactory(customer=other_customer))
    assert stranger.get(f"/portal/tickets/{ticket.pk}/files/{attachment.pk}/").status_code == 404
    assert stranger.get(f"{API}tickets/{ticket.pk}/attachments/{attachment.pk}/").status_code == 404


@pytest.mark.parametrize("acl", ["", "&acl=private"])
def test_an_object_is_private_whether_or_not_an_acl_is_sent(bucket, settings, acl):
    url = bucket.server.storage_url(bucket.prefix, with_keys=True) + acl
    settings.STORAGES = {
        **settings.STORAGES,
        "default": default_storage_settings(url, settings.MEDIA_ROOT),
    }
    name = default_storage.save("statements/2026/06/x.pdf", ContentFile(b"%PDF-1.7 x"))
    acl_of = bucket.server.client().get_object_acl(
        Bucket=bucket.server.bucket, Key=bucket.key(name)
    )
    assert [(g["Grantee"]["Type"], g["Permission"]) for g in acl_of["Grants"]] == [
        ("CanonicalUser", "FULL_CONTROL")  # the owner's, and no one else's
    ]
    assert bucket.server.anonymous_get(bucket.key(name)) == 403
    # A signed URL, should anything ask for one, is good for five minutes.
    signed = default_storage.url(name)
    assert "X-Amz-Expires=300" in signed
    with urllib.request.urlopen(signed, timeout=10) as response:
        assert response.read() == b"%PDF-1.7 x"


def test_files_stored_in_a_transaction_that_rolls_back_leave_no_object_behind(bucket):
    with pytest.raises(RuntimeError), atomic_with_files() as stored:
        stored.append(default_storage.save("tickets/1/refused.log", ContentFile(b"x")))
        assert set(bucket.objects()) == {stored[0]}
        raise RuntimeError("refused after the file was stored")
    assert bucket.objects() == {}


@pytest.fixture
def bucket_down(settings, monkeypatch, bucket):
    """``default_storage`` is the same bucket on a port where nothing answers."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # refused at once, no retries with backoff
    url = bucket.server.storage_url(bucket.prefix, with_keys=True).replace(
        bucket.server.endpoint, f"http://127.0.0.1:{free_port()}"
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": default_storage_settings(url, settings.MEDIA_ROOT),
    }


def test_an_unreachable_bucket_is_a_503_for_downloads_and_staff_are_told_on_restore(
    stored_statement, customer_user, ticket_service, account_manager, settings, request
):
    ticket = ticket_file(
        actor=customer_user,
        service=ticket_service,
        subject="Publishing fails",
        description="Every publish job ends with error 500.",
        severity=2,
        attachments=[uploaded_file("trace.log")],
    )
    attachment = ticket.attachments.get()
    request.getfixturevalue("bucket_down")
    person = client_for(customer_user)
    statement = stored_statement
    page = person.get(f"/portal/statements/{statement.pk}/pdf/")
    assert page.status_code == 503 and b"cannot be served right now" in page.content
    api = person.get(f"{API}statements/{statement.pk}/pdf/")
    assert api.status_code == 503 and api.json()["code"] == "missing"
    file_page = person.get(f"/portal/tickets/{ticket.pk}/files/{attachment.pk}/")
    assert file_page.status_code == 503 and b"cannot be reached" in file_page.content
    file_api = person.get(f"{API}tickets/{ticket.pk}/attachments/{attachment.pk}/")
    assert file_api.status_code == 503 and file_api.json()["detail"].startswith("The file storage")

    statement.contract.customer.account_managers.add(account_manager)
    with pytest.raises(ValidationError, match="The file storage cannot be reached"):
        statement_pdf_restore(statement=statement, actor=account_manager)


def test_an_email_whose_attachment_cannot_be_read_waits_for_a_retry(
    stored_statement, customer, django_capture_on_commit_callbacks, request
):
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = outbox_enqueue(
            to=["billing@customer.test"],
            subject="Your statement again",
            body="Attached.",
            dedupe_key="storage-test",
            attachments=[
                OutboxFile(
                    filename="again.pdf",
                    content_type="application/pdf",
                    storage_path=stored_statement.pdf.name,
                )
            ],
        )
    request.getfixturevalue("bucket_down")
    outbox_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING and message.next_attempt_at
    assert "EndpointConnectionError" in message.last_error
