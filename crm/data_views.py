"""Back-office pages for getting contacts in and out: imports (upload, mapping, progress), export,
and a person's data (download, erase)."""

import json
import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from aicmo_site.storage import private_file_response
from aicmo_site.stuck import stuck_before
from crm.choices import ImportedRows, ImportPolicy, RunStatus
from crm.exports import contacts_csv_response
from crm.filters import ContactFilterSet
from crm.imports import import_run_cancel, import_run_create, import_run_start
from crm.imports.followups import journey_choices
from crm.imports.mapping import CUSTOM_PREFIX, target_choices
from crm.imports.reading import CsvFormat, preview
from crm.models import Contact, ImportRun
from crm.privacy import contact_access_export, contact_erase
from crm.selectors import contacts_visible, imports_stuck

PAGE_SIZE = 25
SORTS = {"newest": "-created_at", "oldest": "created_at", "name": "original_name", "rows": "-processed_rows"}


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8 or Latin-1, comma or semicolon separated")
    policy = forms.ChoiceField(choices=ImportPolicy.choices, initial=ImportPolicy.UPDATE,
                               label="Contacts already stored")
    tag = forms.CharField(max_length=80, required=False, help_text="Added to every contact of the file")
    journey = forms.TypedChoiceField(required=False, coerce=int, empty_value=None,
                                     label="Add the contacts to a journey")
    journey_rows = forms.ChoiceField(choices=ImportedRows.choices, initial=ImportedRows.BOTH, required=False,
                                     label="Contacts entering the journey")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["journey"].choices = [("", "None"), *journey_choices()]


def _custom_choice(header: str, position: int) -> tuple[str, str]:
    name = re.sub(r"[^A-Za-z0-9_ .-]", "", header).strip()[:63] or f"column_{position}"
    return CUSTOM_PREFIX + name, f"Custom field “{name}”"


class ImportMappingForm(forms.Form):
    """One select per column of the file, set to the automatic (or saved) mapping."""

    def __init__(self, *args, headers: list[str], mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        for position, header in enumerate(headers):
            choices = [*target_choices(), _custom_choice(header, position)]
            current = mapping.get(header, "")
            if current and current not in dict(choices):
                choices.append((current, f"Custom field “{current[len(CUSTOM_PREFIX):]}”"))
            self.fields[f"column_{position}"] = forms.ChoiceField(choices=choices, required=False, label=header,
                                                                  initial=current)

    def mapping(self) -> dict[str, str]:
        return {header: self.cleaned_data[f"column_{position}"] for position, header in enumerate(self.headers)}


@login_required
@permission_required("crm.view_importrun", raise_exception=True)
def import_list(request):
    runs = ImportRun.objects.select_related("requested_by")
    status, search = request.GET.get("status", ""), request.GET.get("q", "").strip()
    if status in RunStatus.values:
        runs = runs.filter(status=status)
    if search:
        runs = runs.filter(original_name__icontains=search)
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "newest"
    page = Paginator(runs.order_by(SORTS[sort], "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    form = ImportUploadForm()
    if request.method == "POST":
        if not request.user.has_perm("crm.add_importrun"):
            raise PermissionDenied
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                run = import_run_create(upload=upload, original_name=upload.name, policy=form.cleaned_data["policy"],
                                        tag=form.cleaned_data["tag"], by=request.user,
                                        journey_id=form.cleaned_data["journey"],
                                        journey_rows=form.cleaned_data["journey_rows"] or ImportedRows.BOTH)
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                return redirect("crm:import-map", pk=run.pk)
    query = "&".join(f"{k}={v}" for k, v in (("status", status), ("q", search), ("sort", sort)) if v)
    return render(request, "crm/data/import_list.html", {
        "page": page, "form": form, "statuses": RunStatus.choices, "status": status, "q": search, "sort": sort,
        "sorts": SORTS, "query": query,
    })


@login_required
@permission_required("crm.add_importrun", raise_exception=True)
def import_map(request, pk: int):
    run = get_object_or_404(ImportRun, pk=pk)
    if run.status != RunStatus.QUEUED or run.started_at:
        return redirect("crm:import-detail", pk=run.pk)
    with run.file.open("rb") as stream:
        headers, rows = preview(stream, CsvFormat(run.encoding, run.delimiter))
    form = ImportMappingForm(request.POST or None, headers=headers, mapping=run.mapping)
    if request.method == "POST" and form.is_valid():
        try:
            import_run_start(run=run, mapping=form.mapping())
        except DomainError as exc:
            fields = exc.extra.get("fields") or {}
            form.add_error(None, " ".join(fields.values()) if fields else exc.message)
        else:
            return redirect("crm:import-detail", pk=run.pk)
    columns = [(form[f"column_{position}"], [row[position] if position < len(row) else "" for row in rows])
               for position in range(len(headers))]
    return render(request, "crm/data/import_map.html", {"run": run, "form": form, "columns": columns,
                                                          "rows": rows})


@login_required
@permission_required("crm.view_importrun", raise_exception=True)
def import_detail(request, pk: int):
    run = get_object_or_404(ImportRun.objects.select_related("requested_by"), pk=pk)
    stuck = imports_stuck(before=stuck_before()).filter(pk=run.pk).first()
    journey = dict(journey_choices()).get(run.journey_id, "a journey no longer active") if run.journey_id else ""
    return render(request, "crm/data/import_detail.html", {
        "run": run, "journey": journey, "done": run.status not in (RunStatus.QUEUED, RunStatus.RUNNING),
        "stuck_since": stuck.last_progress if stuck else None})


@login_required
@permission_required("crm.view_importrun", raise_exception=True)
def import_errors(request, pk: int):
    run = get_object_or_404(ImportRun, pk=pk)
    if not run.error_report:
        raise Http404("This import has no error report.")
    return private_file_response(run.error_report, filename=f"import-{run.pk}-errors.csv", content_type="text/csv")


@login_required
@permission_required("crm.change_importrun", raise_exception=True)
@require_POST
def import_cancel(request, pk: int):
    run = get_object_or_404(ImportRun, pk=pk)
    try:
        import_run_cancel(run=run, by=request.user)
        messages.success(request, "The import was canceled; rows already imported stay.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("crm:import-detail", pk=run.pk)


@login_required
@permission_required("crm.view_contact", raise_exception=True)
def contact_export(request):
    """The contact list's filters (and ?segment=ID) as a CSV download."""
    filterset = ContactFilterSet(data=request.GET, queryset=contacts_visible())
    if not filterset.is_valid():
        return HttpResponse(f"Invalid filters: {filterset.errors.as_text()}", status=400, content_type="text/plain")
    return contacts_csv_response(filterset.qs, "contacts.csv")


class EraseForm(forms.Form):
    confirm = forms.CharField(label="Type the contact's email address to confirm", max_length=254)


@login_required
@permission_required("crm.view_contact", raise_exception=True)
def contact_privacy(request, pk: int):
    contact = get_object_or_404(Contact, pk=pk)
    form = EraseForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("crm.delete_contact"):
            raise PermissionDenied
        if form.is_valid():
            try:
                contact_erase(contact=contact, by=request.user, confirm=form.cleaned_data["confirm"])
            except DomainError as exc:
                form.add_error("confirm", exc.message)
            else:
                messages.success(request, "The contact's personal data was erased.")
                return redirect("crm:contact-privacy", pk=contact.pk)
    return render(request, "crm/data/contact_privacy.html", {"contact": contact, "form": form})


@login_required
@permission_required("crm.view_contact", raise_exception=True)
def contact_access_download(request, pk: int):
    contact = get_object_or_404(Contact.objects.select_related("company"), pk=pk)
    response = HttpResponse(json.dumps(contact_access_export(contact), indent=2, ensure_ascii=False),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}-data.json"'
    return response
