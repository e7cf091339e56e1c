"""The SLA catalog expresses both seed documents as data.

``CLAUSES`` walks the documents line by line: each clause names the catalog field
that expresses it and the value it must hold. Lines that carry no term (headings,
table headers, template placeholders, marketing copy) are listed in ``NOT_TERMS``
with the reason. ``test_every_line_of_both_documents_is_accounted_for`` proves the
two lists together cover every line, so a clause cannot be silently skipped. The
tables live in tests/support/sla_clauses_tiered.py and tests/support/sla_clauses_multiplier.py.

The documents themselves are not in this repository: the two tests that read them take
them from ``SLA_DOCUMENTS_DIR`` (the ``sla_documents`` fixture) and skip without it, or
fail with ``REQUIRE_SLA_DOCUMENTS=1``, as in CI. The other tests here need only the
catalog.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from contracts.catalog import DEFAULT_CATALOG
from contracts.models import Calendar, CreditBand, SLAPolicy
from tests.support import sla_clauses_multiplier, sla_clauses_tiered
from tests.support.sla_clauses import MULTIPLIER_DOC, TIERED_DOC, Clause, Contains, resolve

CLAUSES = sla_clauses_tiered.CLAUSES + sla_clauses_multiplier.CLAUSES
NOT_TERMS = sla_clauses_tiered.NOT_TERMS + sla_clauses_multiplier.NOT_TERMS


def _bullet(line: str) -> str:
    return line.strip().lstrip("•–").strip()


@cache
def _seed_lines(folder: Path, doc: str) -> tuple[str, ...]:
    """Non-empty lines, bullets and non-breaking spaces normalised away."""
    text = (folder / doc).read_text(encoding="utf-8")
    return tuple(_bullet(" ".join(ln.split())) for ln in text.splitlines() if ln.strip())


def _line_for(folder: Path, clause: Clause) -> str:
    matches = [ln for ln in _seed_lines(folder, clause.doc) if clause.excerpt in ln]
    assert matches, f"{clause.excerpt!r} is not in {clause.doc}"
    return matches[0]


@pytest.mark.parametrize(
    "clause", CLAUSES, ids=[f"{c.doc[:3]}:{c.excerpt[:40]}->{c.path}" for c in CLAUSES]
)
def test_clause_is_expressed_by_the_catalog(catalog, sla_documents: Path, clause: Clause):
    line = _line_for(sla_documents, clause)
    expected = _bullet(line) if clause.expected == "LINE" else clause.expected
    for code in clause.policies:
        policy = SLAPolicy.objects.get(code=code, version=1)
        actual = resolve(policy, clause.path)
        if isinstance(expected, Contains):
            assert expected.text in actual, f"{code}.{clause.path}: {actual!r}"
        else:
            assert actual == expected, f"{code}.{clause.path}"


@pytest.mark.parametrize("doc", [TIERED_DOC, MULTIPLIER_DOC])
def test_every_line_of_both_documents_is_accounted_for(sla_documents: Path, doc):
    lines = _seed_lines(sla_documents, doc)
    excerpts = [c.excerpt for c in CLAUSES if c.doc == doc]
    skipped = [text for d, text, _ in NOT_TERMS if d == doc]
    for text in excerpts + skipped:
        assert any(text in ln for ln in lines), f"{text!r} is not in {doc}"
    unaccounted = [
        ln
        for ln in lines
        if not any(e in ln for e in excerpts)
        and ln not in skipped
        and not any(ln.startswith(s) for s in skipped)
    ]
    assert unaccounted == []


def test_loading_the_catalog_twice_changes_nothing(db, capsys):
    call_command("load_sla_catalog")
    first = capsys.readouterr().out
    ids = sorted(SLAPolicy.objects.values_list("id", flat=True))
    bands = sorted(CreditBand.objects.values_list("id", flat=True))
    call_command("load_sla_catalog")
    second = capsys.readouterr().out
    assert "8 created, 0 updated, 0 unchanged" in first
    assert "0 created, 0 updated, 8 unchanged" in second
    assert sorted(SLAPolicy.objects.values_list("id", flat=True)) == ids
    assert sorted(CreditBand.objects.values_list("id", flat=True)) == bands


def _catalog() -> dict[str, Any]:
    return json.loads(DEFAULT_CATALOG.read_text(encoding="utf-8"))


def _policy(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(p for p in data["policies"] if p["code"] == code)


def _calendar(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(c for c in data["calendars"] if c["code"] == code)


def _overlap(d):
    _calendar(d, "heretto-help-desk")["hours"]["mon"].append(["19:00", "21:00"])


def _reversed(d):
    _calendar(d, "heretto-help-desk")["hours"]["tue"] = [["20:00", "03:00"]]


def _unknown_zone(d):
    _calendar(d, "balto-business-hours")["time_zone"] = "America/Chicagoo"


def _band_gap(d):
    _policy(d, "heretto-ccms")["bands"][1] = ["98.000", "99.000", "5"]


def _band_overlap(d):
    _policy(d, "heretto-ccms")["bands"][1] = ["98.000", "99.600", "5"]


def _bad_target(d):
    _policy(d, "balto-uptime")["target_availability"] = "120"


def _unknown_term(d):
    _policy(d, "balto-uptime")["credit_multipler"] = "10"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_overlap, "overlap"),
        (_reversed, "20:00"),
        (_unknown_zone, "America/Chicagoo"),
        (_band_gap, "gap"),
        (_band_overlap, "overlaps"),
        (_bad_target, "Target availability"),
        (_unknown_term, "credit_multipler"),
    ],
)
def test_a_bad_catalog_is_refused_with_the_problem_named_and_nothing_saved(
    db, tmp_path, mutate, message
):
    data = _catalog()
    mutate(data)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        call_command("load_sla_catalog", file=str(path))
    assert message in str(excinfo.value)
    assert "nothing saved" in str(excinfo.value)
    assert SLAPolicy.objects.count() == 0
    assert Calendar.objects.count() == 0


def test_a_policy_in_use_cannot_be_rewritten_without_a_new_version(catalog, tmp_path):
    from tests.support.factories import ContractFactory

    ContractFactory(policy=SLAPolicy.objects.get(code="balto-uptime"))
    data = _catalog()
    _policy(data, "balto-uptime")["credit_cap_pct"] = "25.00"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError, match="new version"):
        call_command("load_sla_catalog", file=str(path))
    assert SLAPolicy.objects.get(code="balto-uptime").credit_cap_pct == Decimal("30.00")
