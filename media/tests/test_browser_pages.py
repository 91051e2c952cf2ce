"""Asset library pages in a real Chromium: the upload progress bar (upload.js) and the renditions
card that follows the worker (renditions.js)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.urls import reverse

from media.services import asset_renditions_generate
from media.tests import images
from media.tests.factories import AssetFactory, LibraryFactory
from tests.conftest import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def in_chromium(scenario):
    """Run scenario(page) in a Chromium of its own on a thread of its own: Playwright's sync API
    allows one instance per thread, and tests/ keeps a session-wide one on the main thread."""
    from playwright.sync_api import sync_playwright

    def run():
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            try:
                page = browser.new_page()
                page.set_default_timeout(15000)
                return scenario(page)
            finally:
                browser.close()
                # The scenario's own database connection (it may stand in for the worker).
                connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def log_in(page, live_server, next_url):
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "a-long-password-1")
    page.click("button[type=submit]")


@pytest.fixture
def marketer(make_user):
    return make_user("mia", role="Marketer", password="a-long-password-1")


def test_upload_shows_a_progress_bar_then_hides_it(live_server, marketer):
    LibraryFactory(name="Brand")

    def scenario(page):
        log_in(page, live_server, reverse("media:asset-grid"))
        page.wait_for_selector("#dropzone[data-ready]")
        # Record every value the bar takes: on loopback the upload is over too fast to catch mid-way.
        page.evaluate("""() => {
            window.seen = [];
            const bar = document.getElementById("upload-progress");
            new MutationObserver(() => window.seen.push([bar.hidden, bar.getAttribute("aria-valuenow")]))
                .observe(bar, {attributes: true});
        }""")
        page.set_input_files("#upload-files", [
            {"name": "big.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg_bytes(2400, 1600)},
        ])
        page.wait_for_selector(".media-card >> text=big.jpg")
        return page.evaluate("window.seen"), page.locator("#upload-progress").is_hidden(), page.inner_text(
            "#upload-results")

    seen, hidden_after, outcomes = in_chromium(scenario)
    assert [False, "100"] in seen  # shown, and it reached the end
    assert hidden_after and "big.jpg: Uploaded." in outcomes


def test_renditions_card_shows_progress_then_the_renditions_without_a_reload(live_server, marketer):
    asset = AssetFactory(library=LibraryFactory(name="Brand"), name="Beach")

    def scenario(page):
        log_in(page, live_server, reverse("media:asset-detail", args=[asset.pk]))
        before = page.inner_text("#renditions-progress")
        asset_renditions_generate(asset_id=asset.pk)  # what the worker does
        page.wait_for_selector("#renditions >> text=instagram_square")
        return before, page.locator("#renditions-progress").count(), page.get_attribute("#renditions", "data-poll")

    before, progress_lines, poll = in_chromium(scenario)
    assert "0 of" in before
    assert progress_lines == 0 and poll is None


def test_select_all_on_the_page_ticks_every_asset_and_counts_them(live_server, marketer):
    library = LibraryFactory(name="Brand")
    AssetFactory.create_batch(3, library=library)

    def scenario(page):
        log_in(page, live_server, reverse("media:asset-grid"))
        page.check("#select-page")
        ticked = page.locator("input[name=ids]:checked").count()
        counted = page.inner_text("#selected-count")
        page.locator("input[name=ids]").first.uncheck()
        return ticked, counted, page.inner_text("#selected-count"), page.evaluate(
            "document.getElementById('select-page').indeterminate")

    ticked, counted, after_one_off, indeterminate = in_chromium(scenario)
    assert (ticked, counted) == (3, "3 selected")
    assert after_one_off == "2 selected" and indeterminate
