"""The overview answers "what needs me?" and, on a new installation, how to get to a first send."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.models import CampaignChannelDay, ChannelDay
from crm.choices import RunStatus
from crm.models import ImportRun
from crm.tests.factories import ContactFactory, SegmentFactory
from gateways.capabilities import Capability
from gateways.models import ProviderHealth
from gateways.tests.factories import ProviderAccountFactory
from publishing.choices import CampaignStatus, JobStatus
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.services.content import content_submit
from publishing.tests.email.factories import EmailCampaignFactory, EmailDeliveryFactory
from publishing.tests.factories import CampaignFactory, ContentFactory, JobFactory

pytestmark = pytest.mark.django_db


def _busy_installation(author, *, extra: int = 0, first: int = 0):
    """Something in every section of the overview; `extra` adds more of each (the query count must not move)."""
    for n in range(first, first + 1 + extra):
        content_submit(content=ContentFactory(author=author), by=author)
        JobFactory(status=JobStatus.FAILED, campaign=CampaignFactory(name=f"Failing {n}",
                                                                    status=CampaignStatus.RUNNING))
        JobFactory(status=JobStatus.NEEDS_CHECKING)
        send = EmailCampaignFactory(campaign__name=f"Newsletter {n}", status=SendStatus.SENDING,
                                    started_at=timezone.now(), audience_size=4)
        EmailDeliveryFactory(campaign=send.campaign, status=DeliveryStatus.SENT, message_id=f"<m{n}@x>")
        EmailDeliveryFactory(campaign=send.campaign, status=DeliveryStatus.FAILED)
        EmailDeliveryFactory(campaign=send.campaign, status=DeliveryStatus.OUTCOME_UNKNOWN)
        EmailDeliveryFactory(campaign=send.campaign)
        account = ProviderAccountFactory(name=f"Apollo {n}")
        ProviderHealth.objects.filter(account=account).update(consecutive_failures=99, calls=5)
        ImportRun.objects.create(original_name=f"leads-{n}.csv", status=RunStatus.COMPLETED, total_rows=10,
                                 processed_rows=10, failed_count=2, finished_at=timezone.now())
    today = timezone.localdate()
    channel = f"email-{first}"
    CampaignChannelDay.objects.create(campaign_id=send.campaign_id, day=today, channel=channel, opens=30,
                                      clicks=12, conversions=3, revenue=Decimal("90"))
    CampaignChannelDay.objects.create(day=today - dt.timedelta(days=7), channel=channel, opens=20, clicks=8,
                                      conversions=3, revenue=Decimal("60"))
    # The week's figures read every campaign together from the channel roll-up, which a fold writes with the
    # same days added up over campaigns.
    for row in CampaignChannelDay.objects.filter(channel=channel):
        ChannelDay.objects.create(day=row.day, channel=channel, opens=row.opens, clicks=row.clicks,
                                  conversions=row.conversions, revenue=row.revenue)


def test_new_installation_shows_the_getting_started_checklist(client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    html = client.get("/").content.decode()
    assert 'id="getting-started"' in html
    for step, url in (("Add a sender", "/providers/"), ("Import contacts", "/contacts/imports/"),
                      ("Make a segment", "/contacts/segments/new/"), ("Write content", "/publishing/content/new/"),
                      ("Send an email", "/email/campaigns/")):
        assert f'<a href="{url}">{step}</a>' in html
    assert "Nothing needs you right now" in html and "No email or campaign is running" in html


def test_an_admin_is_sent_to_add_the_sender_in_the_back_office(client, make_user):
    client.force_login(make_user("ada", role="Admin"))
    html = client.get("/").content.decode()
    assert '<a href="/providers/new/?capability=email_sending">Add a sender</a>' in html


def test_a_placeholder_sender_does_not_tick_off_adding_a_sender(client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    ProviderAccountFactory(capability=Capability.EMAIL_SENDING, adapter="noop_email_sending")
    ProviderAccountFactory(capability=Capability.EMAIL_SENDING, adapter="test_sending", enabled=False)
    html = client.get("/").content.decode()
    assert '<a href="/providers/">Add a sender</a> <span class="muted">(a real, enabled email sending account; ' \
           'a placeholder sends nothing)</span>' in html
    ProviderAccountFactory(capability=Capability.EMAIL_SENDING, adapter="test_sending")
    assert '<span class="ok">Done:</span> Add a sender' in client.get("/").content.decode()


def test_steps_tick_themselves_off_and_the_checklist_goes_when_all_are_done(client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    ContactFactory()
    SegmentFactory()
    html = client.get("/").content.decode()
    assert "<span class=\"ok\">Done:</span> Import contacts" in html
    assert "<span class=\"ok\">Done:</span> Make a segment" in html
    assert '<a href="/publishing/content/new/">Write content</a>' in html
    ProviderAccountFactory(capability=Capability.EMAIL_SENDING, adapter="test_sending")
    ContentFactory()
    EmailCampaignFactory(status=SendStatus.COMPLETED)
    assert 'id="getting-started"' not in client.get("/").content.decode()


def test_overview_lists_what_needs_the_person_and_what_runs(client, make_user):
    author = make_user("writer", role="Marketer")
    _busy_installation(author)
    client.force_login(make_user("ada", role="Approver"))
    html = client.get("/").content.decode()
    assert '<a href="/publishing/approvals/">1 item waiting for your approval</a>' in html
    assert "failed</span>" in html and "needs checking</span>" in html
    assert "1 failed</span>, <span class=\"warn\">1 to check (outcome unknown)" in html
    assert "Provider Apollo 0" in html and "is <span class=\"bad\">down</span>" in html
    assert "Import leads-0.csv</a>: <span class=\"warn\">2 rows in error" in html
    assert 'aria-label="Email “Newsletter 0” sent">75%' in html  # 3 of 4 no longer waiting
    assert 'aria-label="Campaign “Failing 0” posts settled"' in html


def test_this_weeks_figures_come_from_the_roll_ups_with_their_change(client, make_user):
    _busy_installation(make_user("writer", role="Marketer"))
    client.force_login(make_user("mia", role="Marketer"))
    html = client.get("/").content.decode()
    week = html[html.index('id="this-week"'):html.index('id="system-health"')]
    assert "▲ 50.0%" in week.split('data-metric="clicks"')[1].split("</tr>")[0]
    assert "▲ 50.0%" in week.split('data-metric="revenue"')[1].split("</tr>")[0]
    assert "· 0.0%" in week.split('data-metric="conversions"')[1].split("</tr>")[0]


def test_a_marketer_is_not_sent_to_approvals(client, make_user):
    _busy_installation(make_user("writer", role="Marketer"))
    client.force_login(make_user("mia", role="Marketer"))
    assert "waiting for your approval" not in client.get("/").content.decode()


def test_overview_query_count_does_not_grow_with_the_data(client, make_user, django_assert_num_queries):
    author = make_user("writer", role="Marketer")
    client.force_login(make_user("ada", role="Approver"))
    _busy_installation(author)
    _sms_sends_under_way(1)
    client.get("/")
    with django_assert_num_queries(QUERIES):
        client.get("/")
    _busy_installation(author, extra=3, first=1)
    _sms_sends_under_way(3, first=1)
    with django_assert_num_queries(QUERIES):
        client.get("/")


def _sms_sends_under_way(count: int, first: int = 0) -> None:
    """SMS sends are work that needs an SMS provider: the overview's provider summary names them."""
    from publishing.sms.models import SmsSend
    from publishing.tests.factories import CampaignFactory

    for n in range(first, first + count):
        SmsSend.objects.create(campaign=CampaignFactory(name=f"Texts {n}"), body="Hi", status="sending")


# 23 for the overview (one per kind of work that needs a provider: email and SMS sends, posting jobs,
# enrichment runs twice; the week's figures in two roll-up reads, the top campaigns ranked with their
# names, analytics' overview) and 8 for stuck work, one per kind of work (aicmo_site.stuck) and the
# oldest open or click not yet counted
QUERIES = 31


def test_someone_without_a_role_sees_no_work_and_no_checklist(client, make_user):
    _busy_installation(make_user("writer", role="Marketer"))
    client.force_login(make_user("newcomer"))
    html = client.get("/").content.decode()
    assert "none yet: ask an administrator" in html
    assert "Newsletter 0" not in html and "leads-0.csv" not in html and "Apollo 0" not in html
    assert 'id="getting-started"' not in html
