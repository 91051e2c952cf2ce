"""Back-office pages of static lists of contacts: the lists with their sizes, one list with its
members, and create, rename, delete (confirmed), take members off."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError, add_domain_error
from crm import selectors, services
from crm.models import ContactList

PAGE_SIZE = 50


class ContactListForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _save(request, form, contact_list=None):
    """The service's refusal (a name already taken) becomes the form's error; None when refused."""
    try:
        if contact_list is None:
            return services.contact_list_create(by=request.user, **form.cleaned_data)
        return services.contact_list_update(contact_list=contact_list, **form.cleaned_data)
    except DomainError as error:
        add_domain_error(form, error, default_field="name")
    return None


@login_required
@permission_required("crm.view_contactlist", raise_exception=True)
def contact_list_index(request):
    search = request.GET.get("q", "").strip()
    page = Paginator(selectors.contact_lists(search=search), PAGE_SIZE).get_page(request.GET.get("page"))
    form = ContactListForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("crm.add_contactlist"):
            raise PermissionDenied
        if form.is_valid() and (created := _save(request, form)):
            messages.success(request, f"List “{created.name}” created.")
            return redirect("crm:list-detail", created.pk)
    return render(request, "crm/list_index.html", {
        "page": page, "q": search, "query": f"q={search}" if search else "", "form": form})


@login_required
@permission_required("crm.view_contactlist", raise_exception=True)
def contact_list_detail(request, pk: int):
    contact_list = get_object_or_404(ContactList, pk=pk)
    search = request.GET.get("q", "").strip()
    members = selectors.contact_list_members(contact_list, search=search)
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    form = ContactListForm(request.POST or None, initial={"name": contact_list.name,
                                                          "description": contact_list.description})
    if request.method == "POST":
        if not request.user.has_perm("crm.change_contactlist"):
            raise PermissionDenied
        if form.is_valid() and _save(request, form, contact_list):
            messages.success(request, "List saved.")
            return redirect("crm:list-detail", contact_list.pk)
    return render(request, "crm/list_detail.html", {
        "list": contact_list, "page": page, "q": search, "query": f"q={search}" if search else "", "form": form})


@login_required
@permission_required("crm.delete_contactlist", raise_exception=True)
def contact_list_delete(request, pk: int):
    """GET asks first (with the number of people on it); POST deletes."""
    contact_list = get_object_or_404(ContactList, pk=pk)
    if request.method == "POST":
        services.contact_list_delete(contact_list=contact_list)
        messages.success(request, f"List “{contact_list.name}” deleted; its contacts stay.")
        return redirect("crm:list-index")
    return render(request, "crm/list_confirm_delete.html", {
        "list": contact_list, "size": contact_list.memberships.count()})


@require_POST
@login_required
@permission_required("crm.change_contactlist", raise_exception=True)
def contact_list_remove(request, pk: int):
    contact_list = get_object_or_404(ContactList, pk=pk)
    ids = [int(value) for value in request.POST.getlist("contact") if value.isdigit() and len(value) < 19]
    if not ids:
        messages.error(request, "Tick at least one member to take off the list.")
    else:
        removed = services.contact_list_remove(contact_list=contact_list, contacts=ids)
        messages.success(request, f"{removed} taken off the list.")
    return redirect("crm:list-detail", contact_list.pk)
