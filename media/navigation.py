NAV_ITEMS = [("Asset library", "media:asset-grid", "media.view_asset")]
