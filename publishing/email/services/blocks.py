"""Dynamic blocks of email templates: each write checks the block's HTML in the sandbox, as a
template's body is checked, so a syntax error is refused here rather than failing a send."""

from collections.abc import Iterable

from django.db import transaction

from aicmo_site.errors import DomainError
from publishing.email.models import EmailBlock, EmailTemplate
from publishing.email.rendering import check_template

BLOCK_FIELDS = ("slot", "title", "html", "position")
AUDIENCES = ("tags", "segments", "topics")


def _save(block: EmailBlock, audiences: dict[str, Iterable | None]) -> EmailBlock:
    check_template(block.html or "", field_name="html")
    block.full_clean()
    block.save()
    for name, chosen in audiences.items():
        if chosen is not None:
            getattr(block, name).set(chosen)
    return block


def _known(fields: dict) -> None:
    unknown = set(fields) - set(BLOCK_FIELDS)
    if unknown:
        raise DomainError(f"Unknown block fields: {', '.join(sorted(unknown))}.", code="invalid_fields")


@transaction.atomic
def email_block_create(*, template: EmailTemplate, tags: Iterable | None = None, segments: Iterable | None = None,
                       topics: Iterable | None = None, **fields) -> EmailBlock:
    """A block in `{{ blocks.<slot> }}` of the template, shown to contacts with any of the tags,
    segments or topics given (none of the three: everyone)."""
    _known(fields)
    return _save(EmailBlock(template=template, **fields), {"tags": tags, "segments": segments, "topics": topics})


@transaction.atomic
def email_block_update(*, block: EmailBlock, tags: Iterable | None = None, segments: Iterable | None = None,
                       topics: Iterable | None = None, **fields) -> EmailBlock:
    """Change the given fields; an audience left out (None) keeps its members, an empty one clears them."""
    _known(fields)
    for name, value in fields.items():
        setattr(block, name, value)
    return _save(block, {"tags": tags, "segments": segments, "topics": topics})


@transaction.atomic
def email_block_delete(*, block: EmailBlock) -> None:
    block.delete()
