"""crm 0033: each contact's last activity filled from its latest event of activity, or the latest one data
retention removed, whichever is later; sendings, deliveries and bounces are no activity."""

import importlib
from datetime import UTC, datetime, timedelta

BEFORE = [("crm", "0032_contact_score_index")]
AFTER = [("crm", "0033_contact_last_activity")]
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_each_contact_gets_its_latest_activity(migrator, monkeypatch):
    apps = migrator(BEFORE)
    Contact, EngagementEvent = apps.get_model("crm", "Contact"), apps.get_model("crm", "EngagementEvent")
    opened, only_sent, removed_later, removed_earlier, never = (
        Contact.objects.create(email=f"{name}@example.com", domain="example.com")
        for name in ("opened", "sent", "removed-later", "removed-earlier", "never"))
    for contact, kind, hours in ((opened, "opened", 5), (opened, "clicked", 2), (opened, "sent", 1),
                                 (only_sent, "sent", 1), (only_sent, "delivered", 1), (only_sent, "bounced", 1),
                                 (removed_later, "replied", 9), (removed_earlier, "form_submit", 3)):
        EngagementEvent.objects.create(contact=contact, kind=kind, occurred_at=MONDAY - timedelta(hours=hours))
    Contact.objects.filter(pk=removed_later.pk).update(last_removed_activity_at=MONDAY)
    Contact.objects.filter(pk=removed_earlier.pk).update(last_removed_activity_at=MONDAY - timedelta(days=30))
    # The contacts filled over several id ranges.
    monkeypatch.setattr(importlib.import_module("crm.migrations.0033_contact_last_activity"), "BATCH", 2)

    apps = migrator(AFTER)

    found = dict(apps.get_model("crm", "Contact").objects.values_list("email", "last_activity_at"))
    assert found == {"opened@example.com": MONDAY - timedelta(hours=2), "sent@example.com": None,
                     "removed-later@example.com": MONDAY,
                     "removed-earlier@example.com": MONDAY - timedelta(hours=3), "never@example.com": None}
