"""axe-core in a Playwright page: the accessibility violations a test should fail on.

axe-core comes from npm (tests/package.json, pinned; `npm ci --prefix tests`, which `make install` and
.ci/run do). Without it the test skips on a developer's machine and fails in CI, like the other services.
"""
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

from tests.conftest import need

AXE_SCRIPT = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def axe_violations(page, context=None) -> list:
    """Serious and critical axe-core violations on ``page``, each a dict (id, impact, help, nodes).

    ``context`` is what axe.run takes: a CSS selector, or ``{"include": [...], "exclude": [...]}``;
    None checks the whole document. axe walks open shadow roots, so the widget is included.
    """
    need("axe-core", None if AXE_SCRIPT.exists() else FileNotFoundError(
        f"{AXE_SCRIPT} is missing (npm ci --prefix tests)"))
    if not _has_axe(page):
        try:
            page.add_script_tag(path=str(AXE_SCRIPT))
        except PlaywrightError:
            pass  # refused by the page's Content-Security-Policy (ours forbids inline script)
    if not _has_axe(page):
        # Evaluated by the browser's debugger protocol, which a page's policy does not govern.
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    results = page.evaluate(
        "async (context) => context === null ? await axe.run() : await axe.run(context)", context)
    return [violation for violation in results["violations"] if violation["impact"] in BLOCKING_IMPACTS]


def _has_axe(page) -> bool:
    return page.evaluate("() => typeof window.axe === 'object'")


def describe(violations: list) -> str:
    """One line per violation and offending node, for an assertion message."""
    return "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at {node['target']}"
        for v in violations for node in v["nodes"]
    )
