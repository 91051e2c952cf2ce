"""A real Dovecot mailbox holding a real Postfix bounce and a real Gmail reply updates the contacts."""

import pytest

from aicmo_site.roles import ANALYST
from crm.choices import EventKind, LifecycleStatus
from crm.models import EngagementEvent, Suppression
from crm.tests.factories import ContactFactory
from gateways import services as gateway_services
from gateways.capabilities import Capability
from gateways.testing.corpus import corpus_message
from gateways.testing.messages import gmail_reply, postfix_bounce
from publishing.email.inbox import inbox_poll
from publishing.email.models import EmailDelivery, InboundEvent
from publishing.email.selectors import email_campaign_feedback
from publishing.email.sender import worker_run
from publishing.email.tokens import make_bounce_tag
from publishing.tests.email.factories import smtp_account
from publishing.tests.email.helpers import campaign_for, ready_campaign, started

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


def test_a_sent_campaigns_bounces_complaints_replies_and_auto_replies_arrive_by_imap(
        smtp_server, imap_account, settings, logged_in, django_assert_max_num_queries):
    """End to end: sent through a real SMTP server, what came back delivered into a real Dovecot
    mailbox in the formats real servers write, one poll: each contact gets what its message means."""
    settings.CRM_SOFT_BOUNCE_LIMIT = 2
    email_campaign, people = ready_campaign(smtp_server, 8)
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    gone, unknown, legacy, full, slow, complainer, fan, away = people
    ids = dict(EmailDelivery.objects.values_list("contact__email", "message_id"))
    assert len(smtp_server.messages) == 8 and all(ids.values())

    def arrives(name, person, *, replaced, message_id=None):
        imap_account.append(corpus_message(name, message_id=ids[person.email], addresses={replaced: person.email},
                                           **({"message_id": message_id} if message_id else {})))

    arrives("postfix.eml", gone, replaced="gone@example.org")
    arrives("exim.eml", unknown, replaced="gone@example.co.uk")
    arrives("bounce_with_in_reply_to.eml", legacy, replaced="gone@legacy.example.org")
    # The limit is 2: the second "mailbox full" (a soft class of a permanent code) suppresses.
    arrives("rfc3464_mailbox_full.eml", full, replaced="full@example.org")
    imap_account.append(corpus_message("rfc3464_mailbox_full.eml", addresses={
        "full@example.org": full.email, "<full-1@mx.example.org>": "<full-2@mx.example.org>"}))
    arrives("rfc3464_delayed.eml", slow, replaced="slow@example.net")
    arrives("arf_complaint.eml", complainer, replaced="fan@yahoo.example")
    arrives("human_reply.eml", fan, replaced="fan@example.org")
    arrives("vacation_de.eml", away, replaced="jan@example.de")
    inbox = gateway_services.account_create(
        capability=Capability.INBOX_READING, adapter="imap", name="bounces",
        settings=imap_account.adapter_settings(), credentials=imap_account.adapter_credentials())

    assert inbox_poll(account_id=inbox.pk) == 9
    assert inbox_poll(account_id=inbox.pk) == 0

    suppressed = dict(Suppression.objects.values_list("value", "reason"))
    assert suppressed == {gone.email: "bounced", unknown.email: "bounced", legacy.email: "bounced",
                          full.email: "bounced", complainer.email: "complained"}
    for person in people:
        person.refresh_from_db()
    assert (full.soft_bounce_count, slow.soft_bounce_count) == (2, 1)
    assert slow.lifecycle_status != LifecycleStatus.BOUNCED
    assert fan.lifecycle_status == LifecycleStatus.ENGAGED
    assert away.lifecycle_status != LifecycleStatus.ENGAGED
    assert list(EngagementEvent.objects.filter(kind=EventKind.REPLIED).values_list("contact", flat=True)) == [fan.pk]
    assert EngagementEvent.objects.get(kind=EventKind.COMPLAINED).campaign_id == email_campaign.campaign_id
    assert InboundEvent.objects.get(kind="auto-reply").contact == away

    feedback = email_campaign_feedback(email_campaign)
    assert (feedback.hard_bounces, feedback.soft_bounces, feedback.complaints, feedback.replies,
            feedback.auto_replies) == (3, 3, 1, 1, 1)
    client = logged_in(ANALYST)
    send_page = client.get(f"/email/campaigns/{email_campaign.campaign_id}/")
    assert send_page.context["feedback"] == feedback
    delivery = EmailDelivery.objects.get(contact=gone)
    with django_assert_max_num_queries(10):
        page = client.get(f"/email/campaigns/{email_campaign.campaign_id}/deliveries/{delivery.pk}/")
    content = page.content.decode()
    assert "Suppressed: bounced" in content
    assert "5.1.1" in content and "User unknown in virtual mailbox table" in content and "hard" in content


def test_a_bounce_quoting_nothing_about_a_forwarded_address_is_matched_by_its_signed_return_path(
        smtp_server, imap_account):
    """VERP: the account's return path is tagged per delivery; a Lotus Domino bounce that quotes
    nothing and names only the address the mail was forwarded to still suppresses the right contact,
    and the same bounce with a forged tag suppresses no one."""
    smtp_account(smtp_server, return_path="bounces@aicmo.example")
    moved, bystander = ContactFactory(), ContactFactory()
    email_campaign = campaign_for([moved, bystander])
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    envelope = {mail.rcpt_tos[0]: mail.mail_from for mail in smtp_server.messages}
    assert envelope[bystander.email] != envelope[moved.email]
    delivery = EmailDelivery.objects.get(contact=moved)
    assert envelope[moved.email] == f"bounces+{make_bounce_tag(delivery.pk)}@aicmo.example"

    def bounce(return_path: str, number: int) -> bytes:
        return corpus_message("lotus_domino.eml", addresses={
            "bounces@aicmo.example": return_path, "gone@domino.example.de": "m.moved@forward.example",
            "<OF12AB34CD.": f"<OF12AB34CD.{number}."})

    # The bystander's delivery id under the signature of the moved contact's: refused.
    bystander_id = EmailDelivery.objects.get(contact=bystander).pk
    forged = f"bounces+{bystander_id:x}-{make_bounce_tag(delivery.pk).split('-')[1]}@aicmo.example"
    imap_account.append(bounce(forged, 1))
    imap_account.append(bounce(envelope[moved.email], 2))
    inbox = gateway_services.account_create(
        capability=Capability.INBOX_READING, adapter="imap", name="bounces",
        settings=imap_account.adapter_settings(), credentials=imap_account.adapter_credentials())

    assert inbox_poll(account_id=inbox.pk) == 1
    assert list(Suppression.objects.values_list("value", "reason")) == [(moved.email, "bounced")]
    assert InboundEvent.objects.get(contact=moved).delivery == delivery
