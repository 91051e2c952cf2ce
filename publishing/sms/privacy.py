"""What SMS sends keep about a person, removed when crm erases them (crm.privacy.contact_erased).

Deliveries stay, so a send's counts do not change; the number they were sent to goes (each keeps a
placeholder unique within its send), and so does the provider's error text, which may quote it.
"""

from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat

from publishing.sms.models import SmsDelivery


def contact_sms_data_erase(*, contact_id: int) -> None:
    SmsDelivery.objects.filter(contact_id=contact_id).update(
        to=Concat(Value("erased-"), Cast("id", output_field=CharField())), error="")


def on_contact_erased(sender, *, contact_id: int, **kwargs) -> None:
    contact_sms_data_erase(contact_id=contact_id)
