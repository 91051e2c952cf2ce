"""django-q2 entry points: thin and idempotent (a fold or a scoring run twice changes nothing)."""

from analytics.services import contacts_score, rollup_fold


def fold_rollups() -> dict:
    return rollup_fold()


def score_contacts() -> dict:
    return contacts_score()
