"""The Admin's page for choosing which failing checks block approval, and the reading level each kind
of content aims at."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, user_passes_test
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from aicmo_site.errors import DomainError
from aicmo_site.roles import holds_admin_role
from publishing import services
from publishing.checks import readability_targets
from publishing.choices import CheckKind, ContentKind
from publishing.models import BlockingCheck

# What each check looks at, shown beside its box so the Admin knows what a failure means.
CHECK_DESCRIPTIONS = {
    CheckKind.SPAM_WORDS: "Phrases spam filters score (“act now”, “100% free”…); an email with three or more fails.",
    CheckKind.SHOUTING: "Words in capitals and “!!!”; an email subject with “!!!” or mostly capitals fails.",
    CheckKind.ALT_TEXT: "Every attached image needs alt text for people using screen readers.",
    CheckKind.CHANNEL_FIT: "Each channel version within its channel's length, hashtag, mention and media rules.",
    CheckKind.UNSUBSCRIBE: "An email needs an unsubscribe link (Gmail and Yahoo require it).",
    CheckKind.POSTAL_ADDRESS: "A postal address in an email (CAN-SPAM); missing only warns, as a footer may add it.",
    CheckKind.LINKS: "Every link fetched in the background; a link that fails or answers an error fails.",
    CheckKind.UTM: "Links carry the UTM parameters when the campaign asks for them.",
    CheckKind.READABILITY: "Flesch-Kincaid grade against the target below, or the reading grade of a segment the "
                           "content's campaign is aimed at: up to 3 grades above warns, more fails.",
    CheckKind.IMAGE_SIZE: "Each image of a channel version against the channel's limits on file size, pixels "
                          "and shape.",
}


class BlockingChecksForm(forms.Form):
    keys = forms.MultipleChoiceField(
        label="Checks that block approval when they fail",
        choices=CheckKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="A check not chosen here still shows its outcome to the approver, who decides.",
    )


class ReadabilityTargetsForm(forms.Form):
    def __init__(self, *args, targets: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in ContentKind.choices:
            self.fields[kind] = forms.IntegerField(label=label, min_value=1, max_value=18, initial=targets[kind])


def _is_admin(user) -> bool:
    if not holds_admin_role(user):
        raise PermissionDenied
    return True


@login_required
@user_passes_test(_is_admin)
def blocking_checks(request):
    current = list(BlockingCheck.objects.values_list("key", flat=True))
    targets = readability_targets()
    posted = request.POST if request.method == "POST" else None
    which = request.POST.get("form", "blocking") if posted is not None else None
    # Bound on its own POST: an empty one (no box ticked) means "none block", not "show the form".
    form = BlockingChecksForm(posted if which == "blocking" else None, initial={"keys": current})
    targets_form = ReadabilityTargetsForm(posted if which == "readability" else None, targets=targets)
    if which == "readability" and targets_form.is_valid():
        try:
            services.readability_targets_set(grades=targets_form.cleaned_data, by=request.user)
        except DomainError as exc:
            targets_form.add_error(None, exc.message)
        else:
            messages.success(request, "Readability targets saved.")
            return redirect("publishing:blocking-checks")
    elif which == "blocking" and form.is_valid():
        try:
            chosen = services.blocking_checks_set(keys=form.cleaned_data["keys"], by=request.user)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            labels = ", ".join(CheckKind(key).label for key in chosen)
            messages.success(
                request,
                f"Blocking approval when they fail: {labels}."
                if chosen
                else "No check blocks approval now; approvers see every outcome and decide.",
            )
            return redirect("publishing:blocking-checks")
    checks = [(key, label, CHECK_DESCRIPTIONS[key]) for key, label in CheckKind.choices]
    return render(request, "publishing/blocking_checks.html", {"form": form, "targets_form": targets_form,
                                                                "checks": checks})
