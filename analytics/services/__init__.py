from analytics.services.rollups import rollup_fold, rollup_rebuild
from analytics.services.scoring import contact_score_one, contacts_score

__all__ = ["contact_score_one", "contacts_score", "rollup_fold", "rollup_rebuild"]
