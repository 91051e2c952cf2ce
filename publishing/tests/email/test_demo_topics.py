"""The demo newsletter is personalised by topic: each demo reader sees the articles of their topics."""

import pytest

from aicmo_site.demo import seed_users
from crm import demo as crm_demo
from crm.models import Contact, Topic
from publishing.email import demo as email_demo
from publishing.email.models import EmailBlock, EmailTemplate
from publishing.email.services import email_template_preview

pytestmark = pytest.mark.django_db


def test_demo_topics_people_and_newsletter_blocks_are_seeded_once(monkeypatch):
    # Forty people follow every topic and fill the newsletter's audience; the demo's 200 made most of the
    # seed's queries (about 8,000), so most of this test's time.
    monkeypatch.setattr(crm_demo, "PEOPLE", 40)
    seed_users()
    crm_demo.seed()
    email_demo.seed()
    crm_demo.seed()
    email_demo.seed()
    assert Topic.objects.count() == len(crm_demo.TOPICS)
    assert Topic.objects.filter(public=False).count() == 1
    followers = Contact.objects.filter(topics__isnull=False).distinct().count()
    assert 0 < followers < crm_demo.PEOPLE
    assert EmailBlock.objects.count() == len(email_demo.ARTICLES)

    template = EmailTemplate.objects.get(name="Monthly newsletter")
    reader = Contact.objects.filter(topics__slug="ai").exclude(topics__slug="events").first()
    html = email_template_preview(template=template, contact=reader).html
    assert "Agents in production" in html and "Webinar: measuring what worked" not in html
