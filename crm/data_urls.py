"""Back-office pages for imports and exports (mounted under /contacts/ by crm/urls.py)."""

urlpatterns = []
