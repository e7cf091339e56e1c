"""Input that used to answer 500: years at the calendar's edges and NUL characters. Each
is now a 400 (or a form error) that says what is wrong, and nothing is saved. A body in a
media type the API does not read is a 415, which the schema documents."""

from __future__ import annotations

import pytest

from outages.models import Outage
from tests.support.api_helpers import API, client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1899-12", "3000-01"])
def test_a_month_outside_the_supported_years_is_a_400_for_a_customer(
    month, contract, customer_user
):
    response = client_for(customer_user).get(
        f"{API}contracts/{contract.pk}/availability/", {"month": month}
    )
    assert response.status_code == 400
    assert "give a year from 1900 to 2999" in response.json()["month"][0]


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_the_lists_month_filter_says_the_same(month, admin_user):
    for path in ("statements/", "credits/"):
        response = client_for(admin_user).get(f"{API}{path}", {"month": month})
        assert response.status_code == 400, path
        assert "give a year from 1900 to 2999" in str(response.json())


def test_the_ops_availability_page_refuses_year_one(operations, contract):
    response = client_for(operations).get(
        f"/ops/contracts/{contract.pk}/availability/", {"month": "0001-01"}
    )
    assert response.status_code == 400
    assert b"1900" in response.content


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00"])
def test_an_outage_in_year_one_or_9999_is_a_field_error(when, operations, contract):
    service = contract.lines.first().service
    response = client_for(operations).post(
        f"{API}outages/",
        {"service": service.pk, "started_at": when, "category": "internal", "title": "Edge"},
        format="json",
    )
    assert response.status_code == 400
    assert "started_at" in response.json()
    assert not Outage.objects.exists()


def test_the_outage_form_says_the_year_is_out_of_range(operations, contract):
    response = client_for(operations).post(
        "/ops/outages/new/",
        {
            "service": contract.lines.first().service_id,
            "started_at": "0001-01-01T00:00",
            "category": "internal",
            "title": "Edge",
            "scope": "all",
        },
    )
    assert response.status_code == 200
    assert b"give a year from 1900 to 2999" in response.content
    assert not Outage.objects.exists()


@pytest.mark.parametrize(
    "path",
    [f"{API}policies/a%00b/", f"{API}tickets/?search=a%00b", f"{API}contracts/?customer=%00"],
)
def test_a_nul_character_in_an_api_address_is_a_400_with_a_message(path, admin_user):
    response = client_for(admin_user).get(path)
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_a_nul_character_in_a_page_address_is_a_400(agent):
    response = client_for(agent).get("/desk/?q=a%00b")
    assert response.status_code == 400
    assert b"NUL" in response.content


@pytest.mark.parametrize("content_type", ["", "text/plain"])
def test_a_body_in_a_media_type_the_api_does_not_read_is_a_documented_415(content_type, admin_user):
    from drf_spectacular.generators import SchemaGenerator

    response = client_for(admin_user).generic(
        "POST", f"{API}services/", "£ô".encode(), content_type=content_type
    )
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]
    schema = SchemaGenerator().get_schema(request=None, public=True)
    with_body = [
        (method, path, operation["responses"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]
    assert with_body and all("415" in responses for _, _, responses in with_body)
