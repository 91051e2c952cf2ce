"""The approval workflow: one function moves an asset's status, checks the move and records it."""

from django.db import transaction
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from media.choices import ASSET_TRANSITIONS, AssetStatusChoices, ReviewActionChoices
from media.models import Asset, AssetReview

APPROVE_PERMISSION = "media.approve_asset"
_REVIEWER_ACTIONS = {ReviewActionChoices.APPROVE, ReviewActionChoices.REJECT}


def _allowed(action: str, user) -> bool:
    if action in _REVIEWER_ACTIONS:
        return user.has_perm(APPROVE_PERMISSION)
    return user.has_perm("media.change_asset")


def available_actions(asset: Asset, user) -> list[str]:
    """The review actions this person may take on the asset now (drives the buttons)."""
    return [
        action for (status, action) in ASSET_TRANSITIONS if status == asset.status and _allowed(action, user)
    ]


@transaction.atomic
def asset_transition(*, asset: Asset, action: str, by, note: str = "") -> Asset:
    locked = Asset.objects.select_for_update().get(pk=asset.pk)
    target = ASSET_TRANSITIONS.get((locked.status, action))
    if target is None:
        raise ConflictError(
            f"An asset that is {locked.get_status_display().lower()} cannot be "
            f"{ReviewActionChoices(action).label.lower()}.",
            "invalid_transition", {"status": locked.status, "action": action},
        )
    if by is not None and not _allowed(action, by):
        raise DomainError("Only an Approver can approve or reject assets.", "not_allowed", status=403)
    if action == ReviewActionChoices.REJECT and not note.strip():
        raise DomainError("Say why the asset is rejected.", "note_required")
    AssetReview.objects.create(asset=locked, action=action, from_status=locked.status, to_status=target, by=by,
                               note=note.strip())
    locked.status = target
    locked.full_clean(exclude=["file"])
    locked.save(update_fields=["status", "updated_at"])
    asset.status, asset.updated_at = locked.status, locked.updated_at
    return locked


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
