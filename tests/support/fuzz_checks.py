"""The checks of the API fuzz (tests/slaportal/test_api_fuzz.py): schemathesis's own
(no 5xx; status code, content type, headers and body as documented; 405 for a method the
schema does not declare) and two of ours, against the callers' data in ``WORLD``."""

from __future__ import annotations

import json
from typing import Any

from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.support.fuzz_world import FOREIGN_MARKERS, MONEY_RESOURCES, WORLD


def resource(path: str) -> str:
    """The first segment after /api/v1/: ``credits`` for /api/v1/credits/{id}/approve/."""
    return path.removeprefix("/api/v1/").split("/", 1)[0]


def _objects(body: Any) -> list[dict]:
    if isinstance(body, dict):
        if isinstance(body.get("results"), list):
            return [row for row in body["results"] if isinstance(row, dict)]
        return [body]
    if isinstance(body, list):
        return [row for row in body if isinstance(row, dict)]
    return []


def _caller(case) -> str | None:
    return (case.headers or {}).get("X-Fuzz-As")


def _text_and_body(response) -> tuple[str, Any]:
    text = response.content.decode("utf-8", errors="replace")  # a PDF is bytes
    try:
        return text, json.loads(text) if text else None
    except ValueError:
        return text, None


def no_foreign_objects(ctx, response, case) -> bool | None:
    """As the customer: no body names or returns the other customer's objects."""
    if _caller(case) != "customer" or not response.content:
        return None
    text, body = _text_and_body(response)
    leaked = [marker for marker in FOREIGN_MARKERS if marker in text]
    if leaked:
        raise AssertionError(f"The customer was shown another customer's data: {leaked}")
    foreign = WORLD.foreign_ids.get(resource(case.operation.path), set())
    returned = {row.get("id") for row in _objects(body)} & foreign
    if returned and 200 <= response.status_code < 300:
        raise AssertionError(f"The customer was given another customer's object(s) {returned}")
    return None


def no_unmanaged_money(ctx, response, case) -> bool | None:
    """As the account manager: no credit, ledger row, invoice or credit note of the
    customer they do not manage, by number, id or customer."""
    money = resource(case.operation.path)
    if _caller(case) != "account_manager" or money not in MONEY_RESOURCES:
        return None
    if not response.content:
        return None
    text, body = _text_and_body(response)
    leaked = [marker for marker in WORLD.foreign_money_markers if marker in text]
    if leaked:
        raise AssertionError(
            f"The account manager was shown money of a customer they do not manage: {leaked}"
        )
    if not 200 <= response.status_code < 300:
        return None
    foreign = WORLD.foreign_ids.get(money, set())
    returned = [
        row
        for row in _objects(body)
        if row.get("id") in foreign or row.get("customer") == WORLD.foreign_customer
    ]
    if returned:
        raise AssertionError(
            "The account manager was shown money of a customer they do not manage: "
            f"{money} {[row.get('id', row) for row in returned]}"
        )
    return None


# Not among them: schemathesis's negative_data_rejection. The API is lenient where the
# schema is strict (a page_size that is not a number gets the default page; unknown query
# values are ignored), so it would fail operations that answer correctly.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    unsupported_method,
    no_foreign_objects,
    no_unmanaged_money,
]
