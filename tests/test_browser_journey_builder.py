"""The journey builder in Chromium on a phone's width: a journey built step by step (segment trigger,
tag, wait, condition, email), a dead end named beside its step and fixed, the journey activated, and
one contact run through it in test mode by a real django-q2 worker and a real SMTP server, its steps
appearing on the page as they run; no axe-core violation, nothing wider than the screen."""

import pytest

from aicmo_site.testing.worker import wait_for
from automation.models import Journey, JourneyEnrolment
from crm.tests.factories import ContactFactory, SegmentFactory
from publishing.tests.email.factories import EmailTemplateFactory, smtp_account
from tests.browser import PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
WORKER_ENV = {"PUBLIC_BASE_URL": "https://aicmo.example", "EMAIL_SEND_CONCURRENCY": "1"}


def clean(page) -> None:
    assert axe_violations(page) == []
    assert horizontal_overflow(page) == 0


def rename(page, index: int, key: str) -> None:
    page.fill(f"#step-{index}-key", key)
    page.dispatch_event(f"#step-{index}-key", "change")


def test_build_fix_activate_and_test_a_journey_on_a_phone(live_server, browser, make_user, qcluster, smtp_server):
    make_user("mia", role="Marketer", password=PASSWORD)
    smtp_account(smtp_server)
    SegmentFactory(name="Lyon readers")
    EmailTemplateFactory(name="Welcome mail")
    ann = ContactFactory(email="ann.tester@example.com", first_name="Ann")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(20000)
    try:
        log_in(page, live_server.url, "mia", "/journeys/")
        page.click("text=New journey")
        page.wait_for_selector("#journey-builder")
        clean(page)
        page.fill("#id_name", "Welcome on a phone")
        page.select_option("#id_trigger", "segment_entered")
        page.select_option("#id_trigger_segment", label="Lyon readers")
        page.fill("#step-0-add_tag-tag", "welcomed")
        for _ in range(3):
            page.click("button[value=add]")
        page.wait_for_selector("#step-4-key")
        rename(page, 2, "pause")
        page.select_option("#step-2-kind", "wait")
        page.fill("#step-2-wait-days", "1")
        rename(page, 3, "check")
        page.select_option("#step-3-kind", "condition")
        page.select_option("#step-3-condition-ask", "tag")
        page.fill("#step-3-condition-tag", "welcomed")
        rename(page, 4, "hello")
        page.select_option("#step-4-kind", "send_email")
        page.select_option("#step-4-send_email-template_id", label="Welcome mail")
        page.select_option("#step-0-next", "pause")
        page.select_option("#step-2-next", "check")
        page.select_option("#step-3-next", "hello")
        page.select_option("#step-3-other", "end")
        assert page.is_hidden("#step-4-other")
        page.click("button[value=save]")

        page.wait_for_selector("#builder-errors")
        assert "This step leads nowhere" in page.inner_text("li[data-row='4'] .errorlist")
        assert not Journey.objects.exists()
        clean(page)
        page.select_option("#step-4-next", "end")
        page.click("button[value=save]")
        page.wait_for_selector("text=is saved as a draft")
        trip = Journey.objects.get(name="Welcome on a phone")
        assert [step.key for step in trip.steps.all()] == ["start", "end", "pause", "check", "hello"]
        clean(page)

        qcluster(**WORKER_ENV)
        page.click("button[value=activate]")
        page.wait_for_selector("text=is active")
        page.fill("input[name=test_q]", "ann.tester")
        page.click("#test-mode button:has-text('Find')")
        page.click("text=Start the test run")
        page.wait_for_selector("text=Test run started for ann.tester@example.com")
        page.wait_for_selector("[data-test-step=start]", timeout=60000)
        page.wait_for_selector("[data-test-step=hello]", timeout=60000)
        page.wait_for_selector("[data-test-step=end]", timeout=60000)
        assert page.inner_text("[data-test-status]") == "Finished the journey"
        wait_for(lambda: len(smtp_server.messages) == 1, timeout=60, message="the test email")
        assert smtp_server.messages[0].rcpt_tos == [ann.email]
        assert JourneyEnrolment.objects.get(journey=trip).is_test
        page.reload()
        assert page.inner_text("#journey-totals tbody td") == "0"
        clean(page)
    finally:
        context.close()
