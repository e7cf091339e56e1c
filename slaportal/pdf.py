"""WeasyPrint, once for every document the portal issues (statements, credit notes):
``html_to_pdf(html, stylesheets)``.

Static files come from disk only: the fetcher serves ``file:`` URLs under the static
directories and ``data:`` URLs, and refuses everything else (no HTTP from a worker,
whatever a template or a customer-supplied title might contain — Django's autoescaping
keeps titles text anyway). One ``FontConfiguration`` and one parsed copy of each
stylesheet are shared by every render in the process: a fresh configuration per PDF
costs time and leaks memory (about 0.2 MB per PDF) through fontconfig's caches.

The output depends only on the HTML, the stylesheets and the fonts (WeasyPrint writes no
creation time unless the document names one), so a document rendered again from the same
snapshot is the same bytes: a credit note whose stored file was lost can be restored and
still match its recorded SHA-256.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.contrib.staticfiles import finders


def _static_roots() -> list[Path]:
    return [Path(d).resolve() for d in settings.STATICFILES_DIRS] + [
        Path(settings.STATIC_ROOT).resolve()
    ]


@cache
def _weasy():
    # Imported on first use: WeasyPrint loads Pango and fontconfig, which the web and
    # the API never need. Its step-by-step progress at INFO (from the import on) would
    # flood a worker's log; the "weasyprint" logger itself stays, as it reports missing
    # fonts and slow paths.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFetcher(URLFetcher):
        """``file:`` under the static directories, and ``data:``; nothing else."""

        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme != "file":
                raise ValueError(f"refused {parsed.scheme or 'relative'} URL in a document")
            path = Path(unquote(parsed.path)).resolve()
            if not any(path.is_relative_to(root) for root in _static_roots()):
                raise ValueError(f"refused a file outside the static directories: {path}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    return FontConfiguration(), LocalFetcher()


@cache
def _stylesheet(name: str):
    """A static stylesheet, parsed once per process."""
    from weasyprint import CSS

    fonts, fetcher = _weasy()
    path = finders.find(name)
    if not path:
        raise FileNotFoundError(f"static file {name} not found")
    return CSS(filename=path, font_config=fonts, url_fetcher=fetcher)


def _base_url(name: str) -> str:
    """The static root holding ``name`` (``css/x.css``), as the documents' base URL."""
    return Path(finders.find(name)).resolve().parent.parent.as_uri() + "/"


def html_to_pdf(html: str, stylesheets: Sequence[str]) -> bytes:
    """Render ``html`` with the named static stylesheets (``"css/statement.css"``)."""
    from weasyprint import HTML

    fonts, fetcher = _weasy()
    sheets = [_stylesheet(name) for name in stylesheets]
    document = HTML(string=html, base_url=_base_url(stylesheets[0]), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=sheets, font_config=fonts)
