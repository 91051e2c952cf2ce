"""Roll-ups and scores over whatever the other apps' demo data holds, so dashboards are not empty."""

from analytics.services import contacts_score, rollup_rebuild


def seed() -> str:
    rollup = rollup_rebuild()
    scores = contacts_score()
    return f"roll-ups from {rollup['events_folded']} events, {scores['contacts_scored']} contacts scored"
