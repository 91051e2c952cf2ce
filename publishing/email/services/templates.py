"""Email templates: writing them (checked in the sandbox), deleting unused ones, previewing, test sends and
the checklist."""

from django.db import transaction
from django.db.models import Q

from aicmo_site.errors import ConflictError, DomainError
from crm.models import Contact
from gateways.capabilities import OutgoingEmail
from gateways.errors import GatewayError
from publishing.email.composing import content_of, list_unsubscribe_headers, render_for
from publishing.email.layouts import template_html_source
from publishing.email.models import EmailCampaign, EmailTemplate
from publishing.email.recipients import recipients_for
from publishing.email.rendering import Recipient, RenderedEmail, check_template
from publishing.email.services.gateway import email_gateway

TEMPLATE_FIELDS = ("name", "subject", "preheader", "format", "layout", "html_body", "text_body")


def check_template_sources(template: EmailTemplate) -> None:
    """Raise DomainError naming the field at fault: the body is checked as it is sent, in its layout and
    compiled from MJML."""
    for name in ("subject", "preheader", "text_body"):
        check_template(getattr(template, name) or "", field_name=name)
    check_template(template_html_source(template), field_name="html_body")


@transaction.atomic
def email_template_create(*, by=None, **fields) -> EmailTemplate:
    unknown = set(fields) - set(TEMPLATE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown template fields: {', '.join(sorted(unknown))}.", code="invalid_fields")
    template = EmailTemplate(created_by=by, **fields)
    check_template_sources(template)
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def email_template_update(*, template: EmailTemplate, **fields) -> EmailTemplate:
    unknown = set(fields) - set(TEMPLATE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown template fields: {', '.join(sorted(unknown))}.", code="invalid_fields")
    for name, value in fields.items():
        setattr(template, name, value)
    check_template_sources(template)
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def email_template_delete(*, template: EmailTemplate) -> None:
    """Refused while a send uses the template, as its own or as an A/B variant's: a draft would lose its
    content and a sent one its record of what went out. Locking the row first makes a send set up with
    it meanwhile (its foreign key check needs a share lock on the row) wait for us and then fail."""
    EmailTemplate.objects.select_for_update().filter(pk=template.pk).first()
    # By id first: the variants' join repeats a send, and two sends may share a campaign name.
    using = EmailCampaign.objects.filter(Q(template=template) | Q(ab_test__variants__template=template))
    sends = list(EmailCampaign.objects.filter(pk__in=using.values("pk")).order_by("campaign__name")
                 .values_list("campaign__name", flat=True))
    if sends:
        raise ConflictError(
            f"“{template.name}” is used by {len(sends)} send{'s' if len(sends) != 1 else ''} "
            f"({', '.join(sends)}): it cannot be deleted.", code="template_in_use", extra={"sends": sends})
    template.delete()


def _recipient(contact: Contact | None, blocks) -> Recipient:
    if contact is None:
        return Recipient(email="someone@example.com", first_name="", last_name="")
    contact = Contact.objects.select_related("company").prefetch_related("tags").get(pk=contact.pk)
    return recipients_for([contact], blocks)[contact.pk]


def email_template_preview(*, template: EmailTemplate, contact: Contact | None = None, subject: str = "",
                           preheader: str = "", campaign_name: str = "Preview") -> RenderedEmail:
    """The email as this contact would read it (links untracked, unsubscribe pointing nowhere)."""
    content = content_of(template, subject_override=subject, preheader_override=preheader)
    return render_for(content, _recipient(contact, content.blocks), campaign_name=campaign_name, delivery_id=None)


def email_template_test_send(*, template: EmailTemplate, to: list[str], contact: Contact | None = None,
                             from_email: str = "", reply_to: str = "", subject: str = "") -> list[str]:
    """Sends the preview to the given addresses, marked as a test; returns the provider's message ids."""
    if not to:
        raise DomainError("Give at least one address to send the test to.", code="no_recipients")
    if len(to) > 20:
        raise DomainError("A test goes to at most 20 addresses.", code="too_many_recipients")
    rendered = email_template_preview(template=template, contact=contact, subject=subject)
    ids = []
    try:
        with email_gateway().open_email_session() as session:
            for address in to:
                receipt = session.send(OutgoingEmail(
                    to=address, subject=f"[Test] {rendered.subject}", text=rendered.text, html=rendered.html,
                    from_email=from_email, reply_to=reply_to, headers=list_unsubscribe_headers(0),
                ))
                ids.append(receipt.message_id)
    except GatewayError as exc:
        raise DomainError(f"The test could not be sent: {exc}", code="test_send_failed")
    return ids
