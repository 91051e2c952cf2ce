"""The form that sets up an email send from the back office: which campaign (or a new one), template,
sender, audience, subject and preview line, an optional A/B test, and when it goes out."""

from django import forms
from django.conf import settings

from gateways.capabilities import Capability
from gateways.models import ProviderAccount
from publishing.campaign_forms import AudienceMixin, LocalDateTimeInput
from publishing.choices import TERMINAL_CAMPAIGN
from publishing.email.choices import ABMetric
from publishing.email.models import ABTest, EmailTemplate
from publishing.models import Campaign

WHEN_CHOICES = [("now", "Send now (you confirm on the next page)"), ("later", "Schedule it")]
TEST_CHOICES = [("", "No A/B test"), ("subject", "Test subject lines"), ("template", "Test templates")]


def sender_accounts() -> list[ProviderAccount]:
    """Enabled sending accounts that send for real and say from which address: a placeholder that
    calls no one is never offered as a sender."""
    accounts = ProviderAccount.objects.filter(capability=Capability.EMAIL_SENDING, enabled=True).order_by(
        "priority", "name")
    return [account for account in accounts if not account.is_fallback and (account.settings or {}).get("from_email")]


class SenderField(forms.ModelChoiceField):
    def label_from_instance(self, account):
        return f"{account.settings['from_email']} ({account.name})"


class EmailSendForm(AudienceMixin, forms.Form):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False,
                                      empty_label="A new campaign for this send",
                                      help_text="The send shares the campaign's audience and reports.")
    name = forms.CharField(max_length=200, required=False, label="Name of the new campaign")
    template = forms.ModelChoiceField(queryset=EmailTemplate.objects.only("pk", "name"))
    sender = SenderField(queryset=ProviderAccount.objects.none(), empty_label=None, label="From",
                         help_text="The sending accounts that are set up. Mail goes out through them in their order.")
    from_name = forms.CharField(max_length=120, required=False, label="Sender name")
    reply_to = forms.EmailField(required=False, label="Replies go to")
    subject = forms.CharField(max_length=300, required=False, help_text="Empty: the template's subject.")
    preheader = forms.CharField(max_length=300, required=False, label="Preview line",
                                help_text="Shown after the subject in the inbox. Empty: the template's.")
    ab_test = forms.ChoiceField(choices=TEST_CHOICES, required=False, label="A/B test")
    subject_b = forms.CharField(max_length=300, required=False, label="Subject B")
    subject_c = forms.CharField(max_length=300, required=False, label="Subject C (optional)")
    template_b = forms.ModelChoiceField(queryset=EmailTemplate.objects.only("pk", "name"), required=False,
                                        label="Template B")
    test_share = forms.IntegerField(min_value=2, max_value=100, initial=20, label="Audience share in the test (%)",
                                    help_text="This share is split evenly over the variants; the rest gets the winner.")
    metric = forms.ChoiceField(choices=ABMetric.choices, initial=ABMetric.OPEN_RATE, label="Winner by")
    wait_hours = forms.IntegerField(min_value=1, max_value=24 * 14, initial=4, label="Test duration (hours)")
    automatic = forms.TypedChoiceField(
        choices=[("yes", "Pick the winner automatically when the result is clear"),
                 ("no", "I pick the winner myself")], coerce=lambda value: value == "yes", initial="yes",
        widget=forms.RadioSelect, label="Winner")
    deliver_at_best_hour = forms.BooleanField(
        required=False, label="Deliver at each contact's best hour within the next 24 hours",
        help_text="Once the send starts, each email waits for the hour its contact usually opens email, learned "
                  "from their past opens and clicks (else their segment's, else everyone's). Contacts with no "
                  "history anywhere get it at once. Not with an A/B test.")
    when = forms.ChoiceField(choices=WHEN_CHOICES, initial="now", widget=forms.RadioSelect, label="When")
    send_at = forms.DateTimeField(required=False, widget=LocalDateTimeInput(), label="Send at")

    def __init__(self, *args, send=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.send = send
        if send is not None:
            # A send belongs to its campaign for good.
            del self.fields["campaign"], self.fields["name"]
        self._set_up_audience(sized=True)
        if send is None:
            self.fields["campaign"].queryset = (Campaign.objects.exclude(status__in=TERMINAL_CAMPAIGN)
                                                .filter(email__isnull=True).only("pk", "name"))
        accounts = sender_accounts()
        self.has_senders = bool(accounts)
        self.fields["sender"].queryset = ProviderAccount.objects.filter(pk__in=[a.pk for a in accounts])
        self.fields["send_at"].help_text = f"In {settings.TIME_ZONE}."

    def clean(self):
        data = super().clean()
        if self.send is None and not data.get("campaign") and not (data.get("name") or "").strip():
            self.add_error("name", "Name the new campaign, or choose an existing one.")
        test = data.get("ab_test")
        if test == "subject" and not data.get("subject_b"):
            self.add_error("subject_b", "Write the subject line to test against.")
        if test == "template":
            if not data.get("template_b"):
                self.add_error("template_b", "Choose the template to test against.")
            elif data["template_b"] == data.get("template"):
                self.add_error("template_b", "Choose a template other than the send's own.")
        if test and data.get("deliver_at_best_hour"):
            self.add_error("deliver_at_best_hour", "An A/B test times its phases from the start: choose either "
                                                   "the test or delivery at each contact's best hour.")
        if data.get("when") == "later" and not data.get("send_at"):
            self.add_error("send_at", "Give the date and time to send at.")
        return data

    def set_up_fields(self) -> dict:
        data = self.cleaned_data
        return {"template": data["template"], "from_email": data["sender"].settings["from_email"],
                "from_name": data["from_name"], "reply_to": data["reply_to"], "subject": data["subject"],
                "preheader": data["preheader"], "deliver_at_best_hour": data["deliver_at_best_hour"]}

    def variants(self) -> list[dict]:
        """The A/B variants: A is the send as written, the others change one thing."""
        data = self.cleaned_data
        if data["ab_test"] == "template":
            return [{"label": "A", "template": data["template"]}, {"label": "B", "template": data["template_b"]}]
        subject_a = data["subject"] or data["template"].subject
        return [{"label": label, "subject": subject} for label, subject in
                (("A", subject_a), ("B", data["subject_b"]), ("C", data["subject_c"])) if subject]

    @classmethod
    def initial_for(cls, send) -> dict:
        """The form as the send was set up, so saving it unchanged changes nothing."""
        sender = next((a.pk for a in sender_accounts() if a.settings["from_email"] == send.from_email), None)
        initial = {"template": send.template_id, "sender": sender, "from_name": send.from_name,
                   "reply_to": send.reply_to, "subject": send.subject, "preheader": send.preheader,
                   "when": "later" if send.send_at else "now", "send_at": send.send_at,
                   "deliver_at_best_hour": send.deliver_at_best_hour,
                   **cls.audience_initial(send.campaign.audience or {})}
        test = ABTest.objects.filter(email_campaign=send).prefetch_related("variants").first()
        if test is not None:
            variants = {variant.label: variant for variant in test.variants.all()}
            by_template = any(variant.template_id for variant in variants.values())
            initial.update(ab_test="template" if by_template else "subject", test_share=test.test_share,
                           metric=test.metric, wait_hours=max(1, test.wait_minutes // 60),
                           automatic="yes" if test.automatic else "no")
            if by_template:
                initial["template_b"] = variants["B"].template_id if "B" in variants else None
            else:
                initial.update(subject_b=getattr(variants.get("B"), "subject", ""),
                               subject_c=getattr(variants.get("C"), "subject", ""))
        return initial
