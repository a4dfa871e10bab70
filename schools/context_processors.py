from .permissions import roles_held
from .scoping import NO_ACCESS


def access(request):
    """Expose the user's access to templates: the navigation asks capabilities of it
    (``access|can:"pd.use_pd"``); the home page shows a section per school role held."""
    acc = getattr(request, "access", NO_ACCESS)
    return {
        "access": acc,
        "nav": {**roles_held(acc), "any_role": bool(acc.all_roles)},
    }
