"""A real Dovecot mailbox holding a real Postfix bounce and a real Gmail reply updates the contacts."""

import pytest

from crm.choices import EventKind, LifecycleStatus
from crm.models import EngagementEvent
from gateways import services as gateway_services
from gateways.capabilities import Capability
from gateways.testing.messages import gmail_reply, postfix_bounce
from publishing.email.inbox import inbox_poll
from publishing.email.models import EmailDelivery, InboundEvent
from publishing.email.sending import worker_run
from publishing.tests.email.helpers import ready_campaign, started

pytestmark = pytest.mark.django_db


def test_bounce_and_reply_in_the_mailbox_update_the_contacts_once(smtp_server, imap_account):
    email_campaign, (gone, fan) = ready_campaign(smtp_server, 2)
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    sent = {mail.rcpt_tos[0]: mail for mail in smtp_server.messages}
    imap_account.append(postfix_bounce(original=sent[gone.email].data, recipient=gone.email))
    fan_message_id = EmailDelivery.objects.get(contact=fan).message_id
    imap_account.append(gmail_reply(in_reply_to=fan_message_id, from_email=fan.email, to="news@aicmo.example",
                                    subject="Hello", text="Sounds great, call me."))
    inbox = gateway_services.account_create(
        capability=Capability.INBOX_READING, adapter="imap", name="bounces",
        settings=imap_account.adapter_settings(), credentials=imap_account.adapter_credentials())

    assert inbox_poll(account_id=inbox.pk) == 2
    assert inbox_poll(account_id=inbox.pk) == 0  # the cursor moved: nothing is applied twice

    gone.refresh_from_db()
    fan.refresh_from_db()
    assert gone.lifecycle_status == LifecycleStatus.BOUNCED
    assert fan.lifecycle_status == LifecycleStatus.ENGAGED
    reply = EngagementEvent.objects.get(contact=fan, kind=EventKind.REPLIED)
    assert reply.campaign_id == email_campaign.campaign_id
    assert InboundEvent.objects.get(kind="bounce").delivery.contact == gone


def test_a_mail_to_the_list_unsubscribe_mailto_unsubscribes(smtp_server, imap_account):
    email_campaign, (leaver,) = ready_campaign(smtp_server, 1)
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    header = smtp_server.messages[0].message()["List-Unsubscribe"]
    subject = header.split("subject=")[1].rstrip(">")
    imap_account.append((f"From: {leaver.email}\r\nTo: unsubscribe@aicmo.example\r\nSubject: {subject}\r\n"
                         "Message-ID: <leave-1@mail.example>\r\n\r\nPlease remove me.\r\n").encode())
    inbox = gateway_services.account_create(
        capability=Capability.INBOX_READING, adapter="imap", name="unsubscribes",
        settings=imap_account.adapter_settings(), credentials=imap_account.adapter_credentials())
    assert inbox_poll(account_id=inbox.pk) == 1
    leaver.refresh_from_db()
    assert leaver.consent_status == "unsubscribed"
