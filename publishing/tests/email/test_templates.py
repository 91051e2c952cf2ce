"""Services of email templates not covered through the API: deleting one."""

import pytest

from aicmo_site.errors import ConflictError
from publishing.email.models import EmailBlock, EmailTemplate
from publishing.email.services.ab_tests import ab_test_create
from publishing.email.services.templates import email_template_delete
from publishing.tests.email.factories import EmailBlockFactory, EmailCampaignFactory, EmailTemplateFactory

pytestmark = pytest.mark.django_db


def test_an_unused_template_is_deleted_with_its_blocks():
    template = EmailTemplateFactory()
    EmailBlockFactory(template=template)
    email_template_delete(template=template)
    assert not EmailTemplate.objects.exists() and not EmailBlock.objects.exists()


def test_a_template_a_send_uses_is_refused_naming_the_sends():
    send = EmailCampaignFactory(campaign__name="Spring news")
    with pytest.raises(ConflictError) as refused:
        email_template_delete(template=send.template)
    assert refused.value.code == "template_in_use"
    assert refused.value.message == f"“{send.template.name}” is used by 1 send (Spring news): it cannot be deleted."
    assert EmailTemplate.objects.filter(pk=send.template.pk).exists()


def test_a_template_of_ab_variants_is_refused_too_and_each_send_counted_once():
    variant = EmailTemplateFactory()
    ab_test_create(email_campaign=EmailCampaignFactory(campaign__name="Spring news"),
                   variants=[{"label": "A", "template": variant}, {"label": "B", "template": variant}])
    EmailCampaignFactory(campaign__name="Spring news", template=variant)
    with pytest.raises(ConflictError, match=r"used by 2 sends \(Spring news, Spring news\)"):
        email_template_delete(template=variant)
