"""The one pagination every API list uses (settings: DEFAULT_PAGINATION_CLASS)."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class PageNumberWithSizePagination(PageNumberPagination):
    """Pages of 50 by default; a script may ask for up to 200 with ``?page_size=``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
