"""The REST API's lists: every list is paged by cursor (``next``/``previous`` links, no
count), page sizes, a query count that does not grow with the rows, and a cursor the list
did not give out is a 400 with a message."""

from __future__ import annotations

import pytest

from tests.support.api_helpers import API, ENDPOINTS, client_for
from tests.support.factories import ContractFactory, ContractLineFactory, ServiceFactory


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_every_list_is_paginated(kind, admin_user, invoice):
    body = client_for(admin_user).get(f"{API}{kind}/").json()
    assert set(body) == {"next", "previous", "results"}
    assert len(body["results"]) >= 1 and body["next"] is body["previous"] is None


def _walk(client, url, **params) -> list[int]:
    """Every id of a list, following ``next`` from the first page."""
    body = client.get(url, params).json()
    ids = [row["id"] for row in body["results"]]
    while body["next"]:
        body = client.get(body["next"]).json()
        ids += [row["id"] for row in body["results"]]
    return ids


def test_page_size_can_be_asked_for_up_to_200(admin_user):
    for _ in range(3):
        ServiceFactory()
    client = client_for(admin_user)
    body = client.get(f"{API}services/", {"page_size": 2}).json()
    assert (len(body["results"]), body["previous"]) == (2, None)
    assert "cursor=" in body["next"] and "page_size=2" in body["next"]
    second = client.get(body["next"]).json()
    assert (len(second["results"]), second["next"]) == (1, None)
    back = client.get(second["previous"]).json()
    assert back["results"] == body["results"] and back["previous"] is None


def test_following_next_reads_every_row_once_in_the_list_s_order(admin_user):
    ServiceFactory.create_batch(7)
    client = client_for(admin_user)
    every = [row["id"] for row in client.get(f"{API}services/").json()["results"]]
    assert len(every) == 7
    for size in (1, 2, 3, 7):
        assert _walk(client, f"{API}services/", page_size=size) == every


def test_lists_default_to_pages_of_50_and_cap_page_size_at_200(admin_user):
    ServiceFactory.create_batch(201)
    client = client_for(admin_user)
    assert len(client.get(f"{API}services/").json()["results"]) == 50
    assert len(client.get(f"{API}services/", {"page_size": 500}).json()["results"]) == 200


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "cD0yMDI2", "eyJvIjoiYWJjIiwiciI6MCwiayI6WzFdfQ", "%00", "🙂"],
    ids=["text", "drf-style", "another-list", "nul", "emoji"],
)
def test_a_cursor_the_list_did_not_give_out_is_a_400_with_a_message(admin_user, cursor):
    ServiceFactory()
    response = client_for(admin_user).get(f"{API}services/", {"cursor": cursor})
    assert response.status_code == 400
    assert "start again from the first page" in response.json()["cursor"][0]


def test_a_cursor_of_one_list_is_refused_by_another(admin_user, invoice):
    ServiceFactory.create_batch(2)
    client = client_for(admin_user)
    services = client.get(f"{API}services/", {"page_size": 1}).json()
    cursor = services["next"].split("cursor=")[1].split("&")[0]
    response = client.get(f"{API}contracts/", {"cursor": cursor})
    assert response.status_code == 400 and "cursor" in response.json()


def test_list_queries_do_not_grow_with_the_rows(
    admin_user, contract, other_contract, invoice, django_assert_max_num_queries
):
    client = client_for(admin_user)
    for _ in range(5):
        ContractLineFactory(contract=ContractFactory(policy=contract.policy))
    # session, user, roles, page, then one query per prefetched relation (no count)
    for kind, most in (("contracts", 6), ("policies", 7), ("customers", 5), ("calendars", 6)):
        with django_assert_max_num_queries(most):
            assert client.get(f"{API}{kind}/").status_code == 200
