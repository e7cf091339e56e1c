"""axe-core in the browser tests: ``assert_accessible(page)`` injects axe-core (installed
from the npm registry by ``make test`` into ``node_modules/``) into the page as it is now,
runs it, and fails on any *serious* or *critical* violation, listing each rule, its help
text and the offending elements.

Minor and moderate findings are returned, not failed on: the acceptance bar is "no serious
or critical violations on the main pages".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.requirements import REQUIRE_BROWSER, need

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
# WCAG 2.1 A and AA, plus axe's best practices (landmarks, headings, skip links).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations for the page as it is now (every impact level)."""
    need(AXE.exists(), f"needs axe-core: run `npm ci` ({AXE} is missing)", required=REQUIRE_BROWSER)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's debugging protocol, not added as an inline
        # <script>: the pages' Content-Security-Policy (rightly) blocks inline scripts.
        page.evaluate(AXE.read_text())
    return page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations",
        TAGS,
    )


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(node['target'])}: {node['failureSummary']!s:.200}")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str = "") -> list[dict[str, Any]]:
    """Fail on serious or critical axe-core violations; return the lesser ones."""
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    label = what or page.url
    assert not blocking, f"axe-core: serious/critical violations on {label}:\n{describe(blocking)}"
    return violations
