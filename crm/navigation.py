NAV_ITEMS = [
    ("Contacts", "crm:contact-list", "crm.view_contact"),
    ("Segments", "crm:segment-list", "crm.view_segment"),
    ("Lists", "crm:list-index", "crm.view_contactlist"),
    ("Subscription forms", "crm:form-list", "crm.view_subscriptionform"),
    ("Enrichment runs", "crm:enrichment-run-list", "crm.view_enrichmentrun"),
    ("Imports", "crm:import-list", "crm.view_importrun"),
    ("GitHub repositories", "crm:repository-list", "crm.view_watchedrepository"),
]
