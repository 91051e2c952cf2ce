"""The brand kit and the stored base layouts templates extend: writing them, checked in the sandbox."""

from django.db import transaction

from aicmo_site.errors import ConflictError, DomainError
from publishing.email.brand import BRAND_KIT_PK, brand_kit, logo_usable
from publishing.email.layouts import html_source, layout_source
from publishing.email.models import BrandKit, EmailLayout
from publishing.email.rendering import check_template

BRAND_KIT_FIELDS = ("name", "logo", "primary_colour", "secondary_colour", "text_colour", "background_colour",
                    "heading_font", "body_font", "footer_address", "website_url", "linkedin_url", "x_url",
                    "facebook_url", "instagram_url", "youtube_url")
LAYOUT_FIELDS = ("name", "format", "body")


def _unknown(fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise DomainError(f"Unknown fields: {', '.join(sorted(unknown))}.", code="invalid_fields")


@transaction.atomic
def brand_kit_update(*, by=None, **fields) -> BrandKit:
    """Creates the one kit on first save. The logo must be an approved image of the asset library."""
    _unknown(fields, BRAND_KIT_FIELDS)
    BrandKit.objects.select_for_update().filter(pk=BRAND_KIT_PK).first()
    kit = brand_kit()
    for name, value in fields.items():
        setattr(kit, name, value)
    if kit.logo_id is not None and not logo_usable(kit.logo):
        raise DomainError("logo: choose an approved image of the asset library.", code="logo_not_approved",
                          extra={"field": "logo"})
    kit.updated_by = by
    kit.full_clean()
    kit.save()
    return kit


def email_layout_check(layout: EmailLayout) -> None:
    """The layout alone, then every template written in it, as each would be sent."""
    try:
        check_template(layout_source(format=layout.format, body=layout.body), field_name="body")
    except DomainError as exc:
        raise DomainError(f"body: {exc.message.removeprefix('body: ')}", code=exc.code, extra={"field": "body"})
    if layout.pk is None:
        return
    broken = []
    for template in layout.templates.all():
        try:
            check_template(html_source(format=template.format, body=template.html_body, layout=layout),
                           field_name="html_body")
        except DomainError as exc:
            broken.append(f"“{template.name}” ({exc.message})")
    if broken:
        raise DomainError(f"body: templates written in this layout would no longer read: {'; '.join(broken)}",
                          code="layout_breaks_templates", extra={"field": "body"})


@transaction.atomic
def email_layout_create(*, by=None, **fields) -> EmailLayout:
    _unknown(fields, LAYOUT_FIELDS)
    layout = EmailLayout(created_by=by, **fields)
    email_layout_check(layout)
    layout.full_clean()
    layout.save()
    return layout


@transaction.atomic
def email_layout_update(*, layout: EmailLayout, **fields) -> EmailLayout:
    _unknown(fields, LAYOUT_FIELDS)
    EmailLayout.objects.select_for_update().filter(pk=layout.pk).first()
    for name, value in fields.items():
        setattr(layout, name, value)
    email_layout_check(layout)
    layout.full_clean()
    layout.save()
    return layout


@transaction.atomic
def email_layout_delete(*, layout: EmailLayout) -> None:
    EmailLayout.objects.select_for_update().filter(pk=layout.pk).first()
    names = list(layout.templates.order_by("name").values_list("name", flat=True))
    if names:
        raise ConflictError(f"“{layout.name}” is the layout of {len(names)} template{'s' if len(names) != 1 else ''} "
                            f"({', '.join(names)}): it cannot be deleted.", code="layout_in_use",
                            extra={"templates": names})
    layout.delete()
