"""Message-IDs are unique between installations sharing a SECRET_KEY, and replies and bounces to messages
sent before and after the installation's identifier joined them still find their delivery."""

import pytest

from aicmo_site.installation import installation_identifier
from aicmo_site.models import Installation
from crm.choices import EventKind, LifecycleStatus
from crm.models import EngagementEvent
from gateways import services as gateway_services
from gateways.capabilities import Capability
from gateways.testing.messages import gmail_reply, postfix_bounce
from publishing.email.composing import message_id_for
from publishing.email.inbox import inbox_poll
from publishing.email.models import EmailDelivery
from publishing.email.sender import worker_run
from publishing.tests.email.helpers import ready_campaign, started

pytestmark = pytest.mark.django_db


@pytest.fixture
def installation():
    """The process caches the identifier; each test reads the row it sets."""
    installation_identifier.cache_clear()
    yield
    installation_identifier.cache_clear()


def become(identifier: str) -> None:
    Installation.objects.update_or_create(pk=1, defaults={"identifier": identifier})
    installation_identifier.cache_clear()


def test_the_first_migrate_made_one_random_identifier_that_is_kept(installation):
    made = Installation.objects.get()
    assert len(made.identifier) == 16 and int(made.identifier, 16) >= 0
    assert installation_identifier() == made.identifier
    assert Installation.objects.count() == 1


def test_two_installations_sharing_a_secret_key_write_different_message_ids(installation, settings):
    settings.SECRET_KEY = "one-key-for-production-and-its-staging-copy"
    become("0123456789abcdef")
    production = message_id_for(7, 3)
    assert message_id_for(7, 3) == production  # a retried delivery keeps its Message-ID
    become("fedcba9876543210")
    staging = message_id_for(7, 3)

    assert production != staging
    assert production.startswith("<7.3.0123456789abcdef.") and staging.startswith("<7.3.fedcba9876543210.")
    assert production.endswith("@mail.aicmo.example>") and staging.endswith("@mail.aicmo.example>")


def test_the_tag_cannot_be_reused_for_another_installation(installation):
    forged = message_id_for(7, 3, installation="0123456789abcdef").replace("0123456789abcdef", "fedcba9876543210")
    assert forged != message_id_for(7, 3, installation="fedcba9876543210")


def test_bounces_and_replies_match_messages_sent_before_and_after_the_change(installation, smtp_server,
                                                                            imap_account):
    become("a1b2c3d4e5f60718")
    email_campaign, (gone, fan, old_fan) = ready_campaign(smtp_server, 3)
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    sent = {mail.rcpt_tos[0]: mail for mail in smtp_server.messages}
    assert all(".a1b2c3d4e5f60718." in mail.message()["Message-ID"] for mail in sent.values())
    # A message sent by the previous version: its stored Message-ID has no installation part.
    old = EmailDelivery.objects.get(contact=old_fan)
    old_message_id = f"<{old.pk}.{old.campaign_id}.Xy3_k9Lm2Q@mail.aicmo.example>"
    EmailDelivery.objects.filter(pk=old.pk).update(message_id=old_message_id)

    imap_account.append(postfix_bounce(original=sent[gone.email].data, recipient=gone.email))
    imap_account.append(gmail_reply(in_reply_to=EmailDelivery.objects.get(contact=fan).message_id,
                                    from_email=fan.email, to="news@aicmo.example", subject="Hello", text="Yes"))
    imap_account.append(gmail_reply(in_reply_to=old_message_id, from_email="forwarded@elsewhere.example",
                                    to="news@aicmo.example", subject="Hello", text="Forwarded to me"))
    inbox = gateway_services.account_create(
        capability=Capability.INBOX_READING, adapter="imap", name="bounces",
        settings=imap_account.adapter_settings(), credentials=imap_account.adapter_credentials())

    assert inbox_poll(account_id=inbox.pk) == 3

    gone.refresh_from_db()
    assert gone.lifecycle_status == LifecycleStatus.BOUNCED
    replies = EngagementEvent.objects.filter(kind=EventKind.REPLIED)
    # The forwarded reply comes from an address no contact has: only the old Message-ID can find its contact.
    assert sorted(replies.values_list("contact_id", flat=True)) == sorted([fan.pk, old_fan.pk])
    assert set(replies.values_list("campaign_id", flat=True)) == {email_campaign.campaign_id}
