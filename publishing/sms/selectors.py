"""Reads of SMS sends that other parts of the site ask for."""

from publishing.sms.choices import SmsSendStatus
from publishing.sms.models import SmsSend


def sms_sends_needing_a_provider() -> list[str]:
    """The SMS sends under way, which need an SMS provider (gateways.readiness.register_use): one query
    however many there are, naming the first five."""
    names = SmsSend.objects.filter(status=SmsSendStatus.SENDING).order_by("pk").values_list("campaign__name",
                                                                                           flat=True)
    return [f"SMS “{name}” is sending" for name in names[:5]]
