"""The REST API's calendars and SLA policies: publishing, reading back, versions, bad terms
refused with nothing saved, and filters."""

from __future__ import annotations

import pytest

from contracts import services
from contracts.models import Calendar, SLAPolicy
from tests.support.api_helpers import API, BANDS, band_tuples, client_for, errors_text
from tests.support.factories import policy_terms


def calendar_payload(**changes) -> dict:
    return {
        "code": "ops-desk",
        "name": "Operations desk",
        "time_zone": "America/Chicago",
        "hours": {"mon": [["06:00", "12:00"], ["13:00", "24:00"]], "sat": [["00:00", "24:00"]]},
        "holiday_country": "US",
        "holiday_subdivision": "",
        "custom_holidays": [{"date": "2026-12-24", "name": "Christmas Eve"}],
        **changes,
    }


def policy_payload(**changes) -> dict:
    return {
        "code": "api-tiered",
        "version": 1,
        "name": "API tiered SLA",
        "effective_from": "2026-01-01",
        "target_availability": "99.500",
        "measurement_calendar": "help-desk",
        "denominator_basis": "calendar_minutes",
        "downtime_starts_at": "confirmation",
        "credit_rule": "tiered",
        "credit_cap_pct": "50.00",
        "support_calendar": "help-desk",
        "bands": BANDS,
        "exclusions": [
            {"category": "third_party", "treatment": "permitted", "clause": "Third parties."}
        ],
        "severities": [
            {
                "severity": 1,
                "name": "Critical",
                "description": "Production down.",
                "around_the_clock": True,
                "response": {"value": 60, "unit": "minutes"},
                "resolution": {"value": None, "unit": "none"},
            }
        ],
        **changes,
    }


def test_a_calendar_reads_back_in_the_shape_it_was_written(admin_user):
    client = client_for(admin_user)
    response = client.post(f"{API}calendars/", calendar_payload(), format="json")
    assert response.status_code == 201
    body = client.get(f"{API}calendars/ops-desk/").json()
    assert body["hours"] == {
        "mon": [["06:00", "12:00"], ["13:00", "24:00"]],
        "tue": [],
        "wed": [],
        "thu": [],
        "fri": [],
        "sat": [["00:00", "24:00"]],
        "sun": [],
    }
    assert body["custom_holidays"] == [{"date": "2026-12-24", "name": "Christmas Eve"}]
    assert body["time_zone"] == "America/Chicago"


def test_a_calendar_is_replaced_by_post_or_put(admin_user, calendar):
    client = client_for(admin_user)
    replaced = calendar_payload(code="help-desk", hours={"sun": [["10:00", "11:00"]]})
    response = client.post(f"{API}calendars/", replaced, format="json")
    assert response.status_code == 200
    assert response.json()["hours"]["sun"] == [["10:00", "11:00"]]
    assert response.json()["hours"]["mon"] == []

    del replaced["code"]
    replaced["hours"] = {"tue": [["09:00", "17:00"]]}
    response = client.put(f"{API}calendars/help-desk/", replaced, format="json")
    assert response.status_code == 200
    assert response.json()["hours"]["tue"] == [["09:00", "17:00"]]
    assert Calendar.objects.count() == 1
    assert client.put(f"{API}calendars/nope/", replaced, format="json").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a known IANA time zone"),
        (
            {"hours": {"mon": [["08:00", "12:00"], ["11:00", "14:00"]]}},
            "hours",
            "overlapping intervals on mon",
        ),
        ({"hours": {"tue": [["17:00", "09:00"]]}}, "hours", "reversed interval 17:00-09:00"),
        ({"hours": {"funday": [["09:00", "17:00"]]}}, "hours", "funday"),
        ({"hours": {"mon": [["9am", "17:00"]]}}, "hours", "9am"),
    ],
)
def test_a_bad_calendar_is_refused_and_nothing_saved(admin_user, changes, field, words):
    response = client_for(admin_user).post(
        f"{API}calendars/", calendar_payload(**changes), format="json"
    )
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert not Calendar.objects.exists()


def test_admin_publishes_a_policy_and_reads_it_back(admin_user, calendar):
    client = client_for(admin_user)
    payload = policy_payload()
    del payload["version"]
    response = client.post(f"{API}policies/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == 1
    # Posting the same terms again changes nothing.
    assert client.post(f"{API}policies/", payload, format="json").status_code == 200
    assert SLAPolicy.objects.count() == 1
    body = client.get(f"{API}policies/api-tiered/").json()
    assert body["bands"] == BANDS
    assert body["measurement_calendar"] == "help-desk"
    assert body["downtime_starts_at"] == "confirmation"
    assert body["credit_cap_pct"] == "50.00"
    assert body["exclusions"] == policy_payload()["exclusions"]
    assert body["severities"] == policy_payload()["severities"]


def test_a_policy_code_reads_its_latest_version_or_the_one_asked_for(customer_user, policy):
    services.policy_upsert(
        terms=policy_terms(policy.measurement_calendar, version=2, name="Tiered SLA 2027"),
        bands=band_tuples(),
    )
    client = client_for(customer_user)
    assert client.get(f"{API}policies/tiered/").json()["version"] == 2
    assert client.get(f"{API}policies/tiered/", {"version": 1}).json()["name"] == "Tiered SLA"
    assert client.get(f"{API}policies/tiered/", {"version": 9}).status_code == 404
    assert client.get(f"{API}policies/tiered/", {"version": "x"}).status_code == 400
    assert client.get(f"{API}policies/nope/").status_code == 404
    listed = client.get(f"{API}policies/", {"code": "tiered"}).json()
    assert [(p["code"], p["version"]) for p in listed["results"]] == [("tiered", 2), ("tiered", 1)]


@pytest.mark.parametrize(
    ("bands", "words"),
    [
        (
            [b for b in BANDS if b["lower_pct"] != "95.000"],
            "Bands leave a gap: nothing covers [95.000, 98.000)",
        ),
        (
            [*BANDS[:2], {**BANDS[2], "upper_pct": "98.500"}, *BANDS[3:]],
            "Band [95.000, 98.500) overlaps band [98.000, 99.500)",
        ),
    ],
)
def test_bad_credit_bands_are_refused_and_nothing_saved(admin_user, calendar, bands, words):
    response = client_for(admin_user).post(
        f"{API}policies/", policy_payload(bands=bands), format="json"
    )
    assert response.status_code == 400
    assert words in response.json()["bands"][0]
    assert not SLAPolicy.objects.exists()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"credit_rule": "multiplier", "bands": []}, "needs a positive multiplier"),
        (
            {
                "severities": [
                    {
                        "severity": 1,
                        "name": "Critical",
                        "description": "Down.",
                        "response": {"value": None, "unit": "minutes"},
                        "resolution": {"value": None, "unit": "none"},
                    }
                ]
            },
            "A response target needs a positive value",
        ),
        ({"measurement_calendar": "nope"}, "nope"),
    ],
)
def test_incomplete_policy_terms_are_refused_and_nothing_saved(
    admin_user, calendar, changes, words
):
    response = client_for(admin_user).post(
        f"{API}policies/", policy_payload(**changes), format="json"
    )
    assert response.status_code == 400
    assert words in errors_text(response)
    assert not SLAPolicy.objects.exists()


def test_policy_filters(agent, policy, calendar):
    services.policy_upsert(
        terms=policy_terms(
            calendar, code="multiplier", credit_rule="multiplier", credit_multiplier=10
        )
    )
    client = client_for(agent)
    listed = client.get(f"{API}policies/", {"credit_rule": "multiplier"}).json()["results"]
    assert [p["code"] for p in listed] == ["multiplier"]
    assert listed[0]["credit_multiplier"] == "10.00"
    assert listed[0]["bands"] == []


def test_a_calendar_code_with_a_nul_character_is_a_field_error(admin_user):
    # PostgreSQL cannot even look such a code up; the API answers 400, never 500.
    response = client_for(admin_user).post(
        f"{API}policies/", {"code": "x", "measurement_calendar": "a\x00b"}, format="json"
    )
    assert response.status_code == 400
    assert "does not exist" in " ".join(response.json()["measurement_calendar"])
    assert not SLAPolicy.objects.filter(code="x").exists()
