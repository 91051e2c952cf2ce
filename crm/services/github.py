"""GitHub webhook deliveries into the CRM: a star or a fork by someone whose public email is a contact's
becomes an engagement event on that contact.

Each delivery id is applied once (a unique GitHubDelivery row, taken in the same transaction as its
effects). Nobody is created from a star: a public email is not consent to be contacted. Apps above the
CRM act on other events (a release becomes a content draft in publishing) through
`github_handler_register`, called from their AppConfig.ready().
"""

from collections.abc import Callable

from django.db import IntegrityError, transaction

from crm.choices import EventKind
from crm.models import Contact, GitHubDelivery, GitHubUser
from crm.services.engagement import contact_record_event

GITHUB_SOURCE = "github"
# The event and the action that mean someone engaged with the repository.
ENGAGEMENTS = {("star", "created"): EventKind.STARRED, ("fork", None): EventKind.FORKED}
# event name -> handlers(delivery_id=..., payload=...), run once per delivery in its transaction.
_HANDLERS: dict[str, list[Callable[..., None]]] = {}


def github_handler_register(event: str, handler: Callable[..., None]) -> None:
    handlers = _HANDLERS.setdefault(event, [])
    if handler not in handlers:
        handlers.append(handler)


def _engagement(*, delivery_id: str, event: str, payload: dict) -> Contact | None:
    kind = ENGAGEMENTS.get((event, payload.get("action") if event != "fork" else None))
    sender = payload.get("sender") or {}
    email = str(sender.get("email") or "").strip().lower()
    if kind is not None and not email and sender.get("login"):
        # GitHub's webhook user objects rarely carry an email; a stargazers backfill may have looked this one up.
        email = (GitHubUser.objects.filter(login=str(sender["login"])).values_list("email", flat=True).first()
                 or "").lower()
    if kind is None or not email:
        return None
    contact = Contact.objects.filter(email=email).first()
    if contact is None:
        return None
    repository = (payload.get("repository") or {}).get("full_name") or ""
    contact_record_event(contact=contact, kind=kind, channel=GITHUB_SOURCE, source_kind=GITHUB_SOURCE,
                         source_id=delivery_id, detail={"repository": repository, "login": sender.get("login", "")})
    return contact


def github_delivery_apply(*, delivery_id: str, event: str, payload: dict) -> bool:
    """Applies a verified delivery; False when this delivery id was applied before."""
    try:
        with transaction.atomic():
            row = GitHubDelivery.objects.create(delivery_id=delivery_id, event=event[:60])
            contact = _engagement(delivery_id=delivery_id, event=event, payload=payload)
            for handler in _HANDLERS.get(event, ()):
                handler(delivery_id=delivery_id, payload=payload)
            if contact is not None:
                row.contact = contact
                row.save(update_fields=["contact"])
    except IntegrityError:
        if GitHubDelivery.objects.filter(delivery_id=delivery_id).exists():
            return False
        raise
    return True
