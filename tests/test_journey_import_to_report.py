"""A marketer's whole loop through the real parts: a CSV import with a bad row, a saved segment,
an email campaign sent by a real worker through a real SMTP server, a click on a tracked link,
and the campaign report counting what happened."""

import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from aicmo_site.testing.worker import wait_for
from analytics.reports import campaign_report
from analytics.services import rollup_fold
from crm.choices import LifecycleStatus
from crm.imports import import_run_create, import_run_start
from crm.models import Contact, Segment
from publishing.email.choices import SendStatus
from publishing.email.models import EmailCampaign
from publishing.email.services import email_campaign_send
from publishing.email.services.tracking import fold_tracking_hits
from publishing.tests.email.factories import EmailCampaignFactory, EmailTemplateFactory, smtp_account
from publishing.tests.factories import CampaignFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CSV = (
    "Email Address,First Name,Last Name,Company Name\n"
    "ann@acme.example,Ann,Lee,Acme\n"
    "not-an-email,Bad,Row,Nowhere\n"
    "bob@globex.example,Bob,Ray,Globex\n"
    "cat@initech.example,Cat,Moe,Initech\n"
)


def test_import_segment_send_click_and_report(qcluster, smtp_server, settings):
    settings.PUBLIC_BASE_URL = "https://aicmo.example"
    run = import_run_start(run=import_run_create(upload=ContentFile(CSV.encode(), name="webinar.csv"),
                                                tag="spring-webinar"))
    run.refresh_from_db()
    assert (run.created_count, run.failed_count) == (3, 1)
    with run.error_report.open("rb") as report:
        assert b"not-an-email" in report.read()

    segment = Segment.objects.create(
        name="Spring webinar", rules={"op": "and", "rules": [
            {"field": "tags", "operator": "any", "value": ["spring-webinar"]}]})
    smtp_account(smtp_server)
    send = EmailCampaignFactory(campaign=CampaignFactory(audience={"segment_ids": [segment.pk]}),
                                template=EmailTemplateFactory())
    qcluster(PUBLIC_BASE_URL="https://aicmo.example", EMAIL_BATCH_SIZE="10")
    email_campaign_send(email_campaign=send)
    wait_for(lambda: EmailCampaign.objects.get(pk=send.pk).status == SendStatus.COMPLETED, timeout=90,
             message="the campaign to be sent")

    arrived = {mail.rcpt_tos[0]: mail.message() for mail in smtp_server.messages}
    assert sorted(arrived) == ["ann@acme.example", "bob@globex.example", "cat@initech.example"]
    html = arrived["ann@acme.example"].get_body(("html",)).get_content()
    assert "Hi Ann," in html
    click = re.search(r'https://aicmo\.example(/t/c/[^"]+)"', html).group(1)
    response = Client().get(click)
    assert response.status_code == 302
    assert response["Location"].startswith("https://example.org/launch")
    fold_tracking_hits()
    assert Contact.objects.get(email="ann@acme.example").lifecycle_status == LifecycleStatus.ENGAGED

    rollup_fold()
    totals = campaign_report(send.campaign_id)["totals"]
    assert (totals["sent"], totals["clicks"], totals["reach"]) == (3, 1, 3)
