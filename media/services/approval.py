"""The approval workflow: one function moves an asset's status, checks the move and records it."""

from django.db import transaction
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.transitions import Action, Change, Workflow, available_action_names
from media.choices import ASSET_TRANSITIONS, TERMINAL_STATUSES, AssetStatusChoices, ReviewActionChoices
from media.models import Asset, AssetReview

APPROVE_PERMISSION = "media.approve_asset"
_REVIEWER_ACTIONS = {ReviewActionChoices.APPROVE, ReviewActionChoices.REJECT}


def _recorded(change: Change) -> None:
    AssetReview.objects.create(asset=change.obj, action=change.extra["action"], from_status=change.source,
                               to_status=change.target, by=change.by, note=change.note)


def _action(name: str) -> Action:
    moves = {source: target for (source, action), target in ASSET_TRANSITIONS.items() if action == name}
    return Action(name, ReviewActionChoices(name).label, to=next(iter(moves.values())), sources=set(moves),
                  permission=APPROVE_PERMISSION if name in _REVIEWER_ACTIONS else "media.change_asset",
                  refusal="Only an Approver can approve or reject assets.")


ASSET_WORKFLOW = Workflow(
    model=Asset, noun="asset", audit=_recorded, audit_model=AssetReview, clean_exclude=["file"],
    transitions={status: {target for (source, _), target in ASSET_TRANSITIONS.items() if source == status}
                 for status in AssetStatusChoices.values},
    terminal=TERMINAL_STATUSES,
    actions=[_action(name) for name in ReviewActionChoices.values],
)


def available_actions(asset: Asset, user) -> list[str]:
    """The review actions this person may take on the asset now (drives the buttons)."""
    return available_action_names(asset, user)


@transaction.atomic
def asset_transition(*, asset: Asset, action: str, by, note: str = "") -> Asset:
    locked = Asset.objects.select_for_update().get(pk=asset.pk)
    step = ASSET_WORKFLOW.action(action)
    if locked.status not in step.sources:
        raise ConflictError(
            f"An asset that is {locked.get_status_display().lower()} cannot be "
            f"{ReviewActionChoices(action).label.lower()}.",
            "invalid_transition", {"status": locked.status, "action": action},
        )
    if by is not None and not step.permitted(locked, by):
        raise DomainError(step.refusal, "not_allowed", status=403)
    if action == ReviewActionChoices.REJECT and not note.strip():
        raise DomainError("Say why the asset is rejected.", "note_required")
    # The row stays locked in this transaction; the mechanism saves it and updates the caller's copy.
    return ASSET_WORKFLOW.transition(asset, step.to, by=by, note=note.strip(), action=action)


def asset_submit(*, asset: Asset, by, note: str = "") -> Asset:
    return asset_transition(asset=asset, action=ReviewActionChoices.SUBMIT, by=by, note=note)


def asset_approve(*, asset: Asset, by, note: str = "") -> Asset:
    return asset_transition(asset=asset, action=ReviewActionChoices.APPROVE, by=by, note=note)


def asset_reject(*, asset: Asset, by, note: str = "") -> Asset:
    return asset_transition(asset=asset, action=ReviewActionChoices.REJECT, by=by, note=note)


def asset_archive(*, asset: Asset, by, note: str = "") -> Asset:
    return asset_transition(asset=asset, action=ReviewActionChoices.ARCHIVE, by=by, note=note)


def asset_restore(*, asset: Asset, by, note: str = "") -> Asset:
    return asset_transition(asset=asset, action=ReviewActionChoices.RESTORE, by=by, note=note)


def asset_attachable_check(*, asset: Asset, on_day=None) -> None:
    """Publishing calls this before scheduling content that carries the asset."""
    if asset.status != AssetStatusChoices.APPROVED:
        raise DomainError(
            f"“{asset.name}” is {asset.get_status_display().lower()}; only approved assets can be scheduled.",
            "asset_not_approved", {"asset_id": asset.pk, "status": asset.status},
        )
    day = on_day or timezone.localdate()
    if asset.rights_expire_on and asset.rights_expire_on < day:
        raise DomainError(
            f"The usage rights of “{asset.name}” expired on {asset.rights_expire_on:%Y-%m-%d}.",
            "asset_rights_expired", {"asset_id": asset.pk, "rights_expire_on": asset.rights_expire_on.isoformat()},
        )
