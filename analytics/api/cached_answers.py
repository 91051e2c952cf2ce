"""Whole answers of the dashboard's reports, kept until what they show can change.

With the roll-up sums cached (analytics.reports.cache), a cached request still built the report again in
Python and rendered it to JSON or CSV. The rendered bytes are kept instead, under a key made of the report,
its validated query (defaults filled in, so two spellings of one period share it), the format asked for and
the live state the report shows: the fold checkpoint, and whatever else it reads live (the tier counts and
lag, a campaign's own row, the releases on a trend), read in as few queries as before. A new fold, rebuild or
scoring run, or an edit of the campaign, changes that state and so the key: the next request recomputes.
Reports read the same for every role that may open them, so the key names no user; the request is
authenticated, throttled and checked before the cache is asked.
"""

import hashlib

from django.core.cache import cache
from django.http import HttpResponse
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import conf

# The browsable API's page holds the user's name and a CSRF token: never kept.
KEPT_FORMATS = ("json", "csv")
KEPT_HEADERS = ("Content-Type", "Content-Disposition")


class CachedAnswerView(APIView):
    """A report view answering `cached_answer(request, state, compute)` from its get()."""

    def cached_answer(self, request, state, compute, **query):
        """compute()'s answer, rendered once per `state` (None: the report is not kept; it is computed)."""
        seconds = conf.report_cache_seconds()
        if not seconds or state is None or request.accepted_renderer.format not in KEPT_FORMATS:
            return Response(compute())
        fingerprint = repr((type(self).__name__, sorted(query.items()), request.accepted_media_type, state))
        key = "analytics:answer:" + hashlib.sha256(fingerprint.encode()).hexdigest()
        found = cache.get(key)
        if found is not None:
            body, headers = found
            return HttpResponse(body, headers=headers)
        response = Response(compute())
        response.answer_key = key
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        key = getattr(response, "answer_key", None)
        if key is not None and response.status_code == 200:
            response.render()
            headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
            cache.set(key, (response.content, headers), conf.report_cache_seconds())
        return response
