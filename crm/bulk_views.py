"""Bulk actions of the contact list, on the contacts ticked or on every contact matching the list's
filters: tag, untag, add to or take off a static list, move to a lifecycle stage, enrich, export,
unsubscribe and delete (these two confirmed first), each through one crm service."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from crm import selectors, services
from crm.choices import LifecycleStatus
from crm.exports import contacts_csv_response
from crm.models import ContactList

ACTIONS = [("add_tags", "Add tags"), ("remove_tags", "Remove tags"), ("add_to_list", "Add to list"),
           ("remove_from_list", "Take off list"), ("lifecycle", "Move to lifecycle stage"),
           ("enrich", "Enrich and verify"), ("export", "Export as CSV"), ("unsubscribe", "Unsubscribe"),
           ("delete", "Delete")]
ASK_FIRST = {"unsubscribe", "delete"}
# Export reads only; every other action changes contacts.
NEEDS = {"export": "crm.view_contact", "delete": "crm.delete_contact", "add_to_list": "crm.change_contactlist",
         "remove_from_list": "crm.change_contactlist", "enrich": "crm.add_enrichmentrun"}
# Who is offered the ticks and the actions at all: someone who may change, delete or enrich contacts.
# A reader (an Analyst) exports the filtered list with the list's own link instead.
BULK_PERMISSIONS = ("crm.change_contact", "crm.delete_contact", "crm.add_enrichmentrun")


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=ACTIONS)
    scope = forms.ChoiceField(choices=[("selected", "The ticked contacts"), ("all", "All matching the filters")],
                              initial="selected")
    contact = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())
    query = forms.CharField(required=False)
    tags = forms.CharField(required=False, max_length=1000)
    lifecycle = forms.ChoiceField(choices=[("", "—"), *LifecycleStatus.choices], required=False)
    # A list by its name: an existing one, or (adding) a new one made on the spot.
    list_name = forms.CharField(required=False, max_length=120)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any ids may come back; the contacts queryset below keeps only visible ones.
        self.fields["contact"].valid_value = lambda value: True

    def clean(self):
        data = super().clean()
        if data.get("scope") == "selected" and not data.get("contact"):
            raise forms.ValidationError("Tick at least one contact, or choose all matching the filters.")
        if data.get("action") in ("add_tags", "remove_tags") and not [t for t in data.get("tags", "").split(",")
                                                                      if t.strip()]:
            raise forms.ValidationError("Name the tags, separated by commas.")
        if data.get("action") in ("add_to_list", "remove_from_list") and not (data.get("list_name") or "").strip():
            raise forms.ValidationError("Name the list: pick one, or type a new name to create it.")
        if data.get("action") == "lifecycle" and not data.get("lifecycle"):
            raise forms.ValidationError("Choose the lifecycle stage to move them to.")
        return data

    def contacts(self):
        data = self.cleaned_data
        if data["scope"] == "all":
            return selectors.contact_list(filters=QueryDict(data["query"]))
        return selectors.contacts_visible().filter(pk__in=data["contact"])


def _list_action(request, action: str, contacts, name: str) -> str:
    """Adds to the list of that name (creating it when there is none and the person may) or takes off it."""
    contact_list = ContactList.objects.filter(name__iexact=name).first()
    if action == "remove_from_list":
        if contact_list is None:
            raise DomainError(f"There is no list named “{name}”.", code="not_found")
        removed = services.contact_list_remove(contact_list=contact_list, contacts=contacts)
        return f"{removed} taken off “{contact_list.name}”."
    created = ""
    if contact_list is None:
        if not request.user.has_perm("crm.add_contactlist"):
            raise PermissionDenied
        contact_list = services.contact_list_create(name=name, by=request.user)
        created = f"List “{contact_list.name}” created; "
    added = services.contact_list_add(contact_list=contact_list, contacts=contacts, by=request.user)
    return f"{created}{added} added to “{contact_list.name}” (people already on it are not added twice)."


def _enrich(request, form: BulkForm, contacts, back: str):
    """Starts one enrichment run on the ticked contacts or on all the filter matches, then shows its progress."""
    data = form.cleaned_data
    try:
        if data["scope"] == "all":
            run = services.enrichment_run_create(by=request.user, matching=contacts, matching_filter=data["query"])
        else:
            ticked = list(contacts.values_list("pk", flat=True))
            run = services.enrichment_run_create(by=request.user, contact_ids=ticked)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(back)
    return redirect("crm:enrichment-run", pk=run.pk)


def _back(request) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/crm/"


@require_POST
@login_required
@permission_required("crm.view_contact", raise_exception=True)
def contacts_bulk(request):
    form = BulkForm(request.POST)
    back = _back(request)
    if not form.is_valid():
        for error in form.non_field_errors() or ["Choose an action."]:
            messages.error(request, error)
        return redirect(back)
    action, data = form.cleaned_data["action"], form.cleaned_data
    if not request.user.has_perm(NEEDS.get(action, "crm.change_contact")):
        raise PermissionDenied
    contacts = form.contacts()
    if action == "export":
        return contacts_csv_response(contacts, "contacts.csv")
    if action == "enrich":
        return _enrich(request, form, contacts, back)
    if action in ASK_FIRST and request.POST.get("confirmed") != "yes":
        count = contacts.count()
        return render(request, "crm/bulk_confirm.html", {
            "count": count, "action": action, "label": dict(ACTIONS)[action].lower(), "back": back,
            "fields": [(key, value) for key, values in request.POST.lists() for value in values
                       if key not in ("csrfmiddlewaretoken", "confirmed")]})
    tags = [tag.strip() for tag in data["tags"].split(",") if tag.strip()]
    try:
        if action == "add_tags":
            done = f"{services.contacts_tag(contacts=contacts, tag_names=tags)} tag links added."
        elif action == "remove_tags":
            done = f"{services.contacts_untag(contacts=contacts, tag_names=tags)} tag links removed."
        elif action in ("add_to_list", "remove_from_list"):
            done = _list_action(request, action, contacts, data["list_name"].strip())
        elif action == "lifecycle":
            result = services.contacts_transition(contacts=contacts, to=data["lifecycle"], by=request.user,
                                                  reason="Bulk action from the contact list")
            done = (f"{result['moved']} moved to {LifecycleStatus(data['lifecycle']).label}; "
                    f"{result['skipped']} already there or not allowed from their stage.")
        elif action == "unsubscribe":
            count = services.contacts_unsubscribe(contacts=contacts, source=f"back office:{request.user}",
                                                  reason="Unsubscribed from the contact list")
            done = f"{count} contacts unsubscribed."
        else:
            done = f"{services.contacts_delete(contacts=contacts)} contacts deleted."
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect(back)
