from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's real address: with N trusted proxies in front, the N-th entry from the right
    of X-Forwarded-For (entries further left are written by the client and cannot be trusted)."""
    count = settings.TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "")
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return forwarded[0] if forwarded else remote
    return forwarded[-count]
