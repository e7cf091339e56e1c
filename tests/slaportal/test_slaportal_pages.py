"""What every page shares (slaportal.pages): rendering in the viewer's zone and paging."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from slaportal.pages import page_number, paginate, render_zoned, viewer_zone

# Chicago springs forward at 02:00 CST on 8 March 2026 (08:00 UTC) and falls back at
# 02:00 CDT on 1 November 2026 (07:00 UTC).
SPRING_BEFORE = datetime(2026, 3, 8, 7, 59, tzinfo=UTC)
SPRING_AFTER = datetime(2026, 3, 8, 8, 0, tzinfo=UTC)
FALL_BEFORE = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
FALL_REPEATED = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
FALL_AFTER = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


def request_as(time_zone: str | None, **query):
    request = RequestFactory().get("/list/", query)
    request.user = AnonymousUser() if time_zone is None else SimpleNamespace(time_zone=time_zone)
    return request


@pytest.fixture
def moments_template(settings, tmp_path):
    (tmp_path / "moments.html").write_text(
        '{{ zone }}|{% for t in moments %}{{ t|date:"Y-m-d H:i T" }};{% endfor %}'
    )
    settings.TEMPLATES = [
        {"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [tmp_path]}
    ]
    return "moments.html"


def test_times_show_in_the_viewers_zone_across_the_spring_change(moments_template):
    response = render_zoned(
        request_as("America/Chicago"), moments_template, {"moments": [SPRING_BEFORE, SPRING_AFTER]}
    )
    assert response.content.decode() == (
        "America/Chicago|2026-03-08 01:59 CST;2026-03-08 03:00 CDT;"
    )


def test_times_show_in_the_viewers_zone_across_the_fall_change(moments_template):
    # Three hours apart in UTC, two on the wall clock: the repeated hour lies between.
    # (Inside the repeated hour Django prints no abbreviation: "T" is ambiguous there.)
    response = render_zoned(
        request_as("America/Chicago"),
        moments_template,
        {"moments": [FALL_BEFORE, FALL_REPEATED, FALL_AFTER]},
    )
    assert response.content.decode() == (
        "America/Chicago|2026-11-01 00:30 CDT;2026-11-01 01:30 ;2026-11-01 02:30 CST;"
    )


def test_render_zoned_passes_the_status_on(moments_template):
    response = render_zoned(request_as("UTC"), moments_template, {"moments": []}, status=400)
    assert response.status_code == 400
    assert response.content.decode() == "UTC|"


@pytest.mark.parametrize("name", ["", "Mars/Olympus_Mons", "America", "../etc/passwd"])
def test_a_missing_or_unknown_zone_is_utc(name):
    assert viewer_zone(request_as(name)).key == "UTC"


def test_a_visitor_without_a_zone_is_utc():
    assert viewer_zone(request_as(None)).key == "UTC"


# ---------------------------------------------------------------- pagination


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        (None, 1),
        ("", 1),
        ("1", 1),
        ("3", 3),
        (" 2 ", 2),
        ("0", 1),
        ("-1", 1),
        ("abc", 1),
        ("2.5", 1),
        ("²", 1),  # a digit to str.isdigit, not to int()
        ("999999", 999999),
        ("1234567", 1),
        ("9" * 5000, 1),
    ],
)
def test_a_page_number_that_is_not_a_small_positive_number_is_the_first_page(raw, number):
    assert page_number(raw) == number


ITEMS = list(range(1, 61))  # 60 items: pages of 25, 25, 10


@pytest.mark.parametrize(
    ("raw", "number", "first"),
    [("1", 1, 1), ("2", 2, 26), ("3", 3, 51), ("4", 3, 51), ("999", 3, 51), ("x", 1, 1)],
)
def test_paginate_gives_the_page_asked_for_and_past_the_end_the_last(raw, number, first):
    page, _ = paginate(request_as("UTC", page=raw), ITEMS)
    assert page.number == number
    assert page.object_list[0] == first
    assert page.paginator.num_pages == 3


def test_an_empty_list_is_one_empty_page():
    page, _ = paginate(request_as("UTC", page="5"), [])
    assert (page.number, list(page.object_list), page.paginator.count) == (1, [], 0)


def test_the_links_keep_the_filters_but_not_the_page():
    _, query = paginate(request_as("UTC", page="2", status="open", q="db down"), ITEMS)
    assert query == "status=open&q=db+down"


def test_a_page_size_can_be_given():
    page, query = paginate(request_as("UTC"), ITEMS, 50)
    assert (len(page.object_list), page.paginator.num_pages, query) == (50, 2, "")
