"""The Admin's page for choosing which failing checks block approval."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, user_passes_test
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from aicmo_site.errors import DomainError
from aicmo_site.roles import holds_admin_role
from publishing import services
from publishing.choices import CheckKind
from publishing.models import BlockingCheck


class BlockingChecksForm(forms.Form):
    keys = forms.MultipleChoiceField(
        label="Checks that block approval when they fail",
        choices=CheckKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="A check not chosen here still shows its outcome to the approver, who decides.",
    )


def _is_admin(user) -> bool:
    if not holds_admin_role(user):
        raise PermissionDenied
    return True


@login_required
@user_passes_test(_is_admin)
def blocking_checks(request):
    current = list(BlockingCheck.objects.values_list("key", flat=True))
    # Bound on every POST: an empty one (no box ticked) means "none block", not "show the form".
    form = BlockingChecksForm(request.POST if request.method == "POST" else None, initial={"keys": current})
    if request.method == "POST" and form.is_valid():
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
    return render(request, "publishing/blocking_checks.html", {"form": form})
