"""Content analysis: the AI prompt and schema (ai.py) and the local measures used when no AI provider
is configured (local.py). The workflow that stores and runs them is publishing.services.analysis."""
