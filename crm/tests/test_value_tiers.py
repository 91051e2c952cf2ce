from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Contact
from crm.segments import SegmentRulesError, rules_q
from crm.services import value_tiers_recompute
from crm.tasks import value_tiers_recompute_all
from crm.tests.factories import ContactFactory, EngagementEventFactory

pytestmark = pytest.mark.django_db


def paid(contact, *values):
    for value in values:
        EngagementEventFactory(contact=contact, kind="converted", value=Decimal(value))


def tiers():
    return dict(Contact.objects.values_list("email", "value_tier"))


def test_configured_thresholds_give_each_tier_and_refunds_subtract(settings):
    settings.CRM_VALUE_TIER_THRESHOLDS = "100, 500, 2000"
    people = {email: ContactFactory(email=email) for email in ("a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io")}
    paid(people["a@x.io"], "20")
    paid(people["b@x.io"], "150", "-40")
    paid(people["c@x.io"], "500")
    paid(people["d@x.io"], "2500")
    paid(people["e@x.io"], "30", "-30")
    EngagementEventFactory(contact=people["e@x.io"], kind="opened")
    value_tiers_recompute_all()
    assert tiers() == {"a@x.io": "bronze", "b@x.io": "silver", "c@x.io": "gold", "d@x.io": "platinum", "e@x.io": ""}
    assert Contact.objects.get(email="b@x.io").lifetime_value == Decimal("110.00")


def test_quantiles_when_no_thresholds_are_set(settings):
    settings.CRM_VALUE_TIER_THRESHOLDS = ""
    for n in range(1, 21):
        paid(ContactFactory(email=f"p{n:02}@x.io"), str(n * 10))
    ContactFactory(email="never@x.io")
    value_tiers_recompute()
    got = tiers()
    assert got["never@x.io"] == ""
    # 20 paying contacts: Silver from the 11th (50%), Gold from the 17th (80%), Platinum the 20th (95%).
    assert [got[f"p{n:02}@x.io"] for n in (1, 10, 11, 16, 17, 19, 20)] == [
        "bronze", "bronze", "silver", "silver", "gold", "gold", "platinum"]


def test_recompute_is_set_based_whatever_the_number_of_contacts(settings):
    settings.CRM_VALUE_TIER_THRESHOLDS = "100,500,2000"
    for _ in range(30):
        paid(ContactFactory(), "120")
    with CaptureQueriesContext(connection) as queries:
        value_tiers_recompute()
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(writes) == 2
    assert set(tiers().values()) == {"silver"}
    # Nothing changed: a second run touches no row.
    assert value_tiers_recompute() == 0


def test_recompute_of_one_contact_leaves_the_others(settings):
    settings.CRM_VALUE_TIER_THRESHOLDS = "100,500,2000"
    one, other = ContactFactory(email="one@x.io"), ContactFactory(email="other@x.io")
    paid(one, "600")
    paid(other, "600")
    value_tiers_recompute(contact_ids=[one.pk])
    assert tiers() == {"one@x.io": "gold", "other@x.io": ""}


@pytest.mark.parametrize("raw", ["100,50,2000", "a,b,c", "100,500", "0,1,2"])
def test_bad_thresholds_fail_with_what_to_set(settings, raw):
    settings.CRM_VALUE_TIER_THRESHOLDS = raw
    with pytest.raises(ImproperlyConfigured, match="CRM_VALUE_TIER_THRESHOLDS"):
        value_tiers_recompute()


def test_segment_rule_on_value_tier():
    ContactFactory(email="g@x.io", value_tier="gold")
    ContactFactory(email="s@x.io", value_tier="silver")
    ContactFactory(email="n@x.io")
    rule = {"op": "and", "rules": [{"field": "value_tier", "operator": "in", "value": ["gold", "platinum"]}]}
    assert list(Contact.objects.filter(rules_q(rule)).values_list("email", flat=True)) == ["g@x.io"]
    rule["rules"][0]["operator"] = "not_in"
    assert sorted(Contact.objects.filter(rules_q(rule)).values_list("email", flat=True)) == ["n@x.io", "s@x.io"]
    with pytest.raises(SegmentRulesError, match="unknown value_tier: diamond"):
        rules_q({"op": "and", "rules": [{"field": "value_tier", "operator": "in", "value": ["diamond"]}]})


def test_api_shows_lifetime_value_and_tier_read_only(api_as):
    contact = ContactFactory(value_tier="gold", lifetime_value=Decimal("900"), stripe_customer_id="cus_Z")
    client = api_as("Marketer")
    body = client.get(f"/api/contacts/{contact.pk}/").json()
    assert (body["value_tier"], body["lifetime_value"], body["stripe_customer_id"]) == ("gold", "900.00", "cus_Z")
    client.patch(f"/api/contacts/{contact.pk}/", {"value_tier": "platinum", "lifetime_value": "1"}, format="json")
    contact.refresh_from_db()
    assert (contact.value_tier, contact.lifetime_value) == ("gold", Decimal("900"))
    listed = client.get("/api/contacts/?value_tier=gold").json()
    assert [row["id"] for row in listed["results"]] == [contact.pk]


def test_contact_pages_show_the_tier(client, make_user):
    contact = ContactFactory(email="vip@x.io", value_tier="platinum", lifetime_value=Decimal("12000"))
    ContactFactory(email="free@x.io")
    client.force_login(make_user("m", role="Marketer"))
    detail = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Platinum" in detail and "12000.00" in detail
    listing = client.get("/contacts/?value_tier=platinum").content.decode()
    assert "vip@x.io" in listing and "free@x.io" not in listing and "Platinum" in listing
