"""The preference centre: /u/<token>/topics/, reached from the unsubscribe page of an email.

The token is the email's unsubscribe token: whoever holds the email may choose its reader's topics
(as they may unsubscribe them), and no other credential exists for a person who never logs in. Like
the unsubscribe page it needs no cookie, so it takes no CSRF token: the signed token in the URL is
what a forged request cannot have. Only public topics are offered and changed.
"""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm.choices import ConsentStatus
from crm.models import Topic
from crm.services import contact_topics_set
from publishing.email.models import EmailDelivery
from publishing.email.tokens import read_token


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def topics(request, token: str):
    claims = read_token("unsubscribe", token)
    delivery = claims and EmailDelivery.objects.select_related("contact").filter(pk=claims.delivery_id).first()
    if not delivery or delivery.contact.erased_at:
        raise Http404("No such preference page")
    contact = delivery.contact
    offered = list(Topic.objects.filter(public=True))
    saved = request.method == "POST"
    if saved:
        wanted = set(request.POST.getlist("topics"))
        contact_topics_set(contact=contact, topics=[topic for topic in offered if topic.slug in wanted],
                           source="email:preferences", public_only=True)
    held = set(contact.topics.filter(public=True).values_list("pk", flat=True))
    return render(request, "publishing/email/preferences.html", {
        "email": contact.email, "topics": [(topic, topic.pk in held) for topic in offered], "saved": saved,
        "unsubscribed": contact.consent_status == ConsentStatus.UNSUBSCRIBED,
    })
