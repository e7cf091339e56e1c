"""``{% statements_with_credits statements as rows %}``: each statement with its credit
report (``statements.credit_report``), read in a handful of queries for the whole list,
so every list (portal home, the customer's and staff statement lists) shows the credits
as they stand, never a refused or undecided amount as credited."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from statements.credit_report import credit_reports
from statements.models import Statement

register = template.Library()


@register.simple_tag
def statements_with_credits(statements: Iterable[Statement]) -> list[tuple[Statement, dict]]:
    statements = list(statements)
    reports = credit_reports(statements)
    return [(statement, reports[statement.pk]) for statement in statements]
