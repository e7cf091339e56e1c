"""What became of a statement's credits: the one home of the sentences and totals every
statement page, list, the API, the PDF and the e-mail show.

A statement's snapshot freezes the credits as computed; their decisions and where the
money went come later, so each view reads them now from the ledger and the credit notes
(``credits.selectors.credit_states``). A report is plain JSON (amounts as decimal
strings, texts ready to show), so the final PDF can store the report it was rendered
with (``Statement.pdf_credits``) and a re-render reproduces that document.

No sentence says a credit was or will be applied unless the ledger shows it:

* pending — "awaiting your account manager's decision"; nothing is granted;
* approved, on no invoice yet — granted to the account, going on the next invoice of the
  kind its policy (or the account manager) names: said as pending application;
* applied — the invoice and the credit note, per application (reversed ones named);
* rejected / not eligible — with the reason; withdrawn — replaced by a later revision.

Totals: **granted** (this statement's credits, as the ledger granted them), on a
revision **previously credited** (the gross grant of the latest approved earlier
revision of each service-month: every approval reverses all earlier grants of its
service-month, so that is what was in force before) and the **net change** (granted
less previously credited, per decided credit; a rejected revision changes nothing, the
earlier grant stands; a pending one is left out and flagged).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from contracts.models import Invoice
from credits.models import Credit, LedgerEntry
from credits.selectors import CreditState, credit_states
from slaportal.money import format_money
from statements.models import Statement, StatementCredit

ZERO = Decimal("0")
KIND_LABELS = dict(Invoice.Kind.choices)

# status → (short label, badge tone)
BADGES = {
    "pending": ("Awaiting decision", "warning"),
    "approved": ("Approved, not yet on an invoice", "primary"),
    "applied": ("Applied", "success"),
    "partly_applied": ("Partly applied", "success"),
    "expired": ("Expired", "neutral"),
    "withdrawn": ("Withdrawn", "neutral"),
    "rejected": ("Rejected", "danger"),
    "ineligible": ("Not eligible", "neutral"),
    "replaced": ("Withdrawn before a decision", "neutral"),
}


def _money(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency)


def _signed(amount: Decimal, currency: str) -> str:
    sign = "−" if amount < 0 else "+" if amount > 0 else ""
    return sign + format_money(abs(amount), currency)


def _kind_label(credit: Credit) -> str:
    kinds = credit.contract.policy.credit_invoice_kinds or [Invoice.Kind.SUBSCRIPTION]
    kind = credit.invoice_kind or kinds[0]
    return KIND_LABELS.get(kind, kind).lower()


def _applications(state: CreditState, currency: str, revision: int) -> list[dict]:
    return [
        {
            "invoice": a.invoice_number,
            "credit_note": a.credit_note_number,
            "amount": str(a.amount),
            "amount_text": _money(a.amount, currency),
            "reversed_by": a.reversed_by,
            "revision": revision,
        }
        for a in state.applied
    ]


def _on_invoices(applications: list[dict]) -> str:
    live = [a for a in applications if not a["reversed_by"]]
    return "; ".join(
        f"{a['amount_text']} applied to invoice {a['invoice']} by credit note {a['credit_note']}"
        for a in live
    )


def _reversals(applications: list[dict]) -> str:
    return " ".join(
        f"Credit note {a['credit_note']} (invoice {a['invoice']}) was reversed by credit "
        f"note {a['reversed_by']}."
        for a in applications
        if a["reversed_by"]
    )


def _sentence(
    *,
    credit: Credit,
    status: str,
    state: CreditState,
    applications: list[dict],
    earlier_applications: list[dict],
    granted: Decimal,
    previously: Decimal,
    later_revision: int | None,
) -> str:
    currency = credit.currency
    kind = _kind_label(credit)
    on = _on_invoices(applications)
    held = _money(state.remaining, currency)
    if status == "pending":
        text = "Awaiting your account manager's decision; nothing is granted yet."
        if previously:
            text += f" The {_money(previously, currency)} granted earlier stands until then."
        return text
    if status == "rejected":
        text = f"Rejected: {credit.reason}"
        if previously:
            text += f" The {_money(previously, currency)} granted earlier stands."
        return text
    if status == "replaced":
        return f"Withdrawn before a decision: {credit.reason}"
    if status == "ineligible":
        return f"Not eligible: {credit.reason}"
    if status == "applied":
        text = on[0].upper() + on[1:] + "."
    elif status == "partly_applied":
        text = (
            f"{on[0].upper() + on[1:]}; {held} is not yet on an invoice and goes on your next "
            f"{kind} invoice."
        )
    elif status == "expired":
        expired = f"{_money(state.expired, currency)} expired on the termination of the contract"
        text = (
            f"{on[0].upper() + on[1:]}; {expired}."
            if on
            else expired[0].upper() + expired[1:] + "."
        )
    elif status == "withdrawn":
        text = (
            f"Granted, then withdrawn: replaced by revision {later_revision} of this month."
            if later_revision
            else "Granted, then withdrawn (the grant was reversed)."
        )
    elif granted == 0:
        text = "Approved: no credit under these figures."
        if previously:
            text += f" The {_money(previously, currency)} granted earlier is withdrawn."
    elif state.remaining > 0:
        text = f"Approved; not yet on an invoice: {held} goes on your next {kind} invoice."
    elif earlier_applications and any(not a["reversed_by"] for a in earlier_applications):
        text = (
            "Approved; already on your invoices from the earlier revision: "
            f"{_on_invoices(earlier_applications)}."
        )
    else:
        text = "Approved."
    if later_revision and status in ("applied", "partly_applied", "expired"):
        text += f" Replaced by revision {later_revision} of this month."
    reversals = _reversals(applications)
    return f"{text} {reversals}" if reversals else text


def _line(
    *,
    credit: Credit,
    row: dict,
    state: CreditState,
    chain: list[dict],
    states: dict[int, CreditState],
    grants: dict[int, Decimal],
) -> dict:
    currency = credit.currency
    earlier = [c for c in chain if c["revision"] < credit.revision]
    later = [c for c in chain if c["revision"] > credit.revision]
    later_approved = [c["revision"] for c in later if c["status"] == Credit.Status.APPROVED]
    approved_earlier = [c for c in earlier if c["status"] == Credit.Status.APPROVED]
    previously = grants.get(approved_earlier[-1]["pk"], ZERO) if approved_earlier else ZERO
    status = state.status
    if status == Credit.Status.INELIGIBLE and later and credit.decided_at is None:
        status = "replaced" if "revision" in credit.reason.lower() else status
    granted = grants.get(credit.pk, ZERO) if credit.status == Credit.Status.APPROVED else ZERO
    if credit.status == Credit.Status.APPROVED:
        net: Decimal | None = granted - previously
    elif credit.status == Credit.Status.PENDING:
        net = None
    else:
        net = ZERO
    applications = _applications(state, currency, credit.revision)
    earlier_applications = [
        app
        for c in earlier
        if c["pk"] in states
        for app in _applications(states[c["pk"]], currency, c["revision"])
    ]
    label, tone = BADGES.get(status, (status, "neutral"))
    amount = Decimal(row.get("amount", credit.amount))
    return {
        "credit_id": credit.pk,
        "service_id": credit.service_id,
        "service": row.get("service") or credit.service.name,
        "revision": credit.revision,
        "amount": str(amount),
        "amount_text": _money(amount, currency),
        "status": status,
        "decision": credit.status,
        "label": label,
        "tone": tone,
        "reason": credit.reason,
        "sentence": _sentence(
            credit=credit,
            status=status,
            state=state,
            applications=applications,
            earlier_applications=earlier_applications,
            granted=granted,
            previously=previously,
            later_revision=max(later_approved) if later_approved else None,
        ),
        "applications": applications,
        "remaining": str(state.remaining),
        "remaining_text": _money(state.remaining, currency),
        "granted": str(granted),
        "granted_text": _money(granted, currency),
        "previously": str(previously),
        "previously_text": _money(previously, currency),
        "net": None if net is None else str(net),
        "net_text": None if net is None else _signed(net, currency),
    }


def _totals(statement: Statement, lines: list[dict], currency: str) -> dict:
    def total(key: str, only=None) -> Decimal:
        return sum(
            (Decimal(line[key]) for line in lines if only is None or line["decision"] in only),
            ZERO,
        )

    applied = sum(
        (
            Decimal(a["amount"])
            for line in lines
            for a in line["applications"]
            if not a["reversed_by"]
        ),
        ZERO,
    )
    pending = total("amount", {Credit.Status.PENDING})
    refused = total("amount", {Credit.Status.REJECTED, Credit.Status.INELIGIBLE})
    granted = total("granted")
    previously = total("previously")
    net = sum((Decimal(line["net"]) for line in lines if line["net"] is not None), ZERO)
    computed = total("amount")
    figures = {
        "computed": computed,
        "granted": granted,
        "previously": previously,
        "pending": pending,
        "refused": refused,
        "applied": applied,
    }
    result: dict = {}
    for key, value in figures.items():
        result[key] = str(value)
        result[f"{key}_text"] = _money(value, currency)
    result["net"] = str(net)
    result["net_text"] = _signed(net, currency)
    result["has_granted"] = granted > 0
    result["has_pending"] = pending > 0
    result["has_refused"] = refused > 0
    result["awaiting"] = pending > 0 or any(line["decision"] == "pending" for line in lines)
    result["revision"] = statement.revision > 1
    return result


def _list_summary(lines: list[dict], totals: dict, currency: str) -> dict:
    """A list's cell: the amount credited (never a refused or undecided one) and the states."""
    if not lines:
        return {"main": "None", "sub": ""}
    states = list(dict.fromkeys(line["label"] for line in lines))
    sub = ", ".join(states)
    if totals["awaiting"] and Decimal(totals["granted"]) == 0:
        return {"main": "—", "sub": f"{totals['pending_text']} awaiting decision"}
    if Decimal(totals["refused"]) and not Decimal(totals["granted"]):
        sub = f"{sub} ({totals['refused_text']} not granted)"
    if totals["revision"]:
        sub = f"{sub}; net change {totals['net_text']}"
    return {"main": totals["granted_text"], "sub": sub}


def _empty(statement: Statement, now: datetime) -> dict:
    currency = statement.currency
    totals = _totals(statement, [], currency)
    return {
        "as_of": now.isoformat(),
        "currency": currency,
        "lines": [],
        "totals": totals,
        "list": _list_summary([], totals, currency),
    }


def credit_reports(
    statements: Iterable[Statement], *, now: datetime | None = None
) -> dict[int, dict]:
    """Each issued (or superseded) statement's report, read now; a draft's is empty (its
    credits are a preview in the snapshot). A handful of queries however many statements."""
    now = now or timezone.now()
    statements = list(statements)
    reports = {s.pk: _empty(s, now) for s in statements}
    issued = [s for s in statements if s.status != Statement.Status.DRAFT]
    if not issued:
        return reports
    links: dict[int, set[int]] = defaultdict(set)
    for statement_id, credit_id in StatementCredit.objects.filter(
        statement__in=[s.pk for s in issued]
    ).values_list("statement_id", "credit_id"):
        links[statement_id].add(credit_id)
    ids = {pk for pks in links.values() for pk in pks}
    if not ids:
        return reports
    credits = {
        c.pk: c
        for c in Credit.objects.filter(pk__in=ids).select_related("service", "contract__policy")
    }
    siblings = list(
        Credit.objects.filter(
            contract_id__in={c.contract_id for c in credits.values()},
            month__in={c.month for c in credits.values()},
        )
        .values("pk", "contract_id", "service_id", "month", "revision", "status")
        .order_by("revision", "pk")
    )
    chains: dict[tuple, list[dict]] = defaultdict(list)
    for row in siblings:
        chains[(row["contract_id"], row["service_id"], row["month"])].append(row)
    sibling_ids = [row["pk"] for row in siblings]
    states = credit_states(sibling_ids)
    grants = {
        row["credit_id"]: row["total"]
        for row in LedgerEntry.objects.filter(
            credit_id__in=sibling_ids, kind=LedgerEntry.Kind.CREDIT_GRANTED
        )
        .values("credit_id")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    for statement in issued:
        rows = {row["credit_id"]: row for row in statement.snapshot.get("credits") or []}
        ordered = [pk for pk in rows if pk in links[statement.pk]] + sorted(
            links[statement.pk] - set(rows)
        )
        lines = []
        for pk in ordered:
            credit = credits[pk]
            chain = chains[(credit.contract_id, credit.service_id, credit.month)]
            lines.append(
                _line(
                    credit=credit,
                    row=rows.get(pk, {}),
                    state=states[pk],
                    chain=chain,
                    states=states,
                    grants=grants,
                )
            )
        totals = _totals(statement, lines, statement.currency)
        reports[statement.pk] = {
            "as_of": now.isoformat(),
            "currency": statement.currency,
            "lines": lines,
            "totals": totals,
            "list": _list_summary(lines, totals, statement.currency),
        }
    return reports


def credit_report(statement: Statement, *, now: datetime | None = None) -> dict:
    """One statement's report, read now (see ``credit_reports``)."""
    return credit_reports([statement], now=now)[statement.pk]
