"""The audit log of every change, kept by django-auditlog (its LogEntry rows, written by its signals).

This module adds what the log needs beyond that: where each change came from (back office, admin, API
and the token, command, worker and its task), and one entry per bulk operation (an import, a bulk
action, a journey step) with its count and its run, so a change to forty thousand contacts is one row.

Entries are only ever added here: nothing in the application changes or deletes them.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models

SECRET_SHOWN_AS = "(secret, not recorded)"
ERASED = "(erased)"


class AuditSource(models.TextChoices):
    BACK_OFFICE = "back_office", "Back office"
    ADMIN = "admin", "Django admin"
    API = "api", "API"
    COMMAND = "command", "Command"
    WORKER = "worker", "Worker"
    # A shell or a script run outside the commands: the log says it was not known, never guesses.
    UNKNOWN = "unknown", "Not known (shell or script)"


# Where the changes of this request, command or task come from: {"source", "detail", "actor", "request"}.
_where: ContextVar[dict | None] = ContextVar("aicmo_audit_where", default=None)


def secret_masked(value: str) -> str:
    """AUDITLOG_MASK_CALLABLE: django-auditlog's own mask keeps half the value; a secret keeps nothing."""
    return SECRET_SHOWN_AS


@contextmanager
def audit_source(source: str, detail: str = "", actor=None):
    """Every change made inside is logged as coming from `source` (and `detail`: which command, which
    task), by `actor` when the change itself names no one."""
    token = _where.set({"source": source, "detail": detail[:200], "actor": actor})
    try:
        yield
    finally:
        _where.reset(token)


def _request_where(request) -> dict:
    """The request's user and token are read when an entry is written, not when the request arrives:
    the API authenticates its token inside the view, after every middleware."""
    path = request.path
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    where = {"source": AuditSource.BACK_OFFICE, "detail": path[:200], "actor": actor,
             "remote_addr": request.META.get("REMOTE_ADDR") or None}
    if path.startswith("/admin/"):
        where["source"] = AuditSource.ADMIN
    elif path.startswith("/api/"):
        auth = getattr(request, "auth", None)
        key = getattr(auth, "token_key", "")
        where.update(source=AuditSource.API, detail=f"token {key}" if key else "signed-in session")
    return where


def current_where() -> dict:
    where = _where.get()
    if where is None:
        return {"source": AuditSource.UNKNOWN, "detail": "", "actor": None}
    if "request" in where:
        return _request_where(where["request"])
    return where


class AuditSourceMiddleware:
    """Ties the changes a request makes to where it came from (admin, API, back office)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _where.set({"request": request})
        try:
            return self.get_response(request)
        finally:
            _where.reset(token)


def entry_stamp(sender, instance: LogEntry, **kwargs) -> None:
    """pre_save of every new LogEntry: its source, and its actor when the change named no one."""
    if instance.pk is not None:
        return
    where = current_where()
    data = dict(instance.additional_data or {})
    data.setdefault("source", str(where["source"]))
    if where.get("detail"):
        data.setdefault("source_detail", where["detail"])
    instance.additional_data = data
    actor = where.get("actor")
    if instance.actor_id is None and actor is not None and getattr(actor, "pk", None):
        instance.actor = actor
        instance.actor_email = getattr(actor, "email", None) or None
    if instance.remote_addr is None and where.get("remote_addr"):
        instance.remote_addr = where["remote_addr"]


def task_started(sender, func=None, task=None, **kwargs) -> None:
    """django-q2's pre_execute, in the worker: every change of the task is logged as the worker's."""
    name = (task or {}).get("func")
    name = name if isinstance(name, str) else getattr(func, "__qualname__", "") or "task"
    _where.set({"source": AuditSource.WORKER, "detail": name, "actor": None})


def task_finished(sender, task=None, **kwargs) -> None:
    _where.set(None)


@contextmanager
def audit_quietly():
    """For the bulk paths that log one operation entry instead: no entry per row (a set-based DELETE
    still visits each row for its cascades, and django-auditlog would log each one)."""
    with disable_auditlog():
        yield


def audit_operation(*, model, action: str, count: int, by=None, run=None, link: str = "",
                    details: dict | None = None) -> LogEntry:
    """One entry for a change to many rows: what was done (`action`, in words), how many rows, and the
    run (a BackgroundRun or a run with its own page) or page that holds the details."""
    data = {"operation": action, "count": count, **(details or {})}
    if run is not None:
        data["run"] = {"id": run.pk, "kind": run._meta.verbose_name, "url": link or getattr(run, "link", "") or ""}
    elif link:
        data["link"] = link
    noun = model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
    entry = LogEntry(content_type=ContentType.objects.get_for_model(model), object_pk="", object_id=None,
                     object_repr=f"{action}: {count} {noun}"[:500], action=LogEntry.Action.UPDATE,
                     changes={}, changes_text="", additional_data=data,
                     actor=by if by is not None and getattr(by, "is_authenticated", False) else None)
    entry.save()
    return entry


def audit_erase(obj, *, by=None, note: str) -> LogEntry:
    """A person's erasure reaches their history too: each entry keeps which fields changed, when, by whom
    and from where, but no value and no name of theirs; then one entry records the erasure itself. The
    one change ever made to entries, because the law asks for it."""
    entries = list(LogEntry.objects.get_for_object(obj).only("pk", "changes"))
    for entry in entries:
        entry.object_repr = ERASED
        entry.changes = {field: [ERASED, ERASED] for field in (entry.changes or {})}
        entry.changes_text = ""
        entry.serialized_data = None
    LogEntry.objects.bulk_update(entries, ["object_repr", "changes", "changes_text", "serialized_data"], batch_size=500)
    erasure = LogEntry(content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk), object_id=obj.pk,
                       object_repr=str(obj), action=LogEntry.Action.UPDATE, changes={}, changes_text="",
                       additional_data={"operation": note},
                       actor=by if by is not None and getattr(by, "is_authenticated", False) else None)
    erasure.save()
    return erasure


def audit_history(obj, *, limit: int = 20):
    """The latest entries of one object, newest first, for the History section of its page."""
    return (LogEntry.objects.get_for_object(obj).select_related("actor").order_by("-timestamp", "-pk")[:limit])



def audit_entries():
    """Every entry, newest first, with what the audit page and /api/audit/ show of each."""
    return LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")


__all__ = ["AuditSource", "AuditSourceMiddleware", "audit_entries", "audit_erase", "audit_history", "audit_operation",
           "audit_quietly", "audit_source", "current_where", "secret_masked"]
