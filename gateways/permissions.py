"""Who manages provider accounts: Admins only (they hold host names, addresses and keys), in the back
office as in the API and the Django admin."""

from aicmo_site.roles import holds_admin_role


def manages_providers(user) -> bool:
    # The permission check first: it reads the cache every page has already filled, so the role's query
    # is made only for the few who hold the permission.
    return bool(user and user.has_perm("gateways.change_provideraccount") and holds_admin_role(user))
