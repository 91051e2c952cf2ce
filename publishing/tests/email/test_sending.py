import re
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aicmo_site.errors import DomainError
from crm.choices import ConsentStatus, LifecycleStatus, SuppressionKind
from crm.tests.factories import CompanyFactory, ContactFactory, SuppressionFactory, TagFactory
from gateways.adapters.smtp import SmtpSession
from gateways.testing.ports import free_port
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailCampaign, EmailDelivery, EmailLink
from publishing.email.sender import batch, claim_batch, marks, worker, worker_run
from publishing.email.services import (
    email_campaign_cancel,
    email_campaign_checklist,
    email_campaign_pause,
    email_campaign_resume,
)
from publishing.email.services.campaigns import leases_recover
from publishing.tests.email.factories import HTML_BODY, EmailBlockFactory, EmailTemplateFactory, smtp_account
from publishing.tests.email.helpers import campaign_for, ready_campaign, started

pytestmark = pytest.mark.django_db


def statuses(email_campaign) -> dict:
    rows = EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id).values_list("status", flat=True)
    counts: dict = {}
    for status in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_send_freezes_only_emailable_contacts_and_delivers_each_once(smtp_server):
    email_campaign, contacts = ready_campaign(smtp_server, 2)
    left = ContactFactory(consent_status=ConsentStatus.UNSUBSCRIBED)
    bounced = ContactFactory(lifecycle_status=LifecycleStatus.BOUNCED)
    blocked = ContactFactory(email="someone@blocked.example")
    SuppressionFactory(kind=SuppressionKind.DOMAIN, value="blocked.example")
    for contact in (left, bounced, blocked):
        contact.tags.add(*contacts[0].tags.all())

    started(email_campaign)
    report = worker_run(email_campaign_id=email_campaign.pk)

    assert report.sent == 2
    assert sorted(smtp_server.recipients()) == sorted(c.email for c in contacts)
    email_campaign.refresh_from_db()
    assert email_campaign.status == SendStatus.COMPLETED
    assert email_campaign.audience_size == 2


def test_each_message_is_personalised_and_carries_rfc8058_headers_and_tracked_links(smtp_server):
    email_campaign, (contact,) = ready_campaign(smtp_server, 1, first_name="Zoë")
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)

    (mail,) = smtp_server.messages
    message = mail.message()
    delivery = EmailDelivery.objects.get(contact=contact)
    assert message["Message-ID"] == delivery.message_id
    assert message["Subject"] == "Hello Zoë"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe, mailto = [part.strip(" <>") for part in message["List-Unsubscribe"].split(",")]
    assert unsubscribe.startswith("https://aicmo.example/u/")
    assert mailto.startswith("mailto:unsubscribe@aicmo.example?subject=unsubscribe-")
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "Hi Zoë," in html and "Hi Zoë," in text
    assert f'href="{unsubscribe}"' in html  # the per-recipient link in the body, untracked
    assert "https://example.org/launch" not in html  # rewritten to a tracked link
    assert "https://aicmo.example/t/c/" in html and "https://aicmo.example/t/o/" in html
    assert EmailLink.objects.get(campaign_id=email_campaign.campaign_id).url == (
        "https://example.org/launch?utm_source=email")
    assert delivery.status == DeliveryStatus.SENT and delivery.provider == "smtp-test"
    assert delivery.provider_response.startswith("250")


def test_a_refused_recipient_fails_alone(smtp_server):
    email_campaign, contacts = ready_campaign(smtp_server, 3)
    smtp_server.refuse_recipients = {contacts[1].email: "550 5.1.1 No such user"}
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    failed = EmailDelivery.objects.get(contact=contacts[1])
    assert failed.status == DeliveryStatus.FAILED and "550" in failed.error
    assert statuses(email_campaign) == {DeliveryStatus.SENT: 2, DeliveryStatus.FAILED: 1}


def test_temporary_refusals_are_retried_and_the_send_completes_only_when_none_is_left(smtp_server, settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 0.05
    settings.GATEWAYS_SMTP_RETRY_AFTER_SECONDS = 0  # no provider-wide pause after a 4xx to one message
    email_campaign, contacts = ready_campaign(smtp_server, 6)
    smtp_server.temporary_failure_every = 3
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)

    counts = statuses(email_campaign)
    assert counts.get(DeliveryStatus.SENT, 0) + counts.get(DeliveryStatus.FAILED, 0) == 6
    assert len(smtp_server.recipients()) == len(set(smtp_server.recipients())) == counts[DeliveryStatus.SENT]
    assert EmailDelivery.objects.filter(attempts__gt=1).exists()
    email_campaign.refresh_from_db()
    assert email_campaign.status == SendStatus.COMPLETED


def test_a_retry_waiting_for_later_keeps_the_send_open(smtp_server, settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 600
    email_campaign, contacts = ready_campaign(smtp_server, 2)
    smtp_server.temporary_failure_every = 2
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    waiting = EmailDelivery.objects.get(status=DeliveryStatus.QUEUED)
    assert waiting.next_attempt_at > timezone.now() + timedelta(minutes=5)
    email_campaign.refresh_from_db()
    assert email_campaign.status == SendStatus.SENDING


def test_a_connection_lost_after_data_is_outcome_unknown_and_never_resent(smtp_server):
    email_campaign, contacts = ready_campaign(smtp_server, 3)
    smtp_server.drop_after_data_for = {contacts[0].email}
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    worker_run(email_campaign_id=email_campaign.pk)
    assert EmailDelivery.objects.get(contact=contacts[0]).status == DeliveryStatus.OUTCOME_UNKNOWN
    assert sorted(smtp_server.recipients()) == sorted(c.email for c in contacts)  # each exactly once


def test_a_delivery_left_sending_by_a_dead_worker_becomes_outcome_unknown_and_its_batch_is_sent(smtp_server):
    email_campaign, contacts = ready_campaign(smtp_server, 3)
    started(email_campaign)
    claimed = claim_batch(campaign_id=email_campaign.campaign_id, owner="dead-worker", size=10)
    assert len(claimed) == 3
    expired = timezone.now() - timedelta(seconds=1)
    EmailDelivery.objects.filter(pk=claimed[0]).update(status=DeliveryStatus.SENDING, lease_expires_at=expired,
                                                       message_id="<x@y>")
    EmailDelivery.objects.filter(pk__in=claimed[1:]).update(lease_expires_at=expired)

    worker_run(email_campaign_id=email_campaign.pk)

    assert EmailDelivery.objects.get(pk=claimed[0]).status == DeliveryStatus.OUTCOME_UNKNOWN
    assert len(smtp_server.recipients()) == 2
    email_campaign.refresh_from_db()
    assert email_campaign.status == SendStatus.COMPLETED


def test_a_slow_worker_s_late_answer_replaces_the_unknown_outcome_of_its_recovered_delivery(smtp_server):
    email_campaign, _contacts = ready_campaign(smtp_server, 1)
    started(email_campaign)
    delivery = EmailDelivery.objects.get(pk=claim_batch(campaign_id=email_campaign.campaign_id, owner="slow",
                                                        size=1)[0])
    assert marks.record_and_start([], [(delivery, SimpleNamespace(message_id="<1@x>"))], "slow") == {delivery.pk}
    EmailDelivery.objects.filter(pk=delivery.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert leases_recover(campaign_id=email_campaign.campaign_id) == 1
    assert EmailDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.OUTCOME_UNKNOWN

    answer = {"message_id": "<1@x>", "provider": "smtp-test", "provider_response": "250 ok", "sent_at": timezone.now(),
              "failover_note": ""}
    marks.record_and_start([(delivery.pk, answer)], [], "slow")

    assert EmailDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENT
    assert claim_batch(campaign_id=email_campaign.campaign_id, owner="other", size=1) == []


def test_two_workers_never_claim_the_same_delivery(smtp_server):
    email_campaign, _ = ready_campaign(smtp_server, 5)
    started(email_campaign)
    first = claim_batch(campaign_id=email_campaign.campaign_id, owner="a", size=3)
    second = claim_batch(campaign_id=email_campaign.campaign_id, owner="b", size=3)
    assert len(first) == 3 and len(second) == 2 and not set(first) & set(second)
    assert claim_batch(campaign_id=email_campaign.campaign_id, owner="c", size=3) == []


def test_pause_stops_sending_and_resume_sends_the_rest_once(smtp_server, django_capture_on_commit_callbacks):
    email_campaign, contacts = ready_campaign(smtp_server, 4)
    started(email_campaign)
    email_campaign_pause(email_campaign=email_campaign)
    report = worker_run(email_campaign_id=email_campaign.pk)
    assert report.sent == 0 and smtp_server.recipients() == []
    with django_capture_on_commit_callbacks():
        email_campaign_resume(email_campaign=email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    assert sorted(smtp_server.recipients()) == sorted(c.email for c in contacts)


def test_once_the_send_is_paused_the_marks_statement_records_answers_but_starts_nothing(smtp_server):
    email_campaign, _contacts = ready_campaign(smtp_server, 3)
    started(email_campaign)
    first, second, _third = (EmailDelivery.objects.get(pk=pk) for pk in
                             claim_batch(campaign_id=email_campaign.campaign_id, owner="worker-a", size=3))
    assert marks.record_and_start([], [(first, SimpleNamespace(message_id="<1@x>"))], "worker-a") == {first.pk}

    email_campaign_pause(email_campaign=email_campaign)
    assert EmailDelivery.objects.filter(status=DeliveryStatus.QUEUED).exclude(lease_owner="").count() == 0
    # The statement itself refuses, whoever holds the claim (a worker that claimed after the pause read it).
    EmailDelivery.objects.filter(pk=second.pk).update(lease_owner="worker-a")
    answer = {"message_id": "<1@x>", "provider": "smtp-test", "provider_response": "250 ok", "sent_at": timezone.now(),
              "failover_note": ""}
    assert marks.record_and_start([(first.pk, answer)], [(second, SimpleNamespace(message_id="<2@x>"))],
                                  "worker-a") == set()

    assert statuses(email_campaign) == {DeliveryStatus.SENT: 1, DeliveryStatus.QUEUED: 2}


def test_a_worker_stops_at_its_next_message_when_the_send_is_paused_under_it(smtp_server, settings):
    settings.EMAIL_CONNECTIONS_PER_WORKER = 2
    email_campaign, _contacts = ready_campaign(smtp_server, 30)
    started(email_campaign)
    record_and_start = marks.record_and_start
    starts = []

    def pause_after_the_fifth_start(pending, starting, owner):
        started_now = record_and_start(pending, starting, owner)
        starts.extend(started_now)
        # A group of starts may take the count past 5 in one statement.
        if len(starts) >= 5 and started_now and len(starts) - len(started_now) < 5:
            email_campaign_pause(email_campaign=EmailCampaign.objects.get(pk=email_campaign.pk))
        return started_now

    with mock.patch.object(marks, "record_and_start", pause_after_the_fifth_start):
        report = worker_run(email_campaign_id=email_campaign.pk)

    assert report.stopped_because == "paused or canceled"
    assert 5 <= len(starts) <= 6 and report.sent == len(starts)
    assert len(smtp_server.recipients()) == len(starts)
    assert statuses(email_campaign) == {DeliveryStatus.SENT: len(starts), DeliveryStatus.QUEUED: 30 - len(starts)}
    assert not EmailDelivery.objects.exclude(lease_owner="").exists()  # every claim given back for the resume


def test_cancel_cancels_everything_not_yet_sent(smtp_server):
    email_campaign, _ = ready_campaign(smtp_server, 3)
    started(email_campaign)
    email_campaign_cancel(email_campaign=email_campaign, note="Wrong list")
    worker_run(email_campaign_id=email_campaign.pk)
    assert statuses(email_campaign) == {DeliveryStatus.CANCELED: 3}
    assert smtp_server.recipients() == []


def test_a_completed_send_cannot_be_paused(smtp_server):
    email_campaign, _ = ready_campaign(smtp_server, 1)
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    with pytest.raises(DomainError) as caught:
        email_campaign_pause(email_campaign=email_campaign)
    assert caught.value.code == "invalid_transition"


def test_checklist_names_what_is_missing():
    template = EmailTemplateFactory(subject=" ", html_body="<p>No way out</p>")
    email_campaign = campaign_for([], template=template)
    failing = {item["key"] for item in email_campaign_checklist(email_campaign) if not item["ok"]}
    assert failing == {"subject", "unsubscribe_link", "audience", "sender"}
    with pytest.raises(DomainError) as caught:
        started(email_campaign)
    assert caught.value.code == "checklist_failed"


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
@pytest.mark.parametrize(("durable", "while_sending"), [(True, "on"), (False, "off")])
def test_synchronous_commit_is_relaxed_only_while_sending_and_only_when_configured(
        smtp_server, settings, durable, while_sending):
    settings.EMAIL_SYNCHRONOUS_COMMIT = durable
    email_campaign, _contacts = ready_campaign(smtp_server, 2)
    started(email_campaign)
    seen = []

    def send_batch(*args):
        seen.append(_synchronous_commit())
        return real_send_batch(*args)

    real_send_batch = batch.send_batch
    with mock.patch.object(worker, "send_batch", send_batch):
        report = worker_run(email_campaign_id=email_campaign.pk)

    assert report.sent == 2
    # Behind a pooler in transaction mode the session is shared, so the setting is never relaxed there.
    assert set(seen) == {"on" if settings.DATABASE_TRANSACTION_POOLING else while_sending}
    assert _synchronous_commit() == "on"  # the connection goes back to other tasks as it was


def test_one_statement_records_the_last_round_and_starts_the_next_only_while_this_worker_holds_it(smtp_server):
    email_campaign, _contacts = ready_campaign(smtp_server, 4)
    started(email_campaign)
    first, second, third, fourth = (EmailDelivery.objects.get(pk=pk) for pk in
                                    claim_batch(campaign_id=email_campaign.campaign_id, owner="worker-a", size=4))
    assert marks.record_and_start([], [(first, SimpleNamespace(message_id="<1@x>")),
                                          (second, SimpleNamespace(message_id="<2@x>"))], "worker-a") == {
        first.pk, second.pk}
    EmailDelivery.objects.filter(pk=fourth.pk).update(lease_owner="worker-b")  # its claim expired and was taken
    now = timezone.now()
    pending = [(pk, {"message_id": f"<{n}@x>", "provider": f"smtp-{n}", "provider_response": f"250 ok {n}",
                     "sent_at": now, "failover_note": "" if n == 1 else "other: down"})
               for n, pk in ((1, first.pk), (2, second.pk))]

    assert marks.record_and_start(pending, [(third, SimpleNamespace(message_id="<3@x>")),
                                               (fourth, SimpleNamespace(message_id="<4@x>"))], "worker-a") == {third.pk}

    assert pending == []
    for row in (first, second, third, fourth):
        row.refresh_from_db()
    assert (first.status, first.attempts, first.provider, first.provider_response, first.lease_owner) == (
        DeliveryStatus.SENT, 1, "smtp-1", "250 ok 1", "")
    assert (second.status, second.provider, second.failover_note, second.message_id) == (
        DeliveryStatus.SENT, "smtp-2", "other: down", "<2@x>")
    assert first.sent_at is not None and first.lease_expires_at is None
    assert (third.status, third.attempts, third.message_id, third.lease_owner) == (
        DeliveryStatus.SENDING, 1, "<3@x>", "worker-a")
    assert third.lease_expires_at is not None and third.provider == ""
    assert (fourth.status, fourth.attempts, fourth.message_id, fourth.lease_owner) == (
        DeliveryStatus.QUEUED, 0, "", "worker-b")


def _send_watching_content_and_ends(email_campaign):
    """The worker's report, and ("content", the delivery's status) as each message's content is written and
    ("end", who is "sending" then) as each end is."""
    started(email_campaign)
    events = []
    write_content, write_end = SmtpSession._write_content, SmtpSession._write_end

    def content(session, smtp, payload):
        to = re.search(rb"^To: (\S+)\r$", payload, re.MULTILINE).group(1).decode()
        events.append(("content", EmailDelivery.objects.get(contact__email=to).status))
        return write_content(session, smtp, payload)

    def end(session, smtp):
        events.append(("end", sorted(EmailDelivery.objects.filter(status=DeliveryStatus.SENDING)
                                     .values_list("contact__email", flat=True))))
        return write_end(session, smtp)

    with mock.patch.object(SmtpSession, "_write_content", content), mock.patch.object(SmtpSession, "_write_end", end):
        return worker_run(email_campaign_id=email_campaign.pk), events


def test_messages_are_written_while_only_claimed_and_ended_one_at_a_time_each_marked_sending_first(
        smtp_server, settings):
    """What bounds a kill to one outcome unknown per worker: a message's content goes out while its
    delivery is still only claimed (a kill then leaves an unended message, which the server drops), and
    its end is written only once its "sending" mark is in, with no other delivery "sending" then. The
    other connections' content is written before the message before them has ended."""
    settings.EMAIL_CONNECTIONS_PER_WORKER = 3
    settings.EMAIL_STARTS_PER_COMMIT = 1
    email_campaign, contacts = ready_campaign(smtp_server, 7)
    report, events = _send_watching_content_and_ends(email_campaign)

    assert report.sent == 7
    assert [status for kind, status in events if kind == "content"] == [DeliveryStatus.QUEUED] * 7
    ended = [sending_now for kind, sending_now in events if kind == "end"]
    assert all(len(sending_now) == 1 for sending_now in ended)
    assert [sending_now[0] for sending_now in ended] == [mail.rcpt_tos[0] for mail in smtp_server.messages]
    # Every connection is written to before the first end; then each end overlaps the next content.
    assert [kind for kind, _status in events] == ["content"] * 3 + ["end"] + ["end", "content"] * 4 + ["end"] * 2
    assert sorted(smtp_server.recipients()) == sorted(c.email for c in contacts)
    assert statuses(email_campaign) == {DeliveryStatus.SENT: 7}


def test_a_group_of_messages_is_marked_sending_in_one_commit_before_any_of_their_ends(smtp_server, settings):
    """EMAIL_STARTS_PER_COMMIT: the messages ready together are marked "sending" in one statement, then
    ended; a kill can then leave the whole group in doubt, never more, and none of them sent twice."""
    settings.EMAIL_CONNECTIONS_PER_WORKER = 3
    settings.EMAIL_STARTS_PER_COMMIT = 3
    email_campaign, contacts = ready_campaign(smtp_server, 7)
    report, events = _send_watching_content_and_ends(email_campaign)

    assert report.sent == 7
    assert [status for kind, status in events if kind == "content"] == [DeliveryStatus.QUEUED] * 7
    ended = [sending_now for kind, sending_now in events if kind == "end"]
    assert len(ended) == 7 and all(1 <= len(sending_now) <= 3 for sending_now in ended)
    # The first three connections were all ready together: one group, all "sending" before the first end.
    assert len(ended[0]) == 3 and ended[0] == ended[1] == ended[2]
    assert set().union(*ended) == {c.email for c in contacts}
    assert sorted(smtp_server.recipients()) == sorted(c.email for c in contacts)
    assert statuses(email_campaign) == {DeliveryStatus.SENT: 7}


def test_each_connection_fails_over_on_its_own_and_its_message_records_it(smtp_server, settings):
    settings.EMAIL_CONNECTIONS_PER_WORKER = 2
    email_campaign, contacts = ready_campaign(smtp_server, 4)
    smtp_account(smtp_server, name="closed-port", priority=1, port=free_port())  # tried first, refuses connections
    started(email_campaign)

    report = worker_run(email_campaign_id=email_campaign.pk)

    notes = [note for _pk, note in EmailDelivery.objects.order_by("pk").values_list("pk", "failover_note")]
    # The first message on each of the two connections went to the second account after the first failed.
    assert [bool(note) for note in notes] == [True, True, False, False]
    assert all(note.startswith("closed-port: ") for note in notes[:2])
    assert set(EmailDelivery.objects.values_list("provider", flat=True)) == {"smtp-test"}
    assert report.sent == 4 and sorted(smtp_server.recipients()) == sorted(c.email for c in contacts)


@pytest.mark.parametrize(("starts_per_commit", "statements_for_four_more"), [(1, [4]), (2, [2, 3, 4])])
def test_a_batch_costs_one_statement_per_group_of_messages_beyond_a_fixed_few(smtp_server, settings,
                                                                              starts_per_commit,
                                                                              statements_for_four_more):
    """Loading, rendering and recording a batch never reads a contact, company or variant row by row, and
    each group of messages costs one statement: their "sending" marks, with the last group's "sent". A
    group is what is ready when the last one's answers are in (at most one per connection)."""
    settings.EMAIL_CONNECTIONS_PER_WORKER = 2
    settings.EMAIL_STARTS_PER_COMMIT = starts_per_commit
    counts = {}
    for size in (4, 8):
        company = CompanyFactory()
        email_campaign, _contacts = ready_campaign(smtp_server, size, name=f"smtp-{size}", company=company)
        started(email_campaign)
        sender = batch.CampaignSender(email_campaign, "worker-q")
        ids = claim_batch(campaign_id=email_campaign.campaign_id, owner="worker-q", size=size)
        with CaptureQueriesContext(connection) as queries:
            assert batch.send_batch(sender, ids, batch.WorkerReport())
        sender.close_sessions()
        counts[size] = len(queries)
    assert counts[8] - counts[4] in statements_for_four_more


def test_a_worker_keeps_its_connections_from_one_batch_to_the_next(smtp_server, settings):
    settings.EMAIL_CONNECTIONS_PER_WORKER = 2
    settings.EMAIL_BATCH_SIZE = 2
    email_campaign, contacts = ready_campaign(smtp_server, 6)
    started(email_campaign)

    report = worker_run(email_campaign_id=email_campaign.pk)

    assert report.claimed_batches == 3 and report.sent == 6
    assert smtp_server.connections == 2
    assert sorted(smtp_server.recipients()) == sorted(c.email for c in contacts)


def test_a_connection_that_failed_over_is_opened_afresh_for_the_next_batch(smtp_server, settings):
    """So the next batch tries the first account again instead of staying on the fallback all run."""
    settings.EMAIL_CONNECTIONS_PER_WORKER = 1
    settings.EMAIL_BATCH_SIZE = 2
    email_campaign, _contacts = ready_campaign(smtp_server, 4)
    smtp_account(smtp_server, name="closed-port", priority=1, port=free_port())
    started(email_campaign)

    worker_run(email_campaign_id=email_campaign.pk)

    notes = [note for _pk, note in EmailDelivery.objects.order_by("pk").values_list("pk", "failover_note")]
    assert [bool(note) for note in notes] == [True, False, True, False]
    assert smtp_server.connections == 2


def _tag_queries(queries) -> int:
    return sum(1 for query in queries if "crm_contact_tags" in query["sql"] and "SELECT" in query["sql"])


def test_tags_are_read_only_when_a_template_or_block_can_use_them(smtp_server):
    plain = EmailTemplateFactory()
    by_tag = EmailTemplateFactory(html_body=HTML_BODY.replace("</body>", '{{ blocks.articles }}</body>'))
    block = EmailBlockFactory(template=by_tag, html="<p>For VIPs</p>")
    naming = EmailTemplateFactory(html_body=HTML_BODY.replace(
        "</body>", '{% if "vip" in contact.tags %}<p>Dear VIP</p>{% endif %}</body>'))
    smtp_account(smtp_server)
    vip = TagFactory(name="vip")
    block.tags.add(vip)
    seen = {}
    for name, template in (("plain", plain), ("block", by_tag), ("naming", naming)):
        contacts = [ContactFactory(), ContactFactory()]
        contacts[0].tags.add(vip)
        email_campaign = campaign_for(contacts, template=template)
        started(email_campaign)
        smtp_server.messages.clear()
        with CaptureQueriesContext(connection) as queries:
            worker_run(email_campaign_id=email_campaign.pk)
        html = {mail.rcpt_tos[0]: mail.message().get_body(("html",)).get_content() for mail in smtp_server.messages}
        seen[name] = (_tag_queries(queries), [("VIP" in html[c.email]) for c in contacts])

    assert seen["plain"] == (0, [False, False])
    assert seen["block"][1] == [True, False] and seen["block"][0] >= 1
    assert seen["naming"][1] == [True, False] and seen["naming"][0] >= 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="marks go over their own connection on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_marks_sent_without_waiting_are_committed_by_the_time_their_answer_is_read(smtp_server):
    email_campaign, _contacts = ready_campaign(smtp_server, 2)
    started(email_campaign)
    first, second = (EmailDelivery.objects.get(pk=pk) for pk in
                     claim_batch(campaign_id=email_campaign.campaign_id, owner="worker-a", size=2))
    worker_marks = marks.WorkerMarks()
    try:
        worker_marks.send([], [(first, SimpleNamespace(message_id="<1@x>"))], "worker-a")
        assert worker_marks.wait() == {first.pk}
        assert EmailDelivery.objects.get(pk=first.pk).status == DeliveryStatus.SENDING  # seen from another connection
        EmailDelivery.objects.filter(pk=second.pk).update(lease_owner="worker-b")  # its claim was taken
        answer = {"message_id": "<1@x>", "provider": "smtp-test", "provider_response": "250 ok",
                  "sent_at": timezone.now(), "failover_note": ""}
        worker_marks.send([(first.pk, answer)], [(second, SimpleNamespace(message_id="<2@x>"))], "worker-a")
        assert worker_marks.wait() == set()
    finally:
        worker_marks.close()
    assert dict(EmailDelivery.objects.values_list("pk", "status")) == {
        first.pk: DeliveryStatus.SENT, second.pk: DeliveryStatus.QUEUED}
