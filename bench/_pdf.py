"""PDF figures for bench/statements.py (not a benchmark itself: ``make bench`` runs
``bench/[!_]*.py``): our render against WeasyPrint on the same HTML, and the verdict on a
2-workers-against-1 ratio.

The peers, each given exactly the HTML our template produced and our stylesheet (the
template does not link it; a file name, as ``weasyprint -s`` takes it):

- ``bare``: WeasyPrint's default set-up, ``HTML(string=html, base_url=...).write_pdf()``:
  its own ``FontConfiguration`` per document, its default URL fetcher, no options. What
  the issue asks us to beat, and what a newcomer would write.
- ``shared``: its fastest documented set-up for many documents in one process: one
  ``FontConfiguration`` (the ``font_config`` argument), one ``URLFetcher`` (the
  ``url_fetcher`` argument: the default one is built per document, with an SSL context)
  and the stylesheet parsed once, reused. The overhead verdict is against this one: a
  peer gets its fastest set-up.

Ours is ``render_statement_pdf(statement)``: the template, then the same shared set-up
plus our URL fetcher (static files from disk only).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

PEERS = {
    "bare": "HTML(string=html, base_url=<static root>).write_pdf(stylesheets=[<statement.css "
    "path>]): WeasyPrint's default set-up (a FontConfiguration per document, default fetcher)",
    "shared": "the same with one FontConfiguration, one URLFetcher and the parsed stylesheet "
    "reused (font_config, url_fetcher): WeasyPrint's fastest set-up, the overhead verdict's peer",
}


@cache
def _setup() -> tuple[str, str]:
    """Our stylesheet's path and the documents' base URL, as statements/pdf.py has them."""
    from django.contrib.staticfiles import finders

    from statements.pdf import STYLESHEET

    path = finders.find(STYLESHEET)
    return path, Path(path).resolve().parent.parent.as_uri() + "/"


def bare(html: str) -> bytes:
    from weasyprint import HTML

    stylesheet, base_url = _setup()
    return HTML(string=html, base_url=base_url).write_pdf(stylesheets=[stylesheet])


@cache
def _shared():
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    # One fetcher too: the default one, made per document, builds an SSL context each
    # time (~20 ms of CPU) even for a document that fetches nothing.
    fonts, fetcher = FontConfiguration(), URLFetcher()
    return fonts, fetcher, CSS(filename=_setup()[0], font_config=fonts, url_fetcher=fetcher)


def shared(html: str) -> bytes:
    from weasyprint import HTML

    fonts, fetcher, css = _shared()
    document = HTML(string=html, base_url=_setup()[1], url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[css], font_config=fonts)


def _text(content: bytes) -> tuple[int, str]:
    from pypdf import PdfReader

    pages = PdfReader(BytesIO(content)).pages  # raises on anything that is not a PDF
    return len(pages), " ".join(" ".join(p.extract_text() for p in pages).split())


def pdf_costs(rows: list[Any], generated: Callable, slow: int) -> dict[str, Any]:
    """ms per PDF: ours, bare WeasyPrint and shared WeasyPrint on each statement's HTML,
    in rotating order; then fontTools subsetting (no libharfbuzz-subset0)."""
    import weasyprint.pdf.fonts as weasy_fonts

    from statements.pdf import render_statement_html, render_statement_pdf

    renderers = {"ours": render_statement_pdf, "bare": bare, "shared": shared}
    wall: dict[str, list[float]] = {name: [] for name in renderers}
    cpu: dict[str, list[float]] = {name: [] for name in renderers}
    html_ms, pages, different = [], [], []

    def each(statement, turn: int) -> None:
        started = time.perf_counter()
        html = render_statement_html(statement)
        html_ms.append((time.perf_counter() - started) * 1000)
        names = list(renderers)
        texts = {}
        for name in names[turn % 3 :] + names[: turn % 3]:  # each goes first in turn
            started, began = time.perf_counter(), time.process_time()
            content = renderers[name](statement if name == "ours" else html)
            wall[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.process_time() - began) * 1000)
            texts[name] = _text(content)
        pages.append(texts["ours"][0])
        if not texts["ours"] == texts["bare"] == texts["shared"]:
            different.append(statement.contract_id)

    for renderer in (render_statement_pdf, lambda s: bare(render_statement_html(s))):
        generated(rows[0], renderer)  # warm-up: imports, fonts, stylesheet
    shared(generated(rows[0], render_statement_html))
    for i, contract in enumerate(rows[1:]):
        generated(contract, lambda s, turn=i: each(s, turn))
    slow_ms, slow_cpu = [], []
    subsetter, weasy_fonts.harfbuzz_subset = weasy_fonts.harfbuzz_subset, None
    try:
        for contract in rows[1 : slow + 1]:
            html = generated(contract, render_statement_html)
            started, began = time.perf_counter(), time.process_time()
            shared(html)
            slow_ms.append((time.perf_counter() - started) * 1000)
            slow_cpu.append((time.process_time() - began) * 1000)
    finally:
        weasy_fonts.harfbuzz_subset = subsetter
    median = lambda values: round(statistics.median(values), 1)  # noqa: E731
    figures: dict[str, Any] = {"pdfs": len(html_ms), "html_ms_median": median(html_ms)}
    for name in renderers:
        figures[f"{name}_ms_median"] = median(wall[name])
        figures[f"{name}_cpu_ms_median"] = median(cpu[name])
    # CPU time, whatever else the machine is running; each statement's three renders ran
    # back to back, so the median of their ratios leaves out the machine's load drifting
    # between statements.
    figures["overhead"] = _paired(cpu["ours"], cpu["shared"])
    figures["overhead_vs_bare"] = _paired(cpu["ours"], cpu["bare"])
    figures["overhead_wall"] = _paired(wall["ours"], wall["shared"])
    figures["pages"] = {"min": min(pages), "max": max(pages), "median": median(pages)}
    # Page count and text identical for all three, or the contracts where they were not.
    figures |= {"same_document": not different, "different_documents": different}
    figures["harfbuzz_subset_available"] = subsetter is not None
    figures |= {"fonttools_subsetting_ms_median": median(slow_ms) if slow_ms else None}
    figures["fonttools_subsetting_cpu_ms_median"] = median(slow_cpu) if slow_cpu else None
    return {**figures, "fonttools_pdfs": len(slow_ms), "peers": PEERS}


def _paired(ours: list[float], peer: list[float]) -> float:
    """Our time over the peer's on the same statement, the median over statements, - 1."""
    return round(statistics.median(a / b for a, b in zip(ours, peer, strict=True)) - 1, 4)


def ratio_verdict(rounds: list[dict], workers: int, cpus: int) -> dict[str, Any]:
    """Throughput of ``workers`` processes against one, from rounds of the same run that
    rendered the same PDFs each way. A ratio above the cores (or the workers) cannot be
    real: it marks the figure invalid, with the reason, and it is never a pass."""
    one = sum(r["one_seconds"] for r in rounds)
    many = sum(r["two_seconds"] for r in rounds)
    ratio = round(one / many, 3)
    ceiling = min(cpus, workers)
    reason = None
    if ratio > ceiling:
        reason = (
            f"{ratio}x with {workers} workers on {cpus} cores is above {ceiling}x, which "
            "physics allows: the benchmark is wrong, not the product"
        )
    per_round = [round(r["one_seconds"] / r["two_seconds"], 3) for r in rounds]
    figures = {"speedup": ratio, "ceiling": ceiling, "valid": reason is None}
    figures |= {"reason": reason, "per_round": per_round, "one_seconds": round(one, 2)}
    return {**figures, "two_seconds": round(many, 2)}
