"""Helpers shared by the browser tests: signing in through the log-in page, and the two checks every
back-office page must pass at any width (nothing wider than the screen, no axe-core violation)."""

from pathlib import Path

from django.conf import settings

AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe.min.js"
PASSWORD = "a-long-password-1"


def log_in(page, base: str, username: str, next_url: str = "/") -> None:
    """Signs in through the form and waits for the page asked for (a failed log-in stays put)."""
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_url}")


def axe_violations(page) -> list[str]:
    """axe-core's violations on the page as it stands, each with up to three of its elements."""
    assert AXE.exists(), "axe-core is missing: run `make install` (copies it into static/vendor)."
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        const where = (v) => v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ");
        return result.violations.map(v => `${v.id}: ${v.help} (${where(v)})`);
    }""")


def horizontal_overflow(page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
