import datetime

import pytest

from aicmo_site.errors import ConflictError, DomainError
from media.services import (
    asset_approve,
    asset_archive,
    asset_attachable_check,
    asset_reject,
    asset_restore,
    asset_submit,
    available_actions,
)
from media.tests.factories import AssetFactory


def test_submit_then_approve_records_each_step(library, marketer, approver):
    asset = AssetFactory(library=library)
    asset_submit(asset=asset, by=marketer, note="For the summer campaign")
    asset_approve(asset=asset, by=approver, note="Fine")
    assert asset.status == "approved"
    steps = list(asset.reviews.order_by("at", "id").values_list("action", "from_status", "to_status", "by__username"))
    assert steps == [
        ("submit", "draft", "in_review", marketer.username),
        ("approve", "in_review", "approved", approver.username),
    ]


def test_marketer_cannot_approve(library, marketer):
    asset = AssetFactory(library=library)
    asset_submit(asset=asset, by=marketer)
    with pytest.raises(DomainError) as caught:
        asset_approve(asset=asset, by=marketer)
    assert caught.value.status_code == 403


def test_reject_needs_a_note_and_rejected_can_be_resubmitted(library, marketer, approver):
    asset = AssetFactory(library=library)
    asset_submit(asset=asset, by=marketer)
    with pytest.raises(DomainError):
        asset_reject(asset=asset, by=approver, note=" ")
    asset_reject(asset=asset, by=approver, note="Logo is cut off")
    asset_submit(asset=asset, by=marketer)
    assert asset.status == "in_review"


def test_moves_outside_the_table_are_refused(library, approver, marketer):
    asset = AssetFactory(library=library)
    with pytest.raises(ConflictError):
        asset_approve(asset=asset, by=approver)
    asset_archive(asset=asset, by=marketer)
    with pytest.raises(ConflictError):
        asset_submit(asset=asset, by=marketer)
    asset_restore(asset=asset, by=marketer)
    assert asset.status == "draft"


def test_available_actions_depend_on_status_and_role(library, marketer, approver):
    asset = AssetFactory(library=library, status="in_review")
    assert available_actions(asset, approver) == ["approve", "reject"]
    assert available_actions(asset, marketer) == ["archive"]


def test_only_approved_assets_with_valid_rights_are_attachable(library):
    draft = AssetFactory(library=library)
    with pytest.raises(DomainError) as caught:
        asset_attachable_check(asset=draft)
    assert caught.value.code == "asset_not_approved"
    expired = AssetFactory(library=library, status="approved", rights_expire_on=datetime.date(2020, 1, 1))
    with pytest.raises(DomainError) as caught:
        asset_attachable_check(asset=expired)
    assert caught.value.code == "asset_rights_expired"
    asset_attachable_check(asset=AssetFactory(library=library, status="approved"))
