"""What analytics keeps about a person, removed when crm erases them (crm.privacy.contact_erased).

The day-by-day score history of the person goes at once, being a trace of their behaviour over time.
Erased contacts are not scored: the next full scoring run drops their current score (and the tier
counts with it) and returns their copy in crm to 0, inactive.
"""

from analytics.models import ContactScoreHistory


def contact_analytics_erase(*, contact_id: int) -> None:
    ContactScoreHistory.objects.filter(contact_id=contact_id).delete()


def on_contact_erased(sender, *, contact_id: int, **kwargs) -> None:
    contact_analytics_erase(contact_id=contact_id)
