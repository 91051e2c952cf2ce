"""The content page's Analyse button and automated checks in Chromium, at a phone's width: the local
analysis is labelled as not AI, and the page fits the screen and passes axe-core."""

import pytest

from publishing.models import AnalysisStatus, ContentAnalysis
from publishing.services import analysis
from publishing.tests.factories import ChannelVersionFactory, ContentFactory
from tests.browser import axe_violations, horizontal_overflow
from tests.test_browser_every_page import WIDTHS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-password-1"


def test_analyse_then_read_the_local_analysis_and_checks_on_a_phone(live_server, browser, make_user):
    make_user("mia", role="Marketer", password=PASSWORD)
    content = ContentFactory(title="Spring launch", body="We shipped faster imports!!! Act now, guaranteed.")
    ChannelVersionFactory(content=content, kind="x", body="Faster imports are here. " * 20)
    page = browser.new_context(viewport=WIDTHS[1]).new_page()
    page.goto(f"{live_server.url}/accounts/login/?next={content.get_absolute_url()}")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    page.click("#analysis button[type=submit]")
    page.wait_for_selector("text=Analysis started for 2 texts")
    assert ContentAnalysis.objects.filter(status=AnalysisStatus.PENDING).count() == 2
    analysis.content_analysis_run(content_id=content.pk)  # the worker's part (see test_analysis_worker)
    page.reload()

    cards = page.locator("#analysis .analysis")
    assert cards.count() == 2
    assert all("Local analysis (not AI)" in text for text in cards.all_inner_texts())
    assert "over the channel's limit of 280" in page.inner_text("#analysis [data-kind=x]")
    assert "Fail" in page.inner_text("#checks") and "Channel fit" in page.inner_text("#checks")
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
