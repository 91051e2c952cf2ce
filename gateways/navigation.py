NAV_ITEMS = [
    ("Provider health", "gateways:provider-health", "gateways.view_provideraccount"),
]
