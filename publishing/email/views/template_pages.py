"""Back-office pages of email templates: a list (search, sorting, pagination, the sends using each), the
form that writes one through the services (what they refuse shown on its field), a preview as any
contact beside the variables a template may use, and delete, confirmed first and refused while a send
uses the template."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from crm.models import Contact
from publishing.email import selectors
from publishing.email.dark_mode import dark_mode_findings, dark_preview
from publishing.email.forms import EmailPreviewForm, EmailTemplateForm
from publishing.email.models import EmailCampaign, EmailTemplate
from publishing.email.rendering import DOCUMENTED_VARIABLES
from publishing.email.services.templates import (
    TEMPLATE_FIELDS,
    email_template_create,
    email_template_delete,
    email_template_preview,
    email_template_update,
)
from publishing.email.views.pages import search_term

ORDERINGS = {"name": "Name", "-updated_at": "Last changed", "-send_count": "Most sends"}


@login_required
@permission_required("publishing.view_emailtemplate", raise_exception=True)
def template_list(request):
    ordering = request.GET.get("ordering")
    queryset = selectors.email_templates_with_send_counts(search=search_term(request),
                                                          ordering=ordering if ordering in ORDERINGS else "name")
    page = Paginator(queryset, 25).get_page(request.GET.get("page"))
    return render(request, "publishing/email/template_list.html", {"page": page, "orderings": ORDERINGS})


def _edit(request, template: EmailTemplate | None):
    """The form of a new template (None) or a saved one; a POST goes through the services, and what they
    refuse is shown on the field it concerns."""
    # Unbound from the template itself, so a refused change leaves the saved one as it was for the page.
    form = EmailTemplateForm(request.POST or None,
                             initial=model_to_dict(template, fields=TEMPLATE_FIELDS) if template else None)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in TEMPLATE_FIELDS}
        try:
            saved = (email_template_create(by=request.user, **fields) if template is None
                     else email_template_update(template=template, **fields))
        except DomainError as exc:
            field = exc.extra.get("field")
            # The sandbox names the field in its message for the API; beside the field that repeats it.
            form.add_error(field, exc.message.removeprefix(f"{field}: ") if field else exc.message)
        else:
            messages.success(request, f"Template “{saved.name}” {'created' if template is None else 'saved'}.")
            return redirect("email-template-detail", saved.pk)
    sends = selectors.email_campaign_list().filter(template=template) if template else EmailCampaign.objects.none()
    return render(request, "publishing/email/template_form.html", {
        "form": form, "template": template, "sends": sends, "variables": DOCUMENTED_VARIABLES})


@login_required
@permission_required("publishing.add_emailtemplate", raise_exception=True)
def template_new(request):
    return _edit(request, None)


@login_required
@permission_required("publishing.view_emailtemplate", raise_exception=True)
def template_detail(request, template_id: int):
    template = get_object_or_404(EmailTemplate, pk=template_id)
    if request.method == "POST" and not request.user.has_perm("publishing.change_emailtemplate"):
        raise PermissionDenied
    return _edit(request, template)


@login_required
@permission_required("publishing.view_emailtemplate", raise_exception=True)
def template_preview(request, template_id: int):
    """The saved template as one contact reads it, rendered as the send preview does; the first contact
    added when none is asked for (or the address is unknown, the form saying so), sample data without any."""
    template = get_object_or_404(EmailTemplate, pk=template_id)
    form = EmailPreviewForm(request.GET)
    contact = (form.cleaned_data["contact"] if form.is_valid() else None) or Contact.objects.order_by("pk").first()
    rendered = email_template_preview(template=template, contact=contact)
    return render(request, "publishing/email/template_preview.html", {
        "template": template, "form": form, "contact": contact, "variables": DOCUMENTED_VARIABLES,
        "rendered": rendered, "dark_html": dark_preview(rendered.html),
        "dark_findings": dark_mode_findings(rendered.html)})


@login_required
@permission_required("publishing.delete_emailtemplate", raise_exception=True)
@require_POST
def template_delete(request, template_id: int):
    template = get_object_or_404(EmailTemplate, pk=template_id)
    back = reverse("email-template-detail", args=[template.pk])
    if request.POST.get("confirmed") != "yes":
        return render(request, "publishing/confirm.html", {
            "what": f"Delete the template “{template.name}”?", "back": back, "button": "Yes, delete it"})
    try:
        email_template_delete(template=template)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, f"Template “{template.name}” deleted.")
    return redirect("email-template-list")
