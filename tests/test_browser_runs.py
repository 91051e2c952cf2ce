"""The "Background work" pages in a real browser: reached from the navigation, progress bars that move
while a run works (htmx polling the live server), and axe-clean at a phone's width."""

import pytest

from aicmo_site.models import BackgroundRun, RunKind, RunStatus
from tests.browser import AXE, axe_violations, horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-password-1"


def log_in(page, live_server, next_url):
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_a_marketer_follows_a_run_as_it_moves_on_a_phone(live_server, browser, make_user):
    mia = make_user("mia", role="Marketer", password=PASSWORD)
    run = BackgroundRun.objects.create(kind=RunKind.AIRTABLE_SYNC, label="Push every contact to Airtable",
                                       status=RunStatus.RUNNING, requested_by=mia, total=10, done=2)
    BackgroundRun.objects.create(kind=RunKind.IMPORT, label="Import of old.csv", status=RunStatus.COMPLETED,
                                 total=3, done=3, result={"created": 3}, link="/contacts/imports/")
    assert AXE.exists(), "axe-core is missing: run `make install` (copies it into static/vendor)."
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)

    log_in(page, live_server, "/")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("a[href='/runs/']").count() >= 1  # in the navigation
    page.goto(f"{live_server.url}/runs/?mine=true")
    bar = page.locator(f"a[href='/runs/{run.pk}/']").locator("xpath=ancestor::tr").locator("[role=progressbar]")
    assert bar.get_attribute("aria-valuenow") == "20"
    assert horizontal_overflow(page) <= 0 and axe_violations(page) == []

    BackgroundRun.objects.filter(pk=run.pk).update(done=7)
    page.wait_for_selector(f"tr:has(a[href='/runs/{run.pk}/']) [role=progressbar][aria-valuenow='70']")

    page.click(f"a[href='/runs/{run.pk}/']")
    page.wait_for_selector("#run [role=progressbar]")
    BackgroundRun.objects.filter(pk=run.pk).update(status=RunStatus.COMPLETED, done=10, result={"contacts": 10})
    page.wait_for_selector("#run:not([hx-trigger]) >> text=Completed")
    assert "Contacts" in page.locator("#run").inner_text()
    assert horizontal_overflow(page) <= 0 and axe_violations(page) == []
    context.close()
