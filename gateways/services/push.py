"""Web push through the browsers' push services, with this installation's VAPID keys."""

from gateways.webpush import PushReceipt, PushTarget, push_send, vapid_public_key

__all__ = ["PushReceipt", "PushTarget", "push_send", "vapid_public_key"]
