"""Back-office pages: the contact list and page, the segment editor, enrichment runs."""


from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from aicmo_site.forms import stored_id
from aicmo_site.stuck import stuck_before
from crm import selectors, services
from crm.api.pagination import CappedCountPaginator
from crm.bulk_views import BULK_PERMISSIONS
from crm.choices import (
    LIFECYCLE_TRANSITIONS,
    EmailStatus,
    EngagementTier,
    EventKind,
    LifecycleStatus,
    SmsConsentStatus,
    ValueTier,
)
from crm.filters import CONTACT_SORTS, ContactFilterSet
from crm.models import Contact, ContactList, EnrichmentRun, Segment, Tag, Topic
from crm.phones import phone_e164
from crm.segments import MAX_DEPTH, builder_fields

PAGE_SIZE = 50
TAG_SUGGESTIONS = 500  # tag names the rule builder offers as you type; any other name can still be typed


# Past this a page number is no page: counting "as far as needed" must not reach a LIMIT the database refuses.
MAX_PAGE_NUMBER = 10**9


def _capped_page(contacts, requested, segment=None, filters=None):
    """A page of contacts counting at most as far as needed (an exact count of a million rows
    takes a second); beyond the cap the page reads "1,000+" and still offers the next page.
    A segment's members alone, newest first, are counted and listed as the members API does it,
    from statements compiled once per segment rules."""
    try:
        number = min(max(int(requested), 1), MAX_PAGE_NUMBER)
    except (TypeError, ValueError):
        number = 1
    paginator = CappedCountPaginator(contacts, PAGE_SIZE)
    paginator.count_at_most = max(paginator.count_at_most, number * PAGE_SIZE)
    if segment is not None:
        paginator.counter = lambda at_most: selectors.segment_members_count(segment, at_most=at_most)
    page = paginator.get_page(number)
    sliced = page.object_list.query
    if segment is not None:
        page.object_list = selectors.segment_members_page(segment, offset=sliced.low_mark,
                                                          limit=sliced.high_mark - sliced.low_mark)
    else:
        listed = page.object_list
        page.object_list = list(selectors.contacts_page(listed))
        if paginator.capped:  # more than the count's cap: far pages, whose positions are numbered in the background
            services.contact_list_numbering_queue(listed, filters)
    return page


@login_required
@permission_required("crm.view_contact", raise_exception=True)
def contact_list(request):
    # The filter form sends every field; an empty one means "any", not "the empty value".
    params = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        if key != "page" and any(values):
            params.setlist(key, [value for value in values if value])
    params.setdefault("ordering", "-created_at")
    # Company and tag names come in each contact's row (as the contacts API lists them): a prefetch of tags
    # was two more queries per page and a queryset per contact.
    filterset = ContactFilterSet(data=params, queryset=selectors.contacts_listed())
    valid = filterset.is_valid()
    contacts = filterset.qs if valid else Contact.objects.none()
    members_only = valid and params.keys() == {"segment", "ordering"} and params["ordering"] == "-created_at"
    page = _capped_page(contacts, request.GET.get("page"),
                        segment=filterset.form.cleaned_data["segment"] if members_only else None, filters=params)
    for contact in page.object_list:
        contact.tag_names.sort()
    query = params.copy()
    return render(request, "crm/contact_list.html", {
        "page": page, "filterset": filterset, "params": params, "query": query.urlencode(),
        "filtered": bool(params.keys() - {"ordering"}),
        "segments": Segment.objects.only("pk", "name"), "tags": Tag.objects.only("name"),
        "list_names": ContactList.objects.values_list("name", flat=True) if request.user.has_perm(
            "crm.change_contactlist") else [],
        "lifecycles": LifecycleStatus.choices, "email_statuses": EmailStatus.choices, "tiers": EngagementTier.choices,
        "value_tiers": [choice for choice in ValueTier.choices if choice[0]],
        "sorts": CONTACT_SORTS,
        "can_bulk": any(request.user.has_perm(permission) for permission in BULK_PERMISSIONS),
    })


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=LifecycleStatus.choices, label="Move to")
    reason = forms.CharField(required=False, max_length=500)


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, label="Note")


@login_required
@permission_required("crm.view_contact", raise_exception=True)
def contact_detail(request, pk: int):
    contact = get_object_or_404(selectors.contacts_visible(), pk=pk)
    allowed = sorted(LIFECYCLE_TRANSITIONS[contact.lifecycle_status])
    transition_form = TransitionForm()
    transition_form.fields["to"].choices = [(v, LifecycleStatus(v).label) for v in allowed]
    return render(request, "crm/contact_detail.html", {
        "contact": contact, "timeline": selectors.contact_timeline(contact),
        "transition_form": transition_form, "note_form": NoteForm(),
        "emailable": selectors.contact_is_emailable(contact),
        "can_change": request.user.has_perm("crm.change_contact"),
        "can_enrich": request.user.has_perm("crm.add_enrichmentrun"),
        "team_time_zone": settings.TIME_ZONE,
        "sms_number": phone_e164(contact.phone), "sms_consent": selectors.contact_sms_consent(contact),
        "push_browsers": contact.push_subscriptions.count(),
    })


class SmsConsentForm(forms.Form):
    status = forms.ChoiceField(choices=SmsConsentStatus.choices)
    source = forms.CharField(max_length=120)


@require_POST
@login_required
@permission_required("crm.change_contact", raise_exception=True)
def contact_sms_consent(request, pk: int):
    contact = get_object_or_404(selectors.contacts_visible(), pk=pk)
    form = SmsConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say how the contact gave or withdrew consent.")
        return redirect("crm:contact-detail", pk=pk)
    try:
        consent = services.contact_sms_consent_set(contact=contact, status=form.cleaned_data["status"],
                                                   source=form.cleaned_data["source"])
        messages.success(request, f"SMS consent recorded: {consent.get_consent_display().lower()}.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("crm:contact-detail", pk=pk)


@require_POST
@login_required
@permission_required("crm.change_contact", raise_exception=True)
def contact_transition(request, pk: int):
    contact = get_object_or_404(selectors.contacts_visible(), pk=pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a lifecycle stage.")
        return redirect("crm:contact-detail", pk=pk)
    try:
        services.contact_transition(contact=contact, to=form.cleaned_data["to"], by=request.user,
                                    reason=form.cleaned_data["reason"])
        messages.success(request, f"Moved to {LifecycleStatus(form.cleaned_data['to']).label}.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("crm:contact-detail", pk=pk)


@require_POST
@login_required
@permission_required("crm.change_contact", raise_exception=True)
def contact_note(request, pk: int):
    contact = get_object_or_404(selectors.contacts_visible(), pk=pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.contact_record_event(contact=contact, kind=EventKind.NOTE, channel="back office",
                                      detail={"text": form.cleaned_data["text"], "by": request.user.get_username()})
        messages.success(request, "Note added.")
    else:
        messages.error(request, "Write something in the note.")
    return redirect("crm:contact-detail", pk=pk)


@require_POST
@login_required
@permission_required("crm.add_enrichmentrun", raise_exception=True)
def enrich(request):
    """Enrich one contact, the chosen ones, a segment or every New contact (from a page's button)."""
    try:
        if request.POST.get("segment"):
            segment = get_object_or_404(Segment, pk=stored_id(request.POST["segment"]))
            run = services.enrichment_run_create(by=request.user, segment=segment)
        elif request.POST.getlist("contact"):
            ids = [pk for pk in map(stored_id, request.POST.getlist("contact")) if pk is not None]
            run = services.enrichment_run_create(by=request.user, contact_ids=ids)
        else:
            run = services.enrichment_run_create(by=request.user, all_new=True)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(request.POST.get("next") or "crm:contact-list")
    return redirect("crm:enrichment-run", pk=run.pk)


@login_required
@permission_required("crm.view_enrichmentrun", raise_exception=True)
def enrichment_run_list(request):
    page = Paginator(EnrichmentRun.objects.select_related("requested_by"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "crm/enrichment_run_list.html", {"page": page})


@login_required
@permission_required("crm.view_enrichmentrun", raise_exception=True)
def enrichment_run_detail(request, pk: int):
    run = get_object_or_404(EnrichmentRun.objects.select_related("requested_by"), pk=pk)
    failed = run.items.filter(status__in=["failed"]).select_related("contact")[:100]
    stuck = selectors.enrichment_runs_stuck(before=stuck_before()).filter(pk=run.pk).first()
    return render(request, "crm/enrichment_run_detail.html", {
        "run": run, "failed": failed, "stuck_since": stuck.last_progress if stuck else None})


@login_required
@permission_required("crm.view_segment", raise_exception=True)
def segment_list(request):
    segments = Segment.objects.select_related("created_by")
    if request.GET.get("q"):
        segments = segments.filter(name__icontains=request.GET["q"])
    page = Paginator(segments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "crm/segment_list.html", {"page": page, "q": request.GET.get("q", "")})


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    rules = forms.JSONField(widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
                            initial={"op": "and", "rules": []})
    announce_entries = forms.BooleanField(required=False, label="Announce entries",
                                          help_text=Segment._meta.get_field("announce_entries").help_text)
    reading_grade = forms.IntegerField(required=False, min_value=1, max_value=18, label="Reading grade target",
                                       help_text=Segment._meta.get_field("reading_grade").help_text)


@login_required
@permission_required("crm.view_segment", raise_exception=True)
def segment_edit(request, pk: int | None = None):
    segment = get_object_or_404(Segment, pk=pk) if pk else None
    initial = {"name": segment.name, "description": segment.description, "rules": segment.rules,
               "announce_entries": segment.announce_entries,
               "reading_grade": segment.reading_grade} if segment else None
    form = SegmentForm(request.POST or None, initial=initial)
    can_save = request.user.has_perm("crm.change_segment" if segment else "crm.add_segment")
    if request.method == "POST":
        if not can_save:
            messages.error(request, "You may look at segments but not change them.")
        elif form.is_valid():
            try:
                if segment:
                    segment = services.segment_update(segment=segment, **form.cleaned_data)
                else:
                    segment = services.segment_create(by=request.user, **form.cleaned_data)
                messages.success(request, f"Segment “{segment.name}” saved.")
                return redirect("crm:segment-edit", pk=segment.pk)
            except DomainError as error:
                form.add_error("rules" if error.code == "invalid_rules" else "name", error.message)
    fields = builder_fields()
    return render(request, "crm/segment_edit.html", {
        "form": form, "segment": segment, "builder_fields": fields, "can_save": can_save,
        "builder": {"fields": fields, "maxDepth": MAX_DEPTH},
        "tag_names": list(Tag.objects.order_by("name").values_list("name", flat=True)[:TAG_SUGGESTIONS]),
        "topic_slugs": list(Topic.objects.order_by("slug").values_list("slug", flat=True)[:TAG_SUGGESTIONS]),
        "count": selectors.segment_count(segment.rules) if segment else None,
    })


@require_POST
@login_required
@permission_required("crm.delete_segment", raise_exception=True)
def segment_delete(request, pk: int):
    segment = get_object_or_404(Segment, pk=pk)
    services.segment_delete(segment=segment)
    messages.success(request, f"Segment “{segment.name}” deleted.")
    return redirect("crm:segment-list")
