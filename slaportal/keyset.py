"""Keyset ("seek") pages: the rows after a position in a list's order, read with index
range scans, so page 4,000 costs what page 1 does (an OFFSET reads and throws away every
row before the page).

A list's order is its queryset's ``order_by`` (the model's Meta ordering when it has
none), ended by the primary key so that every row has its own position. The position is
the last row's values of those columns; the rows after it are read as a few disjoint
ranges, in order, each a range of the list's index:

* a run of columns in one direction becomes one row comparison, ``(created_at, id) <
  (%s, %s)``, plus a bound on its first column that the planner can use on its own;
* a column whose direction changes starts a new run, after an equality on the columns
  before it (``month = %s AND (contract_id, ...) > (...)``, then ``month < %s``);
* a column that may be null is compared as such: the nulls of a "nulls last" column are a
  range of their own after the values (the desk's tickets with no running deadline).

API pages (``slaportal.pagination``) and the desk's HTML pages share it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import F, Field, Model, Q, QuerySet, prefetch_related_objects
from django.db.models.expressions import OrderBy
from django.db.models.fields.tuple_lookups import (
    Tuple,
    TupleGreaterThan,
    TupleLessThan,
)

Key = tuple[Any, ...]


class InvalidCursor(ValueError):
    """A position that this list did not hand out (tampered, truncated, another order)."""


@dataclass(frozen=True)
class Term:
    """One column of a list's order."""

    path: str  # "created_at", "customer__name", "contract_id", "id"
    descending: bool
    nulls_last: bool  # where this term's nulls sit, in this term's own direction
    nullable: bool
    unique: bool  # a column of the model's own whose values are all different
    field: Field  # the column's field (the target's primary key for a ``*_id`` column)

    def order(self) -> OrderBy | str:
        if not self.nullable:  # plain, as the index is declared
            return f"-{self.path}" if self.descending else self.path
        nulls = {"nulls_last": True} if self.nulls_last else {"nulls_first": True}
        return OrderBy(F(self.path), descending=self.descending, **nulls)

    def reversed(self) -> Term:
        return replace(self, descending=not self.descending, nulls_last=not self.nulls_last)

    def after(self, value: Any) -> Q:
        return Q(**{f"{self.path}__{'lt' if self.descending else 'gt'}": value})

    def at_or_after(self, value: Any) -> Q:
        return Q(**{f"{self.path}__{'lte' if self.descending else 'gte'}": value})

    def equal(self, value: Any) -> Q:
        return Q(**{f"{self.path}__isnull": True}) if value is None else Q(**{self.path: value})


def _resolve(model: type[Model], path: str) -> tuple[str, Field, bool, bool]:
    """The column a path names, its field, whether it may be null (a nullable relation on
    the way makes it nullable too) and whether it is a unique column of ``model``."""
    if path == "pk":
        path = model._meta.pk.name
    parts, nullable, current = path.split("__"), False, model
    for i, part in enumerate(parts):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist as exc:
            raise TypeError(f"keyset pages cannot order by {path!r}") from exc
        nullable = nullable or bool(field.null)
        last = i == len(parts) - 1
        if field.is_relation:
            if field.many_to_many or field.one_to_many or not field.concrete:
                raise TypeError(f"keyset pages cannot order across {path!r}")
            if last:
                # Ordering by a relation's name follows the related model's own ordering;
                # a list orders by the column (``contract_id``) instead.
                if part != field.attname:
                    raise TypeError(f"order by {field.attname!r}, not {path!r}")
                return path, field.target_field, nullable, len(parts) == 1 and field.unique
            current = field.related_model
        elif not last:
            raise TypeError(f"keyset pages cannot order by {path!r}")
    return path, field, nullable, len(parts) == 1 and field.unique


def _term(model: type[Model], item: Any) -> Term:
    if isinstance(item, str):
        descending, name = item.startswith("-"), item.lstrip("-")
        nulls_last = None
    elif isinstance(item, OrderBy) and isinstance(item.expression, F):
        descending, name = item.descending, item.expression.name
        nulls_last = True if item.nulls_last else False if item.nulls_first else None
    elif isinstance(item, F):
        descending, name, nulls_last = False, item.name, None
    else:
        raise TypeError(f"keyset pages order by columns, not {item!r}")
    path, field, nullable, unique = _resolve(model, name)
    if nulls_last is None:  # PostgreSQL's default, made explicit for SQLite's sake
        nulls_last = not descending
    return Term(path, descending, nulls_last, nullable, unique and not nullable, field)


@dataclass(frozen=True)
class Ordering:
    """A list's order, ended by a unique column (the primary key unless it says so)."""

    model: type[Model]
    terms: tuple[Term, ...]

    @classmethod
    def of(cls, queryset: QuerySet) -> Ordering:
        query = queryset.query
        items = list(query.order_by)
        if not items and query.default_ordering:
            items = list(queryset.model._meta.ordering)
        model = queryset.model
        terms = [_term(model, item) for item in items]
        if not terms or not terms[-1].unique:
            # The primary key breaks ties, so each row has a position of its own.
            pk = model._meta.pk.name
            terms.append(_term(model, f"-{pk}" if terms and terms[-1].descending else pk))
        return cls(model, tuple(terms))

    @property
    def signature(self) -> str:
        """Short and stable: a position from another list or order is refused."""
        spec = ",".join(
            f"{'-' if t.descending else ''}{t.path}{'' if t.nulls_last else '^'}"
            for t in self.terms
        )
        return hashlib.sha256(f"{self.model._meta.label}:{spec}".encode()).hexdigest()[:10]

    def reversed(self) -> Ordering:
        return Ordering(self.model, tuple(t.reversed() for t in self.terms))

    def apply(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by(*(t.order() for t in self.terms))

    def key(self, obj: Model) -> Key:
        """A row's position: its values of the order's columns."""
        values = []
        for term in self.terms:
            value: Any = obj
            for part in term.path.split("__"):
                value = None if value is None else getattr(value, part)
            values.append(value)
        return tuple(values)

    def ranges(self, key: Key) -> Iterator[list[Q]]:
        """The rows strictly after ``key``, as disjoint filters in the list's order."""
        terms, runs, start = self.terms, [], 0
        while start < len(terms):
            end = start + 1
            if key[start] is not None:
                while (
                    end < len(terms)
                    and not terms[end].nullable
                    and terms[end].descending == terms[start].descending
                ):
                    end += 1
            runs.append((start, end))
            start = end
        for start, end in reversed(runs):
            prefix = [t.equal(v) for t, v in zip(terms[:start], key[:start], strict=True)]
            head, value = terms[start], key[start]
            if value is None:  # only a nullable column is None
                if not head.nulls_last:  # its nulls come first: every value follows
                    yield [*prefix, Q(**{f"{head.path}__isnull": False})]
                continue
            if end - start == 1:
                yield [*prefix, head.after(value)]
            else:
                compare = TupleLessThan if head.descending else TupleGreaterThan
                columns = Tuple(*(F(t.path) for t in terms[start:end]))
                # The bound alone is what an index range starts from; the row comparison
                # (nulls never match it) then skips the ties before the position.
                yield [*prefix, head.at_or_after(value), compare(columns, list(key[start:end]))]
            if head.nullable and head.nulls_last:
                yield [*prefix, Q(**{f"{head.path}__isnull": True})]

    # ------------------------------------------------------------ positions as text

    def encode(self, key: Key | None, *, reverse: bool) -> str:
        """A position as an opaque, URL-safe token (None: the very end, read backwards)."""
        values = None if key is None else [_jsonable(v) for v in key]
        payload = {"o": self.signature, "r": int(reverse), "k": values}
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, token: str) -> tuple[Key | None, bool]:
        """(position, reverse) from a token this order handed out; ``InvalidCursor``
        for anything else."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            payload = json.loads(raw)
            if not isinstance(payload, dict) or payload.get("o") != self.signature:
                raise InvalidCursor("not a position in this list")
            reverse, values = payload.get("r"), payload.get("k")
            if reverse not in (0, 1):
                raise InvalidCursor("no direction")
            if values is None:
                return None, bool(reverse)
            if not isinstance(values, list) or len(values) != len(self.terms):
                raise InvalidCursor("wrong number of values")
            key = tuple(_parse(term, value) for term, value in zip(self.terms, values, strict=True))
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
            raise InvalidCursor(str(exc) or "unreadable") from exc
        return key, bool(reverse)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _parse(term: Term, value: Any) -> Any:
    if value is None:
        if not term.nullable:
            raise InvalidCursor(f"{term.path} is never empty")
        return None
    if not isinstance(value, (str, int, bool)) or isinstance(value, bool) != (
        term.field.get_internal_type() == "BooleanField"
    ):
        raise InvalidCursor(f"not a value of {term.path}")
    try:
        parsed = term.field.to_python(value)
        term.field.run_validators(parsed)  # an id past the column's range, a long text
    except ValidationError as exc:
        raise InvalidCursor(f"not a value of {term.path}") from exc
    if parsed is None or (isinstance(parsed, datetime) and parsed.tzinfo is None):
        raise InvalidCursor(f"not a value of {term.path}")
    return parsed


@dataclass(frozen=True)
class Slice:
    rows: list[Model]
    more: bool  # rows follow the slice in the direction it was read


def plan(
    queryset: QuerySet, ordering: Ordering, *, key: Key | None = None, reverse: bool = False
) -> list[QuerySet]:
    """The queries that read the rows after ``key`` (before it when ``reverse``; from the
    start, or the end, without one), each an index range, to be read in turn."""
    order = ordering.reversed() if reverse else ordering
    base = order.apply(queryset).prefetch_related(None)
    if key is None:
        return [base]
    return [base.filter(*filters) for filters in order.ranges(key)]


def read(
    queryset: QuerySet,
    ordering: Ordering,
    *,
    size: int,
    key: Key | None = None,
    reverse: bool = False,
) -> Slice:
    """``size`` rows after ``key`` in ``ordering`` (before it when ``reverse``; from the
    start, or the end when reversed, without one), in the list's order either way."""
    rows: list[Model] = []
    for query in plan(queryset, ordering, key=key, reverse=reverse):
        rows += query[: size + 1 - len(rows)]
        if len(rows) > size:
            break
    more, rows = len(rows) > size, rows[:size]
    if reverse:
        rows.reverse()
    lookups = queryset._prefetch_related_lookups
    if lookups:  # once for the page, however many ranges it came from
        prefetch_related_objects(rows, *lookups)
    return Slice(rows, more)
