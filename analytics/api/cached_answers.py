"""Whole answers of the dashboard's reports, kept until what they show can change.

With the roll-up sums cached (analytics.reports.cache), a cached request still built the report again in
Python and rendered it to JSON or CSV. The rendered bytes are kept instead, under a key made of the report,
its validated query (defaults filled in, so two spellings of one period share it) and the format asked for,
with the state they show: the fold checkpoint, and whatever else the report reads live (the tier counts and
lag, a campaign's own row, the releases on a trend). A request reads the answer and the checkpoint the last
fold put in the cache in one round trip (with a cache every process shares; with each process's own, the
checkpoint from the database), reads the rest of the state live (in one query or none), and is answered
from the cache only if both match: a new fold, rebuild or scoring run, or an edit of the campaign, changes
that state, and the next request recomputes. Reports read the same for every role that may open
them, so the key names no user; the request is authenticated, throttled and checked before the cache is
asked.
"""

import hashlib

from django.core.cache import cache
from django.http import HttpResponse
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import conf
from analytics.reports.cache import fold_state
from analytics.services.rollups import FOLD_STATE_KEY

# The browsable API's page holds the user's name and a CSRF token: never kept.
KEPT_FORMATS = ("json", "csv")
KEPT_HEADERS = ("Content-Type", "Content-Disposition")


class CachedAnswerView(APIView):
    """A report view answering `cached_answer(request, live, compute)` from its get()."""

    # Whether live() and compute() read the checkpoint they are given, when the answer is not kept (else None).
    reads_checkpoint = False

    def cached_answer(self, request, live, compute, *, live_and_checkpoint=None, **query):
        """compute(checkpoint, shown)'s answer, rendered once per fold checkpoint and `shown`, what
        live(checkpoint) reads of the rest the report shows (None: such an answer is never kept).
        live_and_checkpoint(): (checkpoint, shown) from the database in one query, where the report's live
        read can carry the checkpoint (else the checkpoint is read first, then live)."""

        def from_database():
            if live_and_checkpoint is not None:
                return live_and_checkpoint()
            checkpoint = fold_state()
            return checkpoint, live(checkpoint)

        seconds = conf.report_cache_seconds()
        if not seconds or request.accepted_renderer.format not in KEPT_FORMATS:
            checkpoint, shown = (from_database() if self.reads_checkpoint or live_and_checkpoint
                                 else (None, live(None)))
            return Response(compute(checkpoint, shown))
        fingerprint = repr((type(self).__name__, sorted(query.items()), request.accepted_media_type))
        key = "analytics:answer:" + hashlib.sha256(fingerprint.encode()).hexdigest()
        shared = conf.fold_state_cached()
        found = cache.get_many([FOLD_STATE_KEY, key] if shared else [key])
        remembered = found.get(FOLD_STATE_KEY)
        if remembered is not None:
            checkpoint, shown = remembered, live(remembered)
        else:
            checkpoint, shown = from_database()
            if shared and checkpoint is not None:
                # Add, never set: this read may be older than the checkpoint a fold has put there meanwhile.
                cache.add(FOLD_STATE_KEY, checkpoint, seconds)
        kept = found.get(key)
        if checkpoint is not None and shown is not None and kept is not None and kept[0] == (checkpoint, shown):
            return HttpResponse(kept[1], headers=kept[2])
        if remembered is not None:
            # The cache's checkpoint may be a fold's that has not committed yet (it puts it there first): a
            # computed answer is kept under the checkpoint the database shows beside the roll-ups it sums.
            checkpoint, shown = from_database()
        response = Response(compute(checkpoint, shown))
        if checkpoint is not None and shown is not None:
            response.answer_kept = (key, (checkpoint, shown))
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        kept = getattr(response, "answer_kept", None)
        if kept is not None and response.status_code == 200:
            response.render()
            key, state = kept
            headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
            cache.set(key, (state, response.content, headers), conf.report_cache_seconds())
        return response
