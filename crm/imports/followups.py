"""Where an import's contacts go next, offered by apps above crm: crm knows no journeys, so the app that
has them (automation) registers the choices and listens to contacts_imported."""

from collections.abc import Callable

from django.db.models import QuerySet
from django.dispatch import Signal

from crm.models import Contact, ImportRun

# Sent inside each chunk's transaction with sender=ImportRun, run=the run, created= and updated=querysets of
# the chunk's contacts: what a listener writes commits with the chunk, so a resumed import (which applies
# again only the chunks that did not commit) never acts twice on a contact, nor skips one.
contacts_imported = Signal()
_journey_choices: list[Callable[[], list[tuple[int, str]]]] = []


def journeys_offer(choices: Callable[[], list[tuple[int, str]]]) -> None:
    """Registers the journeys (id, name) an import may put its contacts in."""
    if choices not in _journey_choices:
        _journey_choices.append(choices)


def journey_choices() -> list[tuple[int, str]]:
    return [choice for offer in _journey_choices for choice in offer()]


def contacts_imported_send(run: ImportRun, *, created: QuerySet[Contact], updated: QuerySet[Contact]) -> None:
    contacts_imported.send(sender=ImportRun, run=run, created=created, updated=updated)
