"""Dynamic blocks are written through services: checked in the sandbox and by full_clean."""

import pytest
from django.core.exceptions import ValidationError

from aicmo_site.errors import DomainError
from crm import services as crm_services
from crm.tests.factories import ContactFactory, TagFactory
from publishing.email.models import EmailBlock
from publishing.email.services import (
    email_block_create,
    email_block_delete,
    email_block_update,
    email_template_preview,
)
from publishing.tests.email.factories import EmailBlockFactory, EmailTemplateFactory

pytestmark = pytest.mark.django_db

NEWSLETTER = "<p>{{ blocks.articles }}</p><p>{{ unsubscribe_url }}</p>"


@pytest.fixture
def ai():
    return crm_services.topic_create(name="AI", slug="ai")


def test_a_block_is_created_with_its_audience_and_shows_to_that_audience_only(ai):
    template = EmailTemplateFactory(html_body=NEWSLETTER)
    follower, other = ContactFactory(), ContactFactory()
    crm_services.contact_topics_set(contact=follower, topics=[ai], source="test")

    block = email_block_create(template=template, slot="articles", html="<h2>Agents</h2>", topics=[ai])

    assert list(block.topics.all()) == [ai]
    assert "Agents" in email_template_preview(template=template, contact=follower).html
    assert "Agents" not in email_template_preview(template=template, contact=other).html


def test_broken_template_syntax_in_a_block_is_refused():
    template = EmailTemplateFactory()

    with pytest.raises(DomainError) as refused:
        email_block_create(template=template, slot="articles", html="{% load evil %}")

    assert refused.value.code == "template_syntax" and refused.value.extra == {"field": "html"}
    assert not EmailBlock.objects.exists()


def test_a_block_is_validated_by_full_clean():
    with pytest.raises(ValidationError) as refused:
        email_block_create(template=EmailTemplateFactory(), slot="not a slug!", html="<p>x</p>")

    assert "slot" in refused.value.message_dict
    assert not EmailBlock.objects.exists()


def test_unknown_fields_are_refused():
    with pytest.raises(DomainError):
        email_block_create(template=EmailTemplateFactory(), slot="articles", html="<p>x</p>", colour="red")


def test_update_changes_fields_and_only_the_audiences_given(ai):
    block, tag = EmailBlockFactory(), TagFactory()
    email_block_update(block=block, topics=[ai], tags=[tag])

    email_block_update(block=block, title="Renamed", position=3)

    block.refresh_from_db()
    assert (block.title, block.position) == ("Renamed", 3)
    assert (list(block.topics.all()), list(block.tags.all())) == ([ai], [tag]), "audiences left out are kept"
    email_block_update(block=block, topics=[])
    assert not block.topics.exists(), "an empty audience clears it"


def test_update_with_broken_syntax_changes_nothing():
    block = EmailBlockFactory(html="<p>fine</p>")

    with pytest.raises(DomainError):
        email_block_update(block=block, html="{% if %}")

    block.refresh_from_db()
    assert block.html == "<p>fine</p>"


def test_delete_removes_the_block():
    block = EmailBlockFactory()

    email_block_delete(block=block)

    assert not EmailBlock.objects.exists()
