"""Routes mounted at the site root (path("", include("publishing.email.urls"))): the public ones reached
from inside emails and from providers, and the back-office pages of sends under /email/campaigns/, of
templates under /email/templates/, of layouts under /email/layouts/ and of the brand kit at /email/brand-kit/."""

from django.urls import path

from publishing.email.views import brand_pages, pages, preferences, send_pages, ses, template_pages, tracking

urlpatterns = [
    path("t/o/<str:token>", tracking.open_pixel, name="email-open"),
    path("t/c/<str:token>", tracking.click, name="email-click"),
    path("u/<str:token>", tracking.unsubscribe, name="email-unsubscribe"),
    path("u/<str:token>/topics/", preferences.topics, name="email-preferences"),
    path("email/events", tracking.provider_events, name="email-provider-events"),
    path("email/ses/notifications", ses.ses_notifications, name="email-ses-notifications"),
    path("email/campaigns/", pages.send_list, name="email-send-list"),
    path("email/campaigns/new/", send_pages.send_new, name="email-send-new"),
    path("email/campaigns/<id:campaign_id>/edit/", send_pages.send_edit, name="email-send-edit"),
    path("email/campaigns/<id:campaign_id>/", pages.send_detail, name="email-send-detail"),
    path("email/campaigns/<id:campaign_id>/action", pages.send_action, name="email-send-action"),
    path("email/campaigns/<id:campaign_id>/preview/", pages.send_preview, name="email-send-preview"),
    path("email/campaigns/<id:campaign_id>/deliveries/<id:delivery_id>/", pages.delivery_detail,
         name="email-delivery-detail"),
    path("email/templates/", template_pages.template_list, name="email-template-list"),
    path("email/templates/new/", template_pages.template_new, name="email-template-new"),
    path("email/templates/<id:template_id>/", template_pages.template_detail, name="email-template-detail"),
    path("email/templates/<id:template_id>/preview/", template_pages.template_preview,
         name="email-template-preview"),
    path("email/templates/<id:template_id>/delete", template_pages.template_delete, name="email-template-delete"),
    path("email/brand-kit/", brand_pages.brand_kit_page, name="email-brand-kit"),
    path("email/layouts/", brand_pages.layout_list, name="email-layout-list"),
    path("email/layouts/new/", brand_pages.layout_new, name="email-layout-new"),
    path("email/layouts/<id:layout_id>/", brand_pages.layout_detail, name="email-layout-detail"),
    path("email/layouts/<id:layout_id>/delete", brand_pages.layout_delete, name="email-layout-delete"),
]
