"""Telling apps above crm that contacts are getting a tag, whatever path tags them."""

from django.db.models import Exists, OuterRef, QuerySet
from django.dispatch import Signal

from crm.models import Contact, Tag

# Sent inside a tagging transaction just before the links are written, with sender=Tag, tag=the Tag and
# contacts=a queryset of the contacts that do not have it yet, by every path that tags (pages, the API,
# bulk actions, imports, journeys): apps above crm (journeys starting on a tag) act on the whole set in
# a statement or two, and their writes commit with the tags or not at all.
tags_adding = Signal()
# Sent with sender=Tag and names=tag names by a path about to announce many tags at once (an import's
# chunk): each receiver of tags_adding that acts on some tags only answers those of the names it acts on,
# so the others are not announced (a journey query per tag and chunk was a tenth of a chunk's small
# statements). With no receiver here, every name is announced.
tags_watched = Signal()


def tags_adding_send(tag: Tag, contacts: QuerySet, *, untagged: bool = False) -> None:
    """Tells the listeners which of the contacts are about to get the tag: those without it yet, or all
    of them when the caller knows none has it (`untagged`: contacts just created)."""
    if tags_adding.has_listeners(Tag):
        if not untagged:
            contacts = contacts.exclude(Exists(Contact.tags.through.objects.filter(contact=OuterRef("pk"),
                                                                                   tag_id=tag.pk)))
        tags_adding.send(sender=Tag, tag=tag, contacts=contacts)


def tags_watched_among(names: list[str]) -> list[str]:
    """The names, in their order, that a tags_adding listener acts on (see tags_watched)."""
    if not names or not tags_adding.has_listeners(Tag):
        return []
    answers = tags_watched.send(sender=Tag, names=names)
    if not answers:
        return list(names)
    watched = set().union(*(answer for _, answer in answers))
    return [name for name in names if name in watched]
