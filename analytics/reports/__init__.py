"""Read-only reports over analytics' roll-ups and the source tables (the selectors of analytics)."""

from analytics.reports.attribution import MODELS as ATTRIBUTION_MODELS
from analytics.reports.attribution import attribution
from analytics.reports.campaigns import campaign_report, campaign_reports
from analytics.reports.channels import channel_ranking
from analytics.reports.cohorts import cohorts
from analytics.reports.measures import METRICS
from analytics.reports.overview import overview, week_figures
from analytics.reports.trends import trend

__all__ = ["ATTRIBUTION_MODELS", "METRICS", "attribution", "campaign_report", "campaign_reports",
           "channel_ranking", "cohorts", "overview", "trend", "week_figures"]
