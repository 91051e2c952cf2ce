from rest_framework.permissions import SAFE_METHODS, BasePermission

from aicmo_site.roles import holds_admin_role

_METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class RolePermission(BasePermission):
    """Authenticated, and holding the model permission the request needs (roles are groups).

    A view may name the permissions of its custom actions in `action_permissions`
    ({"approve": ["publishing.approve_content"]}); an action it does not name falls back to the
    method's model permission. A view without a model allows reads to every role and writes to
    Admins only, so forgetting to declare a permission never opens a write.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_superuser:
            return True
        action = getattr(view, "action", None)
        declared = getattr(view, "action_permissions", {}) or {}
        if action in declared:
            return user.has_perms(declared[action])
        model = self._model(view)
        if model is None:
            return request.method in SAFE_METHODS or holds_admin_role(user)
        verb = _METHOD_ACTIONS.get(request.method)
        if verb is None:
            return False
        meta = model._meta
        return user.has_perm(f"{meta.app_label}.{verb}_{meta.model_name}")

    @staticmethod
    def _model(view):
        queryset = getattr(view, "queryset", None)
        if queryset is None and hasattr(view, "get_queryset"):
            try:
                queryset = view.get_queryset()
            except (AssertionError, AttributeError, NotImplementedError):
                queryset = None
        return getattr(queryset, "model", None)
