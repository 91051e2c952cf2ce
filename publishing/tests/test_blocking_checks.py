"""An Admin chooses which failing checks block approval; the content workflow refuses approval while one
fails, so the page, the API and the admin all refuse with the reason."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.roles import ADMIN, APPROVER, MARKETER
from publishing.checks import readability_targets
from publishing.choices import CheckKind, ContentKind, ContentStatus
from publishing.models import BlockingCheck, ReadabilityTarget
from publishing.services import (
    approval_blockers,
    blocking_checks_set,
    content_approve,
    content_submit,
    readability_targets_set,
)
from publishing.tests.factories import ContentFactory

pytestmark = pytest.mark.django_db

NO_UNSUBSCRIBE = "Our spring news.\n\nAICMO Ltd, 12 Market Street, Leeds LS1 6DT"


@pytest.fixture
def admin(make_user):
    return make_user("root", role=ADMIN)


@pytest.fixture
def email_in_review(make_user):
    author = make_user("writer", role=MARKETER)
    content = ContentFactory(kind=ContentKind.EMAIL, title="Spring news", body=NO_UNSUBSCRIBE, author=author)
    return content_submit(content=content, by=author)


def test_by_default_no_check_blocks_approval(email_in_review, make_user):
    assert approval_blockers(email_in_review) == []
    approved = content_approve(content=email_in_review, by=make_user("ada", role=APPROVER))
    assert approved.status == ContentStatus.APPROVED


def test_a_failing_blocking_check_refuses_approval_with_the_reason(email_in_review, admin, make_user):
    blocking_checks_set(keys=[CheckKind.UNSUBSCRIBE, CheckKind.ALT_TEXT], by=admin)
    with pytest.raises(ConflictError) as refused:
        content_approve(content=email_in_review, by=make_user("ada", role=APPROVER))
    assert refused.value.code == "blocked_by_checks" and refused.value.extra == {"checks": ["unsubscribe"]}
    assert "Unsubscribe link: No unsubscribe link" in refused.value.message
    email_in_review.refresh_from_db()
    assert (
        email_in_review.status == ContentStatus.IN_REVIEW
        and not email_in_review.reviews.filter(status="approved").exists()
    )


def test_a_failing_check_that_does_not_block_only_informs(email_in_review, admin, make_user):
    blocking_checks_set(keys=[CheckKind.ALT_TEXT], by=admin)
    approved = content_approve(content=email_in_review, by=make_user("ada", role=APPROVER))
    assert approved.status == ContentStatus.APPROVED


def test_only_an_admin_chooses_and_only_known_checks(admin, make_user):
    with pytest.raises(DomainError) as not_admin:
        blocking_checks_set(keys=[CheckKind.SPAM_WORDS], by=make_user("writer", role=MARKETER))
    assert not_admin.value.code == "not_admin"
    with pytest.raises(DomainError) as unknown:
        blocking_checks_set(keys=["horoscope"], by=admin)
    assert unknown.value.code == "unknown_check"
    blocking_checks_set(keys=[CheckKind.SPAM_WORDS, CheckKind.SHOUTING], by=admin)
    blocking_checks_set(keys=[CheckKind.SHOUTING, CheckKind.ALT_TEXT], by=admin)
    assert sorted(BlockingCheck.objects.values_list("key", flat=True)) == ["alt_text", "shouting"]


def test_the_api_refuses_approval_with_409_and_the_reason(email_in_review, admin, api_as):
    blocking_checks_set(keys=[CheckKind.UNSUBSCRIBE], by=admin)
    response = api_as(APPROVER, "ada").post(f"/api/contents/{email_in_review.pk}/approve/", {})
    assert response.status_code == 409
    assert response.data["code"] == "blocked_by_checks" and "No unsubscribe link" in response.data["message"]
    assert response.data["extra"] == {"checks": ["unsubscribe"]}


def test_the_content_page_refuses_approval_with_the_reason(email_in_review, admin, client, make_user):
    blocking_checks_set(keys=[CheckKind.UNSUBSCRIBE], by=admin)
    client.force_login(make_user("ada", role=APPROVER))
    response = client.post(reverse("publishing:content-action", args=[email_in_review.pk]), {"action": "approve"})
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("Approval is blocked by failing checks" in text and "No unsubscribe link" in text for text in shown)
    email_in_review.refresh_from_db()
    assert email_in_review.status == ContentStatus.IN_REVIEW


def test_admin_chooses_blocking_checks_on_a_back_office_page(admin, client, make_user):
    url = reverse("publishing:blocking-checks")
    client.force_login(make_user("writer", role=MARKETER))
    assert client.get(url).status_code == 403
    assert client.post(url, {"keys": ["unsubscribe"]}).status_code == 403
    assert not BlockingCheck.objects.exists()

    client.force_login(admin)
    page = client.get(url).content.decode()
    assert "Checks that block approval when they fail" in page and 'value="unsubscribe"' in page
    saved = client.post(url, {"keys": ["unsubscribe", "alt_text"]}, follow=True).content.decode()
    assert "Blocking approval when they fail: Alt text on images, Unsubscribe link." in saved
    assert sorted(BlockingCheck.objects.values_list("key", flat=True)) == ["alt_text", "unsubscribe"]
    bad = client.post(url, {"keys": ["horoscope"]}).content.decode()
    assert "Select a valid choice" in bad
    cleared = client.post(url, {}, follow=True).content.decode()
    assert "No check blocks approval now" in cleared and not BlockingCheck.objects.exists()


def test_the_content_page_says_which_checks_block_and_links_admins_to_the_choice(email_in_review, admin, client):
    blocking_checks_set(keys=[CheckKind.UNSUBSCRIBE], by=admin)
    client.force_login(admin)
    page = client.get(email_in_review.get_absolute_url()).content.decode()
    assert "No unsubscribe link" in page and page.count("(blocks approval while it fails)") == 1
    assert reverse("publishing:blocking-checks") in page
    client.force_login(email_in_review.author)
    assert reverse("publishing:blocking-checks") not in client.get(email_in_review.get_absolute_url()).content.decode()


def test_admin_sets_readability_targets_on_the_same_page_and_bad_grades_are_form_errors(admin, client):
    url = reverse("publishing:blocking-checks")
    client.force_login(admin)
    page = client.get(url).content.decode()
    assert "What each check does" in page and "Flesch-Kincaid grade against the target" in page
    assert 'name="email" value="9"' in page and 'name="whitepaper" value="14"' in page
    grades = {kind: 9 for kind in ContentKind.values}
    saved = client.post(url, {"form": "readability", **grades, "email": 7}, follow=True).content.decode()
    assert "Readability targets saved." in saved and 'name="email" value="7"' in saved
    assert readability_targets()[ContentKind.EMAIL] == 7 and ReadabilityTarget.objects.count() == len(grades)
    bad = client.post(url, {"form": "readability", **grades, "email": 40}).content.decode()
    assert "less than or equal to 18" in bad and readability_targets()[ContentKind.EMAIL] == 7
    assert sorted(BlockingCheck.objects.values_list("key", flat=True)) == []


def test_only_an_admin_sets_readability_targets(make_user):
    with pytest.raises(DomainError) as refused:
        readability_targets_set(grades={ContentKind.EMAIL: 5}, by=make_user("writer", role=MARKETER))
    assert refused.value.code == "not_admin" and not ReadabilityTarget.objects.exists()
