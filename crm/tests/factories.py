"""Factories making valid CRM objects by default; a test states only what matters to it."""

import factory
from django.utils import timezone

from crm import models
from crm.choices import EventKind, SuppressionKind, SuppressionReason
from crm.services import contact_list_add


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Company
        django_get_or_create = ("domain",)

    domain = factory.Sequence(lambda n: f"company{n}.example")
    name = factory.Sequence(lambda n: f"Company {n}")
    industry = "Software"
    size = "11-50"
    website = factory.LazyAttribute(lambda company: f"https://{company.domain}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag-{n}")


class ContactFactory(factory.django.DjangoModelFactory):
    """Pass `tags=[tag, ...]` to tag the new contact."""

    class Meta:
        model = models.Contact
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    domain = factory.LazyAttribute(lambda contact: contact.email.rsplit("@", 1)[-1].lower())
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    job_title = "Marketing manager"
    source = "factory"

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.add(*extracted)


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    description = "Made by a test"
    rules = factory.LazyFunction(lambda: {"op": "and", "rules": []})


class EngagementEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.EngagementEvent

    contact = factory.SubFactory(ContactFactory)
    kind = EventKind.OPENED
    occurred_at = factory.LazyFunction(timezone.now)
    channel = "email"


class SuppressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Suppression
        django_get_or_create = ("kind", "value")

    kind = SuppressionKind.EMAIL
    value = factory.Sequence(lambda n: f"blocked{n}@example.com")
    reason = SuppressionReason.MANUAL
    source = "factory"


class LifecycleTransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.LifecycleTransition

    contact = factory.SubFactory(ContactFactory)
    from_status = "new"
    to_status = "enriched"
    by_system = "factory"


class EnrichmentRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.EnrichmentRecord

    contact = factory.SubFactory(ContactFactory)
    provider = "apollo"
    fields = factory.LazyFunction(lambda: {"job_title": "Head of Growth"})
    raw = factory.LazyFunction(dict)


class EnrichmentRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.EnrichmentRun

    scope = factory.LazyFunction(lambda: {"all_new": True})


class ContactListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ContactList
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"List {n}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            contact_list_add(contact_list=self, contacts=extracted)
