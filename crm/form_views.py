"""Back-office pages of subscription forms: the forms with their counts, create and edit, and one form
with its embed snippet and the people who have not confirmed yet."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.validators import URLValidator
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError, add_domain_error
from crm import selectors, services
from crm.form_models import STANDARD_FIELDS, FormSubmission, SubscriptionForm
from crm.form_public_views import form_context
from crm.models import ContactList, Tag, Topic
from crm.services.forms import confirmation_state

PAGE_SIZE = 50


class SubscriptionFormForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(max_length=60, required=False, label="Address",
                           help_text="The page's address ends in /f/<this>/. Empty: made from the name.")
    fields = forms.MultipleChoiceField(choices=list(STANDARD_FIELDS.items()), required=False,
                                       widget=forms.CheckboxSelectMultiple, label="Fields asked besides the email")
    required_fields = forms.MultipleChoiceField(choices=list(STANDARD_FIELDS.items()), required=False,
                                                widget=forms.CheckboxSelectMultiple, label="Required fields")
    custom_fields = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                    label="Extra questions",
                                    help_text="One a line, as key: Label (e.g. team-size: How big is your team?)")
    topics = forms.ModelMultipleChoiceField(queryset=Topic.objects.all(), required=False,
                                            widget=forms.CheckboxSelectMultiple, label="Topics to choose from")
    tags = forms.ModelMultipleChoiceField(queryset=Tag.objects.all(), required=False,
                                          widget=forms.CheckboxSelectMultiple, label="Tags given to subscribers")
    lists = forms.ModelMultipleChoiceField(queryset=ContactList.objects.order_by("name"), required=False,
                                           widget=forms.CheckboxSelectMultiple,
                                           label="Lists subscribers are put on (once confirmed)")
    consent_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                                   help_text="Shown beside the button and kept word for word with each consent.")
    thank_you_message = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    redirect_url = forms.URLField(required=False, label="Redirect URL", assume_scheme="https",
                                  validators=[URLValidator(["http", "https"])],
                                  help_text="Where people go after sending, instead of the thank-you message.")
    double_opt_in = forms.BooleanField(required=False, initial=True, label="Double opt-in",
                                       help_text="Subscribe only once the person opens the emailed link.")
    allowed_origins = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                      label="Sites that may embed the form",
                                      help_text="One a line, e.g. https://www.example.com")
    min_seconds = forms.IntegerField(min_value=0, max_value=600, initial=3, label="Minimum seconds to fill",
                                     help_text="Sent sooner, it is taken for a bot: it looks sent, nothing is kept.")

    def clean_custom_fields(self):
        questions = []
        for line in self.cleaned_data["custom_fields"].splitlines():
            if not line.strip():
                continue
            key, separator, label = line.partition(":")
            if not separator or not key.strip() or not label.strip():
                raise forms.ValidationError(f"“{line.strip()}” is not key: Label.")
            questions.append({"key": key.strip(), "label": label.strip()})
        return questions

    def clean_allowed_origins(self):
        return [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines() if line.strip()]

    @classmethod
    def initial_of(cls, form: SubscriptionForm) -> dict:
        return {
            "name": form.name, "slug": form.slug, "fields": form.fields, "required_fields": form.required_fields,
            "custom_fields": "\n".join(f"{item['key']}: {item['label']}" for item in form.custom_fields),
            "topics": list(form.topics.all()), "tags": list(form.tags.all()), "lists": list(form.lists.all()),
            "consent_text": form.consent_text,
            "thank_you_message": form.thank_you_message, "redirect_url": form.redirect_url,
            "double_opt_in": form.double_opt_in, "allowed_origins": "\n".join(form.allowed_origins),
            "min_seconds": form.min_seconds,
        }


def _save(request, page_form: SubscriptionFormForm, form: SubscriptionForm | None):
    """The service's refusals become the page form's errors; None when refused."""
    try:
        if form is None:
            return services.form_create(by=request.user, **page_form.cleaned_data)
        return services.form_update(form=form, **page_form.cleaned_data)
    except DomainError as error:
        add_domain_error(page_form, error)
    return None


@login_required
@permission_required("crm.view_subscriptionform", raise_exception=True)
def form_list(request):
    search = request.GET.get("q", "").strip()
    page = Paginator(selectors.subscription_forms(search=search), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "crm/forms/list.html", {"page": page, "q": search, "query": f"q={search}" if search else ""})


@login_required
def form_edit(request, pk: int | None = None):
    form = get_object_or_404(SubscriptionForm, pk=pk) if pk else None
    if not request.user.has_perm("crm.change_subscriptionform" if form else "crm.add_subscriptionform"):
        raise PermissionDenied
    page_form = SubscriptionFormForm(request.POST or None,
                                     initial=SubscriptionFormForm.initial_of(form) if form else None)
    if request.method == "POST" and page_form.is_valid() and (saved := _save(request, page_form, form)):
        messages.success(request, f"Form “{saved.name}” saved.")
        return redirect("crm:form-detail", saved.pk)
    return render(request, "crm/forms/edit.html", {"subscription_form": form, "page_form": page_form})


def embed_snippet(request, form: SubscriptionForm) -> str:
    """The HTML to paste into another site: the form itself, posting to us, and our small script."""
    base = request.build_absolute_uri(reverse("subscription-form", args=[form.slug]))
    fields = render_to_string("crm/public/_form_fields.html", form_context(form))
    script = request.build_absolute_uri(static("crm/subscription-form.js"))
    return (f'<form method="post" action="{base}submit/" data-aicmo-form="{base}" novalidate>\n{fields.strip()}\n'
            f'</form>\n<script src="{script}" defer></script>\n')


@login_required
@permission_required("crm.view_subscriptionform", raise_exception=True)
def form_detail(request, pk: int):
    form = get_object_or_404(selectors.subscription_forms(), pk=pk)
    pending = Paginator(selectors.form_submissions(form, confirmed=False), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for submission in pending.object_list:
        submission.confirmation_state = confirmation_state(submission, now)
    return render(request, "crm/forms/detail.html", {
        "subscription_form": form, "page": pending, "snippet": embed_snippet(request, form),
        "hosted_url": request.build_absolute_uri(reverse("subscription-form", args=[form.slug])),
    })


@login_required
@permission_required("crm.delete_subscriptionform", raise_exception=True)
def form_delete(request, pk: int):
    """GET asks first; POST deletes. A form people sent is refused (their consent records keep it)."""
    form = get_object_or_404(SubscriptionForm, pk=pk)
    if request.method == "POST":
        try:
            services.form_delete(form=form)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("crm:form-detail", form.pk)
        messages.success(request, f"Form “{form.name}” deleted; its address no longer answers.")
        return redirect("crm:form-list")
    return render(request, "crm/forms/confirm_delete.html", {
        "subscription_form": form, "sent": form.submissions.exists()})


@login_required
@permission_required("crm.change_formsubmission", raise_exception=True)
@require_POST
def form_submission_confirmation(request, pk: int, submission_pk: int):
    """The confirmation email sent again (refused before), or settled (outcome unknown): sent or not."""
    submission = get_object_or_404(FormSubmission, pk=submission_pk, form_id=pk)
    answer = request.POST.get("op", "")
    try:
        if answer == "resend":
            services.submission_confirmation_resend(submission=submission, by=request.user)
            messages.success(request, f"The confirmation email to {submission.email} is queued again.")
        elif answer in ("was_sent", "was_not_sent"):
            services.submission_confirmation_reconcile(submission=submission, sent=answer == "was_sent",
                                                       by=request.user)
            messages.success(request, f"Noted: the confirmation email to {submission.email} " + (
                "was sent." if answer == "was_sent" else "was not sent; it is queued again."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("crm:form-detail", pk)
