"""Setting up a send from the back office in one step: its campaign (chosen or new) and audience, the
email itself, its A/B test and its schedule, all or nothing."""

from django.db import transaction

from aicmo_site.errors import ConflictError
from publishing.email.models import ABTest, EmailCampaign
from publishing.email.services.ab_tests import ab_test_create
from publishing.email.services.campaigns import email_campaign_schedule, email_campaign_set_up
from publishing.services import campaign_create, campaign_update


def _same(audience: dict) -> dict:
    """An audience in a form two can be compared in: the order of picks means nothing."""
    return {key: sorted(map(str, values)) for key, values in audience.items() if values}


@transaction.atomic
def email_send_plan(*, by, campaign=None, name: str = "", audience: dict, email: dict, ab_test: dict | None = None,
                    send_at=None) -> EmailCampaign:
    """`email`: email_campaign_set_up's fields; `ab_test`: ab_test_create's (variants, metric, …).
    Given the campaign of a send not yet started, changes that send: its A/B test is made anew."""
    audience = {key: value for key, value in audience.items() if value}
    existing = EmailCampaign.objects.filter(campaign=campaign).first() if campaign is not None else None
    if campaign is None:
        campaign = campaign_create(by=by, name=name, audience=audience)
    elif _same(audience) != _same(campaign.audience or {}):
        try:
            campaign = campaign_update(campaign=campaign, by=by, audience=audience)
        except ConflictError:
            raise ConflictError(f"“{campaign.name}” is under way: its audience can no longer change. Keep its "
                                "audience or start a new campaign for this send.", code="audience_locked")
    email_campaign = email_campaign_set_up(campaign=campaign, by=by, **email)
    # set_up refused a send already started, so no delivery can point at these variants yet.
    ABTest.objects.filter(email_campaign=email_campaign).delete()
    if ab_test:
        ab_test_create(email_campaign=email_campaign, **ab_test)
    if send_at is not None or (existing is not None and existing.send_at is not None):
        email_campaign = email_campaign_schedule(email_campaign=email_campaign, send_at=send_at, by=by)
    return email_campaign
