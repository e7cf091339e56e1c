"""The one pagination every API list uses (settings: DEFAULT_PAGINATION_CLASS).

Cursor (keyset) pages: a page's ``next`` and ``previous`` links carry the position of
its last or first row, and the next page is read from there with an index range
(``slaportal.keyset``), so a deep page costs what the first does. The order is the
list's own: the view's queryset ``order_by`` after its filters (``?ordering=due`` on
tickets), ended by the primary key; each order has a matching index (tests/slaportal/
test_list_indexes.py). There are no page numbers and no count: counting every row is the
cost that grows with the table.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

from slaportal import keyset

BAD_CURSOR = "Not a cursor of this list (or of this order): start again from the first page."


class KeysetPagination(CursorPagination):
    """Pages of 50 by default; a script may ask for up to 200 with ``?page_size=``.

    ``?cursor=`` is opaque: the ``next`` or ``previous`` link of a page. A cursor this
    list did not give out is a 400. The last page is the ``previous`` page of the end:
    ``last_link`` (not in the body; clients walk ``next``)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    cursor_query_description = "The position to read from: a page's `next` or `previous` link."
    ordering = None  # the queryset's own (see the module docstring)

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list | None:
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.keyset = keyset.Ordering.of(queryset)
        token = request.query_params.get(self.cursor_query_param)
        if token:
            try:
                self.key, self.reverse = self.keyset.decode(token)
            except keyset.InvalidCursor as exc:
                raise exceptions.ValidationError({self.cursor_query_param: [BAD_CURSOR]}) from exc
        else:
            self.key, self.reverse = None, False
        found = keyset.read(
            queryset, self.keyset, size=self.page_size, key=self.key, reverse=self.reverse
        )
        self.page = found.rows
        after_start_or_end = self.key is not None
        self.has_next = after_start_or_end if self.reverse else found.more
        self.has_previous = found.more if self.reverse else after_start_or_end
        self.display_page_controls = self.has_next or self.has_previous
        return self.page

    def _link(self, key: keyset.Key | None, *, reverse: bool) -> str:
        token = self.keyset.encode(key, reverse=reverse)
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        # An empty page read backwards from a position: the next page starts there.
        key = self.keyset.key(self.page[-1]) if self.page else self.key
        return self._link(key, reverse=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        key = self.keyset.key(self.page[0]) if self.page else self.key
        return self._link(key, reverse=True)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        body = super().get_paginated_response_schema(schema)
        body["required"] = ["next", "previous", "results"]  # always there, null or not
        links = body["properties"]
        example = "https://sla.example.com/api/v1/tickets/?cursor=eyJvIjoiNGQ5ZjBhIn0"
        links["next"].update(
            description="The next page (its `cursor`); null on the last page.", example=example
        )
        links["previous"].update(
            description="The page before (its `cursor`); null on the first page.",
            example=example,
        )
        return body

    def get_first_link(self) -> str:
        return remove_query_param(self.base_url, self.cursor_query_param)

    def get_last_link(self) -> str:
        """The list's last page: read backwards from the end."""
        return self._link(None, reverse=True)
