"""What email keeps about a person, removed when crm erases them (crm.privacy.contact_erased).

Deliveries stay, so campaign counts (sent, opened, clicked, bounced) do not change; what a provider
or a mailbox said about the message goes, since bounce diagnostics and SMTP answers quote the
address. Inbound events keep their kind (complaint and bounce counts) and lose their detail, which
holds subjects, diagnostics and addresses; an event matched to nobody is found by the address itself.
"""

from django.db.models import Q

from publishing.email.models import EmailDelivery, InboundEvent


def contact_email_data_erase(*, contact_id: int, email: str) -> None:
    EmailDelivery.objects.filter(contact_id=contact_id).update(provider_response="", error="", failover_note="")
    InboundEvent.objects.filter(Q(contact_id=contact_id) | Q(delivery__contact_id=contact_id)
                                | Q(detail__icontains=email)).update(detail={})


def on_contact_erased(sender, *, contact_id: int, email: str, **kwargs) -> None:
    contact_email_data_erase(contact_id=contact_id, email=email)
