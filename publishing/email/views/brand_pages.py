"""Back-office pages of the brand kit and of the stored base layouts email templates extend: each form
writes through the services, and what they refuse is shown on the field it concerns."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.forms.models import model_to_dict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from publishing.email.brand import STARTER_LAYOUT, brand_kit, brand_values
from publishing.email.choices import TemplateFormat
from publishing.email.forms import BrandKitForm, EmailLayoutForm
from publishing.email.models import EmailLayout
from publishing.email.rendering import DOCUMENTED_VARIABLES
from publishing.email.services.brand import (
    BRAND_KIT_FIELDS,
    LAYOUT_FIELDS,
    brand_kit_update,
    email_layout_create,
    email_layout_delete,
    email_layout_update,
)
from publishing.email.views.pages import search_term


def _field_error(form, exc: DomainError) -> None:
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None,
                   exc.message.removeprefix(f"{field}: ") if field else exc.message)


@login_required
@permission_required("publishing.view_brandkit", raise_exception=True)
def brand_kit_page(request):
    kit = brand_kit()
    if request.method == "POST" and not request.user.has_perm("publishing.change_brandkit"):
        raise PermissionDenied
    form = BrandKitForm(request.POST or None, initial=model_to_dict(kit, fields=BRAND_KIT_FIELDS))
    if request.method == "POST" and form.is_valid():
        try:
            brand_kit_update(by=request.user, **{name: form.cleaned_data[name] for name in BRAND_KIT_FIELDS})
        except DomainError as exc:
            _field_error(form, exc)
        else:
            messages.success(request, "Brand kit saved: every email template reads it from now on.")
            return redirect("email-brand-kit")
    return render(request, "publishing/email/brand_kit.html", {"form": form, "kit": kit,
                                                               "values": brand_values(kit)})


@login_required
@permission_required("publishing.view_emaillayout", raise_exception=True)
def layout_list(request):
    queryset = (EmailLayout.objects.select_related("created_by").annotate(template_count=Count("templates"))
                .order_by("name", "pk"))
    if term := search_term(request):
        queryset = queryset.filter(name__icontains=term)
    page = Paginator(queryset, 25).get_page(request.GET.get("page"))
    return render(request, "publishing/email/layout_list.html", {"page": page})


def _edit(request, layout: EmailLayout | None):
    form = EmailLayoutForm(request.POST or None,
                           initial=(model_to_dict(layout, fields=LAYOUT_FIELDS) if layout
                                    else {"format": TemplateFormat.MJML, "body": STARTER_LAYOUT}))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in LAYOUT_FIELDS}
        try:
            saved = (email_layout_create(by=request.user, **fields) if layout is None
                     else email_layout_update(layout=layout, **fields))
        except DomainError as exc:
            _field_error(form, exc)
        else:
            messages.success(request, f"Layout “{saved.name}” {'created' if layout is None else 'saved'}.")
            return redirect("email-layout-detail", saved.pk)
    templates = layout.templates.order_by("name") if layout else []
    return render(request, "publishing/email/layout_form.html", {
        "form": form, "layout": layout, "templates": templates, "variables": DOCUMENTED_VARIABLES})


@login_required
@permission_required("publishing.add_emaillayout", raise_exception=True)
def layout_new(request):
    return _edit(request, None)


@login_required
@permission_required("publishing.view_emaillayout", raise_exception=True)
def layout_detail(request, layout_id: int):
    layout = get_object_or_404(EmailLayout, pk=layout_id)
    if request.method == "POST" and not request.user.has_perm("publishing.change_emaillayout"):
        raise PermissionDenied
    return _edit(request, layout)


@login_required
@permission_required("publishing.delete_emaillayout", raise_exception=True)
@require_POST
def layout_delete(request, layout_id: int):
    layout = get_object_or_404(EmailLayout, pk=layout_id)
    back = reverse("email-layout-detail", args=[layout.pk])
    if request.POST.get("confirmed") != "yes":
        return render(request, "publishing/confirm.html", {
            "what": f"Delete the layout “{layout.name}”?", "back": back, "button": "Yes, delete it"})
    try:
        email_layout_delete(layout=layout)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, f"Layout “{layout.name}” deleted.")
    return redirect("email-layout-list")
