"""Gathering what rendering needs about many contacts in a fixed number of queries."""

from crm.models import Contact, Segment
from crm.selectors import segment_queryset
from publishing.email.rendering import DynamicBlockRule, Recipient


def recipients_for(contacts: list[Contact], blocks: list[DynamicBlockRule], *,
                   with_tags: bool = True) -> dict[int, Recipient]:
    """Contacts must come with company selected and, `with_tags`, tags prefetched (without, every recipient
    has no tags and none are read); segments are asked once each, and the topics of all the contacts in one
    query."""
    segment_ids = set().union(*(block.segment_ids for block in blocks)) if blocks else set()
    members: dict[int, set[int]] = {}
    names: dict[int, str] = {}
    contact_ids = [contact.pk for contact in contacts]
    for segment in Segment.objects.filter(pk__in=segment_ids):
        names[segment.pk] = segment.name
        for contact_id in segment_queryset(segment).filter(pk__in=contact_ids).values_list("pk", flat=True):
            members.setdefault(contact_id, set()).add(segment.pk)
    topics: dict[int, list[tuple[int, str]]] = {}
    for contact_id, topic_id, slug in Contact.topics.through.objects.filter(contact_id__in=contact_ids).values_list(
            "contact_id", "topic_id", "topic__slug"):
        topics.setdefault(contact_id, []).append((topic_id, slug))
    return {
        contact.pk: Recipient.from_contact(
            contact, tags=[tag.name for tag in contact.tags.all()] if with_tags else [],
            segment_ids=members.get(contact.pk, ()),
            segment_names=sorted(names[s] for s in members.get(contact.pk, ())), topics=topics.get(contact.pk, ()),
        )
        for contact in contacts
    }
