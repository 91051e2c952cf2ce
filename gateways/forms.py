"""The back office's provider account form: one per adapter, showing only the fields that adapter
reads (its `parameters` and `secret_parameters`). Secrets are write-only: never filled back in, and a
blank one keeps what is stored. Saving goes through the gateways services."""

from django import forms

from gateways.adapters._http import HttpAdapterMixin
from gateways.capabilities import Adapter, ProviderKind
from gateways.models import ProviderAccount

SETTING_PREFIX = "setting__"
SECRET_PREFIX = "secret__"
# Parameter names are code; these are the ones that do not read well once the underscores go.
LABELS = {
    "api_key": "API key", "base_id": "Base ID", "ca_file": "CA certificate file", "from_email": "From address",
    "helo_name": "HELO name", "url": "URL", "webhook_url": "Webhook URL", "return_path": "Return path (bounces)",
    "publish_as_draft": "Publish as draft",
    "azure_deployment": "Azure deployment", "azure_api_version": "Azure API version",
    "anthropic_version": "Anthropic API version",
    "access_key_id": "Access key ID", "secret_access_key": "Secret access key", "region": "AWS region",
    "notification_topic_arns": "Notification topics (SNS ARNs)",
    "channel_id": "Channel ID", "bot_token": "Bot token",
}
HELP = {
    "security": "starttls, tls or none.",
    "port": "Blank: the usual port for the security chosen.",
    "ca_file": "A file on the server, only for a private certificate authority.",
    "return_path": "Where bounces go (the mailbox the inbox account reads); blank: the From address.",
    "publish_as_draft": "yes to create drafts on the channel instead of publishing.",
    "model": "The provider's model name, e.g. gpt-4o-mini, claude-3-5-haiku-latest or llama3.1.",
    "azure_deployment": "Azure OpenAI only: the deployment name; the base URL is the resource endpoint.",
    "structured_output": "json_schema (OpenAI, Azure, recent Ollama and vLLM), json_object or none.",
    "max_tokens_field": "Blank: max_tokens; max_completion_tokens for OpenAI's reasoning models.",
    "input_price_per_million": "Price of a million input tokens, for the cost estimate; blank: no estimate.",
    "output_price_per_million": "Price of a million output tokens, for the cost estimate.",
    "region": "The SES account's region, e.g. eu-west-1; blank base URL: its email endpoint there.",
    "configuration_set": "The SES configuration set to send with (event publishing); blank: none.",
    "notification_topic_arns": "The SNS topics that post this account's bounces, complaints and deliveries to "
                               "/email/ses/notifications, comma-separated; others are refused.",
    "channel_id": "The channel's ID (C…), at the bottom of its details in Slack; invite the app's bot to the "
                  "channel. The app needs the chat:write and channels:history scopes.",
    "daily_request_budget": "Requests allowed per day (UTC); when spent, the next account is used. Blank: no limit.",
}
# Fields of an account that calls a provider; a placeholder or a manual channel calls no one.
CALLING_FIELDS = ("timeout_seconds", "rate_limit_count", "rate_limit_seconds")


def parameter_label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


class ProviderAccountForm(forms.ModelForm):
    base_url = forms.URLField(required=False, assume_scheme="https", label="Base URL")

    class Meta:
        model = ProviderAccount
        fields = ("name", "priority", "enabled", "base_url", *CALLING_FIELDS)

    def __init__(self, *args, adapter: type[Adapter], **kwargs):
        account = kwargs.get("instance") or ProviderAccount(adapter=adapter.key, capability=adapter.capability)
        super().__init__(*args, **{**kwargs, "instance": account})
        self.adapter = adapter
        if adapter.kind != ProviderKind.REAL:
            for name in CALLING_FIELDS:
                del self.fields[name]
        if issubclass(adapter, HttpAdapterMixin):
            self.fields["base_url"].help_text = (f"Blank: {adapter.default_base_url}." if adapter.default_base_url
                                                 else "The provider's address, e.g. your server's.")
        else:
            del self.fields["base_url"]
        stored = account.settings or {}
        for name in adapter.parameters:
            self.fields[SETTING_PREFIX + name] = forms.CharField(
                label=parameter_label(name), required=False, initial=stored.get(name, ""), help_text=HELP.get(name, ""))
        held = set(account.credential_names or [])
        for name in adapter.secret_parameters:
            state = "Set: leave blank to keep it." if name in held else "Not set."
            self.fields[SECRET_PREFIX + name] = forms.CharField(
                label=parameter_label(name), required=False, strip=True, help_text=state,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}))

    def plain_fields(self):
        return [self[name] for name in self.fields if not name.startswith((SETTING_PREFIX, SECRET_PREFIX))]

    def setting_fields(self):
        return [self[name] for name in self.fields if name.startswith(SETTING_PREFIX)]

    def secret_fields(self):
        return [self[name] for name in self.fields if name.startswith(SECRET_PREFIX)]

    def service_fields(self) -> dict:
        """Keyword arguments of account_create / account_update: blank settings are left out (the
        adapter's default applies), blank secrets too (the stored one stays)."""
        data = self.cleaned_data
        fields = {name: data[name] for name in self.Meta.fields if name in self.fields}
        fields["settings"] = {name: data[SETTING_PREFIX + name] for name in self.adapter.parameters
                              if data[SETTING_PREFIX + name]}
        fields["credentials"] = {name: data[SECRET_PREFIX + name] for name in self.adapter.secret_parameters
                                 if data[SECRET_PREFIX + name]}
        return fields

    def add_service_error(self, error) -> None:
        """A ValidationError from the services, on the field it names when the form shows it."""
        for field, messages in getattr(error, "message_dict", {None: error.messages}).items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
