"""The brand kit as template variables: every template and layout reads them as `brand.*`.

    brand.name  brand.logo_url  brand.logo_alt  brand.footer_address
    brand.colours.primary  brand.colours.secondary  brand.colours.text  brand.colours.background
    brand.fonts.heading  brand.fonts.body
    brand.social.website  brand.social.linkedin  brand.social.x  brand.social.facebook  brand.social.instagram
    brand.social.youtube   brand.social_links (each with .name and .url, for {% for %})
"""

from __future__ import annotations

from media.choices import AssetKindChoices, AssetStatusChoices
from publishing.email import conf
from publishing.email.models import BrandKit

SOCIAL_NETWORKS = (("website", "Website"), ("linkedin", "LinkedIn"), ("x", "X"), ("facebook", "Facebook"),
                   ("instagram", "Instagram"), ("youtube", "YouTube"))
BRAND_KIT_PK = 1  # one brand per installation: there are no teams to hold several


def brand_kit() -> BrandKit:
    """The saved kit, or the defaults (unsaved) before anyone has set one."""
    return BrandKit.objects.select_related("logo").filter(pk=BRAND_KIT_PK).first() or BrandKit(pk=BRAND_KIT_PK)


def logo_usable(asset) -> bool:
    return (asset is not None and asset.kind == AssetKindChoices.IMAGE
            and asset.status == AssetStatusChoices.APPROVED)


def logo_url(asset) -> str:
    """An absolute address, as the email is read far from this site; empty when the logo was withdrawn
    from use (archived or rejected) after being chosen."""
    if not logo_usable(asset):
        return ""
    url = asset.file.url
    return url if url.startswith(("http://", "https://")) else f"{conf.public_base_url()}{url}"


def brand_values(kit: BrandKit | None = None) -> dict:
    kit = kit or brand_kit()
    social = {key: getattr(kit, f"{key}_url") for key, _label in SOCIAL_NETWORKS}
    return {
        "name": kit.name,
        "logo_url": logo_url(kit.logo),
        "logo_alt": (kit.logo.alt_text if logo_usable(kit.logo) else "") or kit.name,
        "footer_address": kit.footer_address,
        "colours": {"primary": kit.primary_colour, "secondary": kit.secondary_colour, "text": kit.text_colour,
                    "background": kit.background_colour},
        "fonts": {"heading": kit.heading_font, "body": kit.body_font},
        "social": social,
        "social_links": [{"name": label, "url": social[key]} for key, label in SOCIAL_NETWORKS if social[key]],
    }

# What the "New layout" form starts from: the brand kit's logo, colours, fonts, footer and social links
# around one `content` block, in MJML so it is responsive without more work. The address keeps its lines
# by white-space rather than |linebreaksbr, whose <br> would show in the text part made from this source.
STARTER_LAYOUT = """<mjml>
  <mj-head>
    <mj-attributes>
      <mj-all font-family="{{ brand.fonts.body }}" />
      <mj-text color="{{ brand.colours.text }}" font-size="16px" line-height="1.5" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="{{ brand.colours.background }}">
    <mj-section background-color="{{ brand.colours.primary }}">
      <mj-column>
        {% if brand.logo_url %}<mj-image src="{{ brand.logo_url }}" alt="{{ brand.logo_alt }}" width="160px" />
        {% else %}<mj-text color="#ffffff" font-family="{{ brand.fonts.heading }}" font-size="24px">
          {{ brand.name }}</mj-text>{% endif %}
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff">
      <mj-column>
        {% block content %}<mj-text>Write the email here.</mj-text>{% endblock %}
      </mj-column>
    </mj-section>
    <mj-section>
      <mj-column>
        <mj-text font-size="12px">
          {% block footer %}<span style="white-space:pre-line">{{ brand.footer_address }}</span>{% endblock %}
          {% for link in brand.social_links %}<a href="{{ link.url }}">{{ link.name }}</a>
          {% if not forloop.last %} · {% endif %}{% endfor %}
          <br><a href="{{ unsubscribe_url }}">Unsubscribe</a>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""
