"""The one way a status changes: a workflow per model (its transition table, terminal set, audit and
actions) and the functions that check a move, lock the row, save it, record it and return it.

Each app declares its workflows next to its services (`Workflow(model=..., transitions=...)`); pages,
the API and the admin ask `available_actions(obj, user)` for the buttons, and the services call
`workflow.transition(...)`, which refuses what the buttons would not offer, so a rule cannot live in a
page only. Apps whose history table carries meaning of its own (a contact's lifecycle, content's
events, a job's events...) keep it: their workflow's `audit` hook writes the row there; any other
workflow writes the shared `StatusChange`.
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.models import StatusChange


class Via(models.TextChoices):
    """Where a change came from, when it is cheap to know."""

    PAGE = "page", "Back-office page"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Command"
    WORKER = "worker", "Background worker"


@dataclass(frozen=True)
class Change:
    """One move, as handed to a workflow's audit hook."""

    obj: models.Model
    source: str
    target: str
    by: object = None
    note: str = ""
    via: str = ""
    extra: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class BulkChange:
    """One set-based move of many rows from one source, as handed to a workflow's bulk audit hook."""

    model: type[models.Model]
    ids: list
    source: str
    target: str
    by: object = None
    note: str = ""
    via: str = ""


@dataclass(frozen=True)
class Action:
    """A button a person may press: what it is called, where it takes the object (None: no move, e.g.
    "edit"), who may (a permission) and when (a condition on the object and the person, with the
    reason given when it does not hold)."""

    name: str
    label: str
    to: str | None = None
    permission: str | None = None
    condition: Callable[[models.Model, object], bool] | None = None
    refusal: str = ""
    sources: Collection[str] | None = None

    def possible_from(self, workflow: "Workflow", status: str) -> bool:
        if self.sources is not None and status not in self.sources:
            return False
        return self.to is None or workflow.allowed(status, self.to)

    def permitted(self, obj, user) -> bool:
        return (self.permission is None or user.has_perm(self.permission)) and (
            self.condition is None or bool(self.condition(obj, user))
        )


# Rows per UPDATE and audit batch in a bulk move with per-row audit: bounded statements and memory.
_CHUNK = 2000

_WORKFLOWS: dict[type[models.Model], "Workflow"] = {}


class Workflow:
    """A model's state machine. `transitions`: status → statuses it may go to; `terminal`: the statuses
    where the work on the object ends (some apps still let a person bring it back, e.g. a restore);
    `audit(change)` / `bulk_audit(change)`: write the history row(s) when the app keeps its own table,
    `audit_model`;
    `clean_exclude`: full_clean the row before saving, leaving out these fields (None: no full_clean,
    for apps that do not); `noun`: how messages name the object ("job"); `refused(source, target,
    allowed)`: the error for a move not in the table, where an app's API already promised its own;
    `register`: False for a workflow that is not the model's own (tests)."""

    def __init__(
        self,
        *,
        model: type[models.Model],
        transitions: Mapping[str, Collection[str]],
        terminal: Collection[str],
        field: str = "status",
        noun: str = "",
        audit: Callable[[Change], None] | None = None,
        audit_model: type[models.Model] | None = None,
        bulk_audit: Callable[[BulkChange], None] | None = None,
        clean_exclude: Iterable[str] | None = None,
        actions: Iterable[Action] = (),
        refused: Callable[[str, str, list], DomainError] | None = None,
        register: bool = True,
    ):
        self.model = model
        self.field = field
        self.transitions = {source: frozenset(targets) for source, targets in transitions.items()}
        self.terminal = frozenset(terminal)
        self.noun = noun or model._meta.verbose_name
        self.audit = audit or _record_status_change
        self.audit_model = audit_model or StatusChange
        self.bulk_audit = bulk_audit
        self.clean_exclude = None if clean_exclude is None else list(clean_exclude)
        self.actions = tuple(actions)
        self.refused = refused
        self.choices = {value: str(label) for value, label in model._meta.get_field(field).flatchoices}
        if set(self.transitions) != set(self.choices):
            raise ValueError(f"{model.__name__}.{field}: the table must list every status once.")
        if not self.terminal <= set(self.choices):
            raise ValueError(f"{model.__name__}.{field}: a terminal status is not a status.")
        if register:
            _WORKFLOWS[model] = self

    def label(self, status: str) -> str:
        return self.choices.get(status, status).lower()

    def allowed(self, source: str, target: str) -> bool:
        return target in self.transitions.get(source, ())

    def check(self, source: str, target: str) -> None:
        if target not in self.choices:
            raise DomainError(
                f"{target!r} is not a status of a {self.noun}.",
                code="unknown_status",
                extra={"allowed": list(self.choices)},
            )
        if not self.allowed(source, target):
            if self.refused is not None:
                raise self.refused(source, target, sorted(self.transitions.get(source, ())))
            raise ConflictError(
                f"A {self.noun} that is {self.label(source)} cannot become {self.label(target)}.",
                code="invalid_transition",
                extra={"from": source, "to": target, "allowed": sorted(self.transitions.get(source, ()))},
            )

    def action(self, name: str) -> Action:
        for action in self.actions:
            if action.name == name:
                return action
        raise KeyError(name)

    def available_actions(self, obj, user) -> list[Action]:
        status = getattr(obj, self.field)
        return [action for action in self.actions if action.possible_from(self, status) and action.permitted(obj, user)]

    def check_action(self, obj, name: str, user) -> Action:
        """The action's rule, for a service to call before it acts (a system move passes user=None and
        skips the person's permission, never the condition)."""
        action = self.action(name)
        if action.permission and user is not None and not user.has_perm(action.permission):
            raise DomainError(action.refusal or "You may not do this.", code="not_allowed", status=403)
        if action.condition is not None and not action.condition(obj, user):
            raise ConflictError(
                action.refusal or f"This {self.noun} cannot be changed that way now.",
                code="not_allowed_now",
                extra={"action": name},
            )
        status = getattr(obj, self.field)
        if not action.possible_from(self, status):
            if action.to is not None:
                self.check(status, action.to)
            raise ConflictError(
                f"A {self.noun} that is {self.label(status)} cannot be changed that way ({action.label.lower()}).",
                code="invalid_transition",
                extra={"from": status, "action": name},
            )
        return action

    @transaction.atomic
    def transition(
        self,
        obj,
        to: str,
        *,
        by=None,
        note: str = "",
        via: str = "",
        locked: bool = False,
        fields: Mapping | None = None,
        **extra,
    ):
        """Lock the row (unless the caller holds it: `locked`), check the move from its stored status,
        set the status and `fields`, save, record, and return the saved object; the caller's copy gets
        the new values too. `extra` goes to the audit hook (an action name, what changed...)."""
        row = obj if locked else self.model._default_manager.select_for_update().get(pk=obj.pk)
        source = getattr(row, self.field)
        self.check(source, to)
        values = {self.field: to, **(fields or {})}
        for name, value in values.items():
            setattr(row, name, value)
        if self.clean_exclude is not None:
            row.full_clean(exclude=self.clean_exclude)
        row.save(update_fields=[*values, *_auto_now(self.model)])
        if row is not obj:
            for name in [*values, *_auto_now(self.model)]:
                setattr(obj, name, getattr(row, name))
        self.audit(Change(obj=row, source=source, target=to, by=by, note=note, via=via, extra=extra))
        return row

    @transaction.atomic
    def bulk_transition(
        self,
        queryset,
        to: str,
        *,
        sources: Iterable[str] | None = None,
        by=None,
        note: str = "",
        via: str = "",
        fields: Mapping | None = None,
    ) -> int:
        """Move every row of `queryset` whose status may go to `to` (and is one of `sources`, when
        given) in one UPDATE per source whose WHERE re-checks the status, so a row that moved meanwhile
        is left alone. Recorded by the bulk hook (one row per object) or else one StatusChange per source
        with the count. Returns how many moved."""
        if to not in self.choices:
            self.check("", to)
        candidates = [source for source, targets in self.transitions.items() if to in targets]
        if sources is not None:
            candidates = [source for source in candidates if source in set(sources)]
        values = {self.field: to, **(fields or {}), **dict.fromkeys(_auto_now(self.model), timezone.now())}
        moved = 0
        for source in candidates:
            rows = queryset.filter(**{self.field: source})
            if self.bulk_audit is None:
                count = rows.update(**values)
                if count:
                    _record_status_change(
                        Change(obj=None, source=source, target=to, by=by, note=note, via=via),
                        model=self.model,
                        count=count,
                    )
            else:
                ids = list(rows.select_for_update().values_list("pk", flat=True))
                count = 0
                for start in range(0, len(ids), _CHUNK):
                    chunk = ids[start : start + _CHUNK]
                    count += self.model._default_manager.filter(pk__in=chunk, **{self.field: source}).update(**values)
                    self.bulk_audit(
                        BulkChange(model=self.model, ids=chunk, source=source, target=to, by=by, note=note, via=via)
                    )
            moved += count
        return moved


def _auto_now(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]


def _record_status_change(change: Change, *, model=None, count: int = 1) -> None:
    obj = change.obj
    model = model or type(obj)
    workflow = workflow_for(model)
    StatusChange.objects.create(
        content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
        object_id=obj.pk if obj is not None else None,
        field=workflow.field if workflow else "status",
        from_status=change.source,
        to_status=change.target,
        by=change.by,
        via=change.via,
        note=change.note,
        count=count,
    )


def workflow_for(model_or_obj) -> Workflow | None:
    """The workflow declared for a model (or an object's model, or the model a proxy stands for)."""
    model = model_or_obj if isinstance(model_or_obj, type) else type(model_or_obj)
    return _WORKFLOWS.get(model) or _WORKFLOWS.get(model._meta.concrete_model)


def workflows() -> list[Workflow]:
    return list(_WORKFLOWS.values())


def available_actions(obj, user) -> list[Action]:
    """The actions this person may take on the object now: the buttons of pages and the admin, and
    what the API accepts."""
    workflow = workflow_for(obj)
    if workflow is None:
        raise LookupError(f"{type(obj).__name__} has no workflow.")
    return workflow.available_actions(obj, user)


def available_action_names(obj, user) -> list[str]:
    return [action.name for action in available_actions(obj, user)]


def admin_actions_permitted(actions: dict, workflow: Workflow, user) -> dict:
    """The admin's bulk actions ("<action>_selected") without those whose workflow action this person
    may not take; each object is still checked by the service when the action runs."""
    for action in workflow.actions:
        if action.permission and not user.has_perm(action.permission):
            actions.pop(f"{action.name}_selected", None)
    return actions
