"""Topics people can follow, and each contact's topics of interest (what personalised newsletters read)."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from aicmo_site.errors import DomainError
from crm.choices import EventKind
from crm.models import Contact, Topic
from crm.services.engagement import _event_create

TOPIC_FIELDS = ("name", "slug", "description", "public")


def _save(topic: Topic) -> Topic:
    topic.slug = topic.slug or slugify(topic.name)[:60]
    if not topic.slug:
        raise DomainError("A topic needs a name with letters or digits, or a slug.", code="invalid_topic",
                          extra={"fields": {"slug": ["Give a slug."]}})
    clash = Topic.objects.exclude(pk=topic.pk).filter(slug=topic.slug).first() or \
        Topic.objects.exclude(pk=topic.pk).filter(name__iexact=topic.name).first()
    if clash:
        field = "slug" if clash.slug == topic.slug else "name"
        raise DomainError(f"A topic with this {field} exists already.", code="topic_exists",
                          extra={"fields": {field: [f"Already used by {clash.name}."]}, "id": clash.pk})
    topic.full_clean(validate_unique=False)
    topic.save()
    return topic


@transaction.atomic
def topic_create(*, name: str, slug: str = "", description: str = "", public: bool = True) -> Topic:
    return _save(Topic(name=name.strip(), slug=slug.strip(), description=description, public=public))


@transaction.atomic
def topic_update(*, topic: Topic, **fields) -> Topic:
    unknown = set(fields) - set(TOPIC_FIELDS)
    if unknown:
        raise DomainError(f"Unknown topic fields: {', '.join(sorted(unknown))}.", code="invalid_fields")
    for name, value in fields.items():
        setattr(topic, name, value.strip() if isinstance(value, str) and name in ("name", "slug") else value)
    return _save(topic)


@transaction.atomic
def topic_delete(*, topic: Topic) -> None:
    topic.delete()


@transaction.atomic
def contact_topics_set(*, contact: Contact, topics: Iterable[Topic], source: str, by=None,
                       public_only: bool = False) -> Contact:
    """Makes `topics` the contact's topics and records what changed on their timeline.

    With `public_only` (the preference centre, where the person answers for themselves) only public
    topics are offered and changed: topics the team set that are not public stay as they are.
    """
    chosen = {topic.pk: topic for topic in topics}
    if public_only and any(not topic.public for topic in chosen.values()):
        raise DomainError("Only public topics can be chosen here.", code="topic_not_public",
                          extra={"fields": {"topics": ["Only public topics can be chosen."]}})
    held = {topic.pk: topic for topic in contact.topics.all()}
    if public_only:
        chosen.update({pk: topic for pk, topic in held.items() if not topic.public})
    added = [chosen[pk] for pk in chosen.keys() - held.keys()]
    removed = [held[pk] for pk in held.keys() - chosen.keys()]
    if not added and not removed:
        return contact
    if removed:
        contact.topics.remove(*removed)
    if added:
        contact.topics.add(*added)
    Contact.objects.filter(pk=contact.pk).update(updated_at=timezone.now())
    _event_create(contact=contact, kind=EventKind.NOTE, source_kind="topics", detail={
        "topics_added": sorted(topic.slug for topic in added),
        "topics_removed": sorted(topic.slug for topic in removed),
        "source": source, "by": by.get_username() if by else "",
    })
    return contact
