"""The scaled-out layout of the README, simulated on one machine: two web processes (gunicorn) and
qcluster worker groups as separate process groups, sharing PostgreSQL and Redis. A campaign is sent, a
campaign's posts are published and a file is imported, all started over HTTP through the two web
processes, while one worker group is killed (SIGKILL, the whole group) and another is added. Every
outcome must happen exactly once: one message per recipient, one post per job (a resend carries the
job's key), every imported row once."""

import os
import secrets
import socket
import time
from collections import Counter, defaultdict

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule
from knox.models import AuthToken

from aicmo_site.roles import APPROVER, MARKETER
from aicmo_site.testing.worker import WebProcess, wait_for
from crm.choices import RunStatus
from crm.models import Contact, ImportRun
from crm.tests.factories import ContactFactory
from publishing.choices import JobStatus
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.conf import starts_per_commit
from publishing.email.models import EmailCampaign, EmailDelivery
from publishing.models import PublishingJob
from publishing.services import campaign_create, content_approve, content_create, content_submit
from publishing.tests.channels import channel_on
from publishing.tests.email.factories import smtp_account
from publishing.tests.email.helpers import campaign_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="the scaled-out layout is PostgreSQL and Redis (README); SQLite is one machine's"),
]
RECIPIENTS, POSTS, ROWS = 400, 24, 30_000
REDIS_URL = os.environ.get("AICMO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SCHEDULES_AFTER_A_KILL = ("email: wake sends", "crm: resume imports whose worker stopped",
                          "publishing: dispatch due posts")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def layout_env(queue: str) -> dict:
    return {
        "REDIS_URL": REDIS_URL, "Q_CLUSTER_NAME": queue, "Q_WORKERS": "2", "PUBLIC_BASE_URL": "https://aicmo.example",
        "CRM_IMPORT_INLINE_MAX_BYTES": "0", "CRM_IMPORT_CHUNK_ROWS": "1000", "CRM_IMPORT_RESUME_AFTER_SECONDS": "5",
        "EMAIL_LEASE_SECONDS": "3", "EMAIL_BATCH_SIZE": "25", "EMAIL_RETRY_BASE_SECONDS": "0.3",
        "PUBLISHING_BACKOFF_BASE_SECONDS": "0.2", "PUBLISHING_DISPATCH_POLL_SECONDS": "0.2",
        "PUBLISHING_LEASE_SECONDS": "5",
    }


@pytest.fixture
def layout(qcluster):
    """Starts web processes and worker groups on one Redis queue of this test's own; all stopped after."""
    queue = f"aicmo-test-{secrets.token_hex(4)}"
    env = layout_env(queue)
    webs = []

    def web() -> WebProcess:
        webs.append(WebProcess(port=free_port(), extra_env=env).start())
        return webs[-1]

    def workers():
        return qcluster(**env)

    yield web, workers
    for process in webs:
        process.stop()


def approved_contents(make_user, count: int):
    author, reviewer = make_user("author", role=MARKETER), make_user("reviewer", role=APPROVER)
    contents = []
    for n in range(count):
        content = content_create(by=author, title=f"Release note {n}", body=f"What is new, part {n}.",
                                 link_url=f"https://example.com/notes/{n}")
        content_submit(content=content, by=author)
        contents.append(content_approve(content=content, by=reviewer))
    return contents, author


def test_two_web_processes_and_worker_groups_do_everything_once_while_a_group_dies(
        layout, make_user, smtp_server, httpserver):
    web, workers = layout
    for path in ("/webhook/a", "/webhook/b"):
        httpserver.expect_request(path, method="POST").respond_with_data("", status=204)
    smtp_account(smtp_server)
    contacts = [ContactFactory() for _ in range(RECIPIENTS)]
    email_campaign = campaign_for(contacts)
    contents, author = approved_contents(make_user, POSTS // 2)
    channels = [channel_on(httpserver, "webhook", path=path) for path in ("/webhook/a", "/webhook/b")]
    campaign = campaign_create(by=author, name="Release notes", starts_at=timezone.now(), contents=contents,
                               channels=channels)
    call_command("setup_schedules", verbosity=0)
    token = AuthToken.objects.create(make_user("operator", role=MARKETER, is_superuser=True))[1]
    csv = "email,first_name\n" + "".join(f"row{n}@import.example,Row{n}\n" for n in range(ROWS))

    first, second = web(), web()
    groups = [workers(), workers(), workers()]
    started = time.monotonic()
    answers = [
        requests.post(f"{first.url}/api/imports/", files={"file": ("people.csv", csv.encode())},
                      headers={"Authorization": f"Token {token}"}, timeout=60),
        requests.post(f"{second.url}/api/email-campaigns/{email_campaign.campaign_id}/send/",
                      headers={"Authorization": f"Token {token}"}, timeout=60),
        requests.post(f"{first.url}/api/campaigns/{campaign.pk}/activate/",
                      headers={"Authorization": f"Token {token}"}, timeout=60),
    ]
    assert [answer.status_code for answer in answers] == [201, 200, 200], [a.text[:300] for a in answers]
    run_id = answers[0].json()["id"]

    wait_for(lambda: len(smtp_server.messages) >= RECIPIENTS // 4, timeout=120, interval=0.01,
             message="a quarter of the messages")
    groups[0].kill()
    killed_at = time.monotonic()
    groups.append(workers())
    # What the schedules do within a minute of the kill, asked for now so the test does not wait for the clock.
    Schedule.objects.filter(name__in=SCHEDULES_AFTER_A_KILL).update(next_run=timezone.now())

    def everything_done() -> bool:
        sent = EmailCampaign.objects.filter(pk=email_campaign.pk, status=SendStatus.COMPLETED).exists()
        imported = ImportRun.objects.filter(pk=run_id, status=RunStatus.COMPLETED).exists()
        posted = not PublishingJob.objects.filter(
            campaign=campaign, status__in=(JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.PUBLISHING)).exists()
        return sent and imported and posted

    wait_for(everything_done, timeout=300, interval=0.5, message="the send, the import and the posts to finish")
    finished = time.monotonic()
    for group in groups:
        group.kill()

    arrived = Counter(smtp_server.recipients())
    deliveries = dict(EmailDelivery.objects.filter(campaign=email_campaign.campaign)
                      .values_list("contact__email", "status"))
    assert len(deliveries) == RECIPIENTS and max(arrived.values()) == 1, "a recipient got two copies"
    unknown = [email for email, status in deliveries.items() if status == DeliveryStatus.OUTCOME_UNKNOWN]
    assert len(unknown) <= starts_per_commit(), "only the messages under way in the killed group may be in doubt"
    assert all(arrived[email] == 1 for email, status in deliveries.items() if status == DeliveryStatus.SENT)
    assert {email for email, status in deliveries.items() if status != DeliveryStatus.OUTCOME_UNKNOWN} \
        == set(arrived) - set(unknown)

    jobs = dict(PublishingJob.objects.filter(campaign=campaign).values_list("idempotency_key", "status"))
    keys_seen = defaultdict(int)
    for request, _ in httpserver.log:
        keys_seen[request.headers["webhook-id"]] += 1
    assert len(jobs) == POSTS and set(jobs.values()) == {JobStatus.PUBLISHED}
    assert set(keys_seen) == {str(key) for key in jobs}, "every job posted, under its own key and no other"
    resent = sum(1 for count in keys_seen.values() if count > 1)

    run = ImportRun.objects.get(pk=run_id)
    assert (run.processed_rows, run.created_count, run.failed_count) == (ROWS, ROWS, 0)
    assert Contact.objects.filter(email__endswith="@import.example").count() == ROWS

    print(f"\nscale-out: 2 web processes, 3 worker groups (+1 after a kill at {killed_at - started:.1f} s), "
          f"{RECIPIENTS} messages, {POSTS} posts ({resent} resent under the same key), {ROWS} imported rows: "
          f"all done in {finished - started:.1f} s; {len(unknown)} message(s) in doubt")
