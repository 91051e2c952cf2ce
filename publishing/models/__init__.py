from publishing.models.analysis import AnalysisEngine, AnalysisStatus, ContentAnalysis
from publishing.models.campaigns import Campaign, CampaignContent, CampaignEvent, Channel
from publishing.models.checks import BlockingCheck, LinkReport, ReadabilityTarget
from publishing.models.content import ChannelVersion, Content, ContentEvent, Review, ReviewQueue
from publishing.models.jobs import CampaignWeatherHold, JobEvent, MetricSnapshot, PublishingJob, WeatherHold

__all__ = [
    "AnalysisEngine", "AnalysisStatus", "BlockingCheck", "Campaign", "CampaignContent", "ContentAnalysis",
    "CampaignEvent", "CampaignWeatherHold", "Channel", "ChannelVersion", "Content", "ContentEvent",
    "JobEvent", "LinkReport", "MetricSnapshot", "PublishingJob", "ReadabilityTarget", "Review", "ReviewQueue",
    "WeatherHold",
]
