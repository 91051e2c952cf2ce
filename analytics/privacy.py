"""What analytics keeps about a person, removed when crm erases them (crm.privacy.contact_erased).

The current score row stays, so tier counts stay true (it names no one once the contact is anonymous);
the day-by-day score history of the person goes, being a trace of their behaviour over time.
"""

from analytics.models import ContactScoreHistory


def contact_analytics_erase(*, contact_id: int) -> None:
    ContactScoreHistory.objects.filter(contact_id=contact_id).delete()


def on_contact_erased(sender, *, contact_id: int, **kwargs) -> None:
    contact_analytics_erase(contact_id=contact_id)
