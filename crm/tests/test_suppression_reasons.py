"""Why an address is suppressed: complaints and erasures carry their own reason."""

from importlib import import_module

import pytest
from django.apps import apps

from crm import services
from crm.choices import EventKind, SuppressionReason
from crm.imports.validating import erasure_hash
from crm.models import Suppression
from crm.privacy import contact_erase
from crm.tests.factories import ContactFactory, SuppressionFactory

pytestmark = pytest.mark.django_db


def reason_of(value: str) -> str:
    return Suppression.objects.values_list("reason", flat=True).get(value=value)


def test_a_complaint_suppresses_with_reason_complained():
    contact = ContactFactory(email="ann@example.com")
    services.contact_mark_complained(contact=contact, detail="abuse report")
    assert reason_of("ann@example.com") == SuppressionReason.COMPLAINED


def test_a_complaint_event_suppresses_with_reason_complained():
    contact = ContactFactory(email="bob@example.com")
    services.contact_record_event(contact=contact, kind=EventKind.COMPLAINED, channel="email")
    assert reason_of("bob@example.com") == SuppressionReason.COMPLAINED


def test_an_unsubscribe_before_the_complaint_keeps_its_reason():
    contact = ContactFactory(email="cat@example.com")
    services.contact_unsubscribe(contact=contact, source="email:page")
    services.contact_mark_complained(contact=contact)
    assert reason_of("cat@example.com") == SuppressionReason.UNSUBSCRIBED


def test_an_erasure_suppresses_the_hash_with_reason_erased(make_user):
    contact = ContactFactory(email="dan@example.com")
    contact_erase(contact=contact, by=make_user("dpo"), confirm="dan@example.com")
    assert reason_of(erasure_hash("dan@example.com")) == SuppressionReason.ERASED


def test_the_migration_renames_earlier_complaints_and_erasures_by_their_source():
    migration = import_module("crm.migrations.0004_topics_and_suppression_reasons")
    complaint = SuppressionFactory(reason="unsubscribed", source="email:complaint")
    event_complaint = SuppressionFactory(reason="unsubscribed", source="email:complained")
    unsubscribe = SuppressionFactory(reason="unsubscribed", source="email:page")
    erasure = SuppressionFactory(reason="manual", source=migration.ERASURE_SOURCE)
    by_hand = SuppressionFactory(reason="manual", source="admin:root")
    migration.name_the_reasons(apps, None)
    assert [reason_of(s.value) for s in (complaint, event_complaint, unsubscribe, erasure, by_hand)] == [
        "complained", "complained", "unsubscribed", "erased", "manual"]
    migration.restore_the_reasons(apps, None)
    assert [reason_of(s.value) for s in (complaint, event_complaint, unsubscribe, erasure, by_hand)] == [
        "unsubscribed", "unsubscribed", "unsubscribed", "manual", "manual"]
